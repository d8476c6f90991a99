/**
 * Pushes one large blob to a real Wharf process in a single PUT, pulls it back with its digest
 * checked, and reports throughput and the server's peak RSS (VmHWM). Memory must stay flat
 * whatever the blob size: `node dist/bench/stream-memory.js [MiB]` (default 1024).
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startWharfProcess } from '../test/helpers/process.js';

const MIB = 1024 * 1024;

/** `sizeMiB` of pseudo-random bytes: one random MiB, its first bytes varied per MiB. */
const SEED = createHash('sha512').update(String(Date.now())).digest();

function* content(sizeMiB: number): Generator<Buffer> {
  const base = SEED;
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += base.length) base.copy(block, i);
  for (let i = 0; i < sizeMiB; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) / 1024;
}

function send(url: string, method: string, body?: Readable): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; hash: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } : {} }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, hash: hash.digest('hex'), bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const work = await mkdtemp(join(tmpdir(), 'wharf-memory-'));
  const wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root'), REGISTRY_LOG_ACCESSLOG_DISABLED: 'true' });
  try {
    const pid = wharf.child.pid ?? 0;
    const baseline = await peakRss(pid);
    const digestHash = createHash('sha256');
    for (const chunk of content(sizeMiB)) digestHash.update(chunk);
    const digest = `sha256:${digestHash.digest('hex')}`;

    const start = await send(`${wharf.url}/v2/bench/memory/blobs/uploads/`, 'POST');
    const location = String(start.headers['location']);
    let t = process.hrtime.bigint();
    const put = await send(`${location}?digest=${digest}`, 'PUT', Readable.from(content(sizeMiB)));
    const upSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
    const afterUpload = await peakRss(pid);

    t = process.hrtime.bigint();
    const get = await send(`${wharf.url}/v2/bench/memory/blobs/${digest}`, 'GET');
    const downSeconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (get.status !== 200 || `sha256:${get.hash}` !== digest || get.bytes !== sizeMiB * MIB) throw new Error('download did not match');
    const afterDownload = await peakRss(pid);

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
