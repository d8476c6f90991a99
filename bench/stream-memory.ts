/**
 * Pushes one large blob to a real Wharf process in a single PUT, pulls it back with its digest
 * checked, and reports throughput and the server's peak RSS (VmHWM). Memory must stay flat
 * whatever the blob size: `node dist/bench/stream-memory.js [MiB]` (default 1024).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { blobContent, peakRssMiB, sendStreaming } from './stream-client.js';
import { startWharfProcess } from '../test/helpers/process.js';

const MIB = 1024 * 1024;

/** `sizeMiB` of pseudo-random bytes: one random MiB, its first bytes varied per MiB. */
const SEED = createHash('sha512').update(String(Date.now())).digest();




async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const work = await mkdtemp(join(tmpdir(), 'wharf-memory-'));
  const wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root'), REGISTRY_LOG_ACCESSLOG_DISABLED: 'true' });
  try {
    const pid = wharf.child.pid ?? 0;
    const baseline = await peakRssMiB(pid);
    const digestHash = createHash('sha256');
    for (const chunk of blobContent(sizeMiB, SEED)) digestHash.update(chunk);
    const digest = `sha256:${digestHash.digest('hex')}`;

    const start = await sendStreaming(`${wharf.url}/v2/bench/memory/blobs/uploads/`, 'POST');
    const location = String(start.headers['location']);
    let t = process.hrtime.bigint();
    const put = await sendStreaming(`${location}?digest=${digest}`, 'PUT', Readable.from(blobContent(sizeMiB, SEED)));
    const upSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
    const afterUpload = await peakRssMiB(pid);

    t = process.hrtime.bigint();
    const get = await sendStreaming(`${wharf.url}/v2/bench/memory/blobs/${digest}`, 'GET');
    const downSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (get.status !== 200 || get.digest !== digest || get.bytes !== sizeMiB * MIB) throw new Error('download did not match');
    const afterDownload = await peakRssMiB(pid);

    console.log(JSON.stringify({
      sizeMiB,
      uploadMiBps: Math.round(sizeMiB / upSeconds),
      downloadMiBps: Math.round(sizeMiB / downSeconds),
      peakRssMiB: { atStart: Math.round(baseline), afterUpload: Math.round(afterUpload), afterDownload: Math.round(afterDownload) },
    }));
  } finally {
    await wharf.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
