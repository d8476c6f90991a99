/**
 * One large blob through a real Wharf process on an object store (the object-store benchmarks):
 * pushed in a single streamed PUT, pulled back through Wharf (redirects off) and by the store's
 * presigned redirect URL (on), digests checked; throughput and Wharf's peak RSS (VmHWM).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { blobContent, peakRssMiB, sendStreaming } from './stream-client.js';
import type { WharfProcess } from '../test/helpers/process.js';

const MIB = 1024 * 1024;
const seconds = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

/** Starts Wharf on the store with these extra REGISTRY_* variables. */
export type StartWharf = (extra: Record<string, string>) => Promise<WharfProcess>;

export async function blobRound(start: StartWharf, sizeMiB: number, name: string): Promise<Record<string, unknown>> {
  const seed = createHash('sha512').update(String(Date.now())).digest();
  const hash = createHash('sha256');
  for (const chunk of blobContent(sizeMiB, seed)) hash.update(chunk);
  const digest = `sha256:${hash.digest('hex')}`;
  const wharf = await start({ REGISTRY_STORAGE_REDIRECT_DISABLE: 'true' });
  let result: Record<string, unknown>;
  try {
    const pid = wharf.child.pid ?? 0;
    const baseline = await peakRssMiB(pid);
    const started = await sendStreaming(`${wharf.url}/v2/${name}/blobs/uploads/`, 'POST');
    const location = String(started.headers['location']);
    let t = process.hrtime.bigint();
    const put = await sendStreaming(`${location}?digest=${digest}`, 'PUT', Readable.from(blobContent(sizeMiB, seed)));
    const up = seconds(t);
    if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
    const afterUpload = await peakRssMiB(pid);
    t = process.hrtime.bigint();
    const get = await sendStreaming(`${wharf.url}/v2/${name}/blobs/${digest}`, 'GET');
    const down = seconds(t);
    if (get.status !== 200 || get.digest !== digest || get.bytes !== sizeMiB * MIB) throw new Error('download did not match');
    const afterDownload = await peakRssMiB(pid);
    result = {
      uploadMiBps: Math.round(sizeMiB / up),
      downloadThroughWharfMiBps: Math.round(sizeMiB / down),
      peakRssMiB: { atStart: Math.round(baseline), afterUpload: Math.round(afterUpload), afterDownload: Math.round(afterDownload) },
    };
  } finally {
    await wharf.stop();
  }
  const redirecting = await start({});
  try {
    const answer = await fetch(`${redirecting.url}/v2/${name}/blobs/${digest}`, { redirect: 'manual' });
    if (answer.status !== 307) throw new Error(`blob GET answered ${answer.status}, not 307`);
    const t = process.hrtime.bigint();
    const get = await sendStreaming(answer.headers.get('location') ?? '', 'GET');
    const down = seconds(t);
    if (get.status !== 200 || get.digest !== digest) throw new Error('the redirect download did not match');
    return { ...result, downloadByRedirectMiBps: Math.round(sizeMiB / down) };
  } finally {
    await redirecting.stop();
  }
}
