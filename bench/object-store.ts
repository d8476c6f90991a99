/**
 * The S3 driver on s3rver: one large blob through a real Wharf process (`blob-round.ts`: up,
 * down through Wharf and by the presigned redirect, peak RSS); then times a full `_catalog` walk
 * of N repositories. `node dist/bench/object-store.js [MiB] [repositories]` (default 1024 and 2000).
 */
import { blobRound } from './blob-round.js';
import { startWharfProcess, type WharfProcess } from '../test/helpers/process.js';
import { startS3rver, type RunningS3rver } from '../test/helpers/s3rver.js';
import { createStorageDriver } from '../src/storage/drivers.js';

function wharfOn(s3: RunningS3rver, root: string, extra: Record<string, string> = {}): Promise<WharfProcess> {
  const env: Record<string, string> = { REGISTRY_STORAGE: 's3', REGISTRY_LOG_ACCESSLOG_DISABLED: 'true', REGISTRY_WHARF_S3_DELIMITERLISTING: 'false', ...extra };
  for (const [key, value] of Object.entries(s3.parameters(root))) if (key !== 'delimiterlisting') env[`REGISTRY_STORAGE_S3_${key.toUpperCase()}`] = String(value);
  return startWharfProcess(env);
}

const seconds = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

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
    const blob = await blobRound((extra) => wharfOn(s3, '/bench-blob', extra), sizeMiB, 'bench/s3');
    const catalog = await catalogRound(s3, repositories);
    console.log(JSON.stringify({ store: 's3rver', sizeMiB, ...blob, repositories, catalog }));
  } finally {
    await s3.close();
  }
}

await main();
