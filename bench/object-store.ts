/**
 * The S3 driver on s3rver: pushes one large blob to a real Wharf process in a single PUT, pulls it
 * back through Wharf (redirects off) and by the presigned redirect (on), digests checked, and
 * reports throughput and Wharf's peak RSS (VmHWM); then times a full `_catalog` walk of N
 * repositories. `node dist/bench/object-store.js [MiB] [repositories]` (default 1024 and 2000).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { blobContent, peakRssMiB, sendStreaming } from './stream-client.js';
import { startWharfProcess, type WharfProcess } from '../test/helpers/process.js';
import { startS3rver, type RunningS3rver } from '../test/helpers/s3rver.js';
import { createStorageDriver } from '../src/storage/drivers.js';

const MIB = 1024 * 1024;
const SEED = createHash('sha512').update(String(Date.now())).digest();




function wharfOn(s3: RunningS3rver, root: string, extra: Record<string, string> = {}): Promise<WharfProcess> {
  const env: Record<string, string> = { REGISTRY_STORAGE: 's3', REGISTRY_LOG_ACCESSLOG_DISABLED: 'true', REGISTRY_WHARF_S3_DELIMITERLISTING: 'false', ...extra };
  for (const [key, value] of Object.entries(s3.parameters(root))) if (key !== 'delimiterlisting') env[`REGISTRY_STORAGE_S3_${key.toUpperCase()}`] = String(value);
  return startWharfProcess(env);
}

const seconds = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

async function blobRound(s3: RunningS3rver, sizeMiB: number): Promise<Record<string, unknown>> {
  const wharf = await wharfOn(s3, '/bench-blob', { REGISTRY_STORAGE_REDIRECT_DISABLE: 'true' });
  try {
    const pid = wharf.child.pid ?? 0;
    const baseline = await peakRssMiB(pid);
    const hash = createHash('sha256');
    for (const chunk of blobContent(sizeMiB, SEED)) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const start = await sendStreaming(`${wharf.url}/v2/bench/s3/blobs/uploads/`, 'POST');
    const location = String(start.headers['location']);
    let t = process.hrtime.bigint();
    const put = await sendStreaming(`${location}?digest=${digest}`, 'PUT', Readable.from(blobContent(sizeMiB, SEED)));
    const up = seconds(t);
    if (put.status !== 201) throw new Error(`PUT answered ${put.status}`);
    const afterUpload = await peakRssMiB(pid);
    t = process.hrtime.bigint();
    const get = await sendStreaming(`${wharf.url}/v2/bench/s3/blobs/${digest}`, 'GET');
    const down = seconds(t);
    if (get.status !== 200 || get.digest !== digest || get.bytes !== sizeMiB * MIB) throw new Error('download did not match');
    const afterDownload = await peakRssMiB(pid);
    return {
      uploadMiBps: Math.round(sizeMiB / up),
      downloadThroughWharfMiBps: Math.round(sizeMiB / down),
      peakRssMiB: { atStart: Math.round(baseline), afterUpload: Math.round(afterUpload), afterDownload: Math.round(afterDownload) },
    };
  } finally {
    await wharf.stop();
  }
}

async function catalogRound(s3: RunningS3rver, repositories: number): Promise<Record<string, unknown>> {
  const root = '/bench-catalog';
  const driver = await createStorageDriver('s3', s3.parameters(root));
  const names = Array.from({ length: repositories }, (_, i) => `bench/r${String(i).padStart(5, '0')}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map((name) =>
      driver.putContent(`/docker/registry/v2/repositories/${name}/_manifests/tags/latest/current/link`, Buffer.from(`sha256:${'0'.repeat(64)}`))));
  }
  const results: Record<string, unknown> = {};
  for (const [mode, delimiter] of [['walk (s3rver)', 'false']] as const) {
    const wharf = await wharfOn(s3, root, { REGISTRY_WHARF_S3_DELIMITERLISTING: delimiter });
    try {
      const t = process.hrtime.bigint();
      let url: string | undefined = `${wharf.url}/v2/_catalog?n=1000`;
      let seen = 0;
      while (url) {
        const res = await fetch(url);
        const body = (await res.json()) as { repositories: string[] };
        seen += body.repositories.length;
        const link = res.headers.get('link');
        url = link ? new URL(/<([^>]+)>/.exec(link)?.[1] ?? '', wharf.url).href : undefined;
      }
      if (seen !== repositories) throw new Error(`the catalog listed ${seen} of ${repositories}`);
      results[mode] = { seconds: Number(seconds(t).toFixed(2)) };
    } finally {
      await wharf.stop();
    }
  }
  return results;
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 1024);
  const repositories = Number(process.argv[3] ?? 2000);
  const s3 = await startS3rver();
  try {
    const blob = await blobRound(s3, sizeMiB);
    const catalog = await catalogRound(s3, repositories);
    console.log(JSON.stringify({ store: 's3rver', sizeMiB, ...blob, repositories, catalog }));
  } finally {
    await s3.close();
  }
}

await main();
