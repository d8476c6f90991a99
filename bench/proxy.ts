/**
 * The pull-through cache's throughput: a Wharf upstream and a Wharf cache (`upstreams:`), both real
 * processes on filesystem storage. Pushes one blob of N MiB (default 256) to the upstream, then
 * pulls it through the cache cold (fetched, streamed and stored at once), warm (from the cache's
 * storage), and straight from the upstream for reference; every pull's digest is checked. Reports
 * MiB/s and the cache's peak RSS: `node dist/bench/proxy.js [MiB]`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { blobContent, peakRssMiB, sendStreaming } from './stream-client.js';
import { startWharfProcess } from '../test/helpers/process.js';

const MIB = 1024 * 1024;





async function timedPull(url: string, digest: string, sizeMiB: number): Promise<number> {
  const t = process.hrtime.bigint();
  const got = await sendStreaming(url, 'GET');
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (got.status !== 200 || got.digest !== digest || got.bytes !== sizeMiB * MIB) throw new Error(`pull of ${url} answered ${got.status} with ${got.bytes} bytes`);
  return Math.round(sizeMiB / seconds);
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 256);
  const work = await mkdtemp(join(tmpdir(), 'wharf-proxy-bench-'));
  const upstream = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'upstream'), REGISTRY_LOG_ACCESSLOG_DISABLED: 'true' });
  const config = join(work, 'cache.yml');
  await writeFile(config, `version: 0.1\nlog: {level: info, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: ${join(work, 'cache')}}}\nupstreams:\n  - {name: up, url: "${upstream.url}", prefixes: [up/]}\n`);
  const cache = await startWharfProcess({}, config);
  try {
    const seed = createHash('sha512').update(String(Date.now())).digest();
    const hash = createHash('sha256');
    for (const chunk of blobContent(sizeMiB, seed)) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const start = await sendStreaming(`${upstream.url}/v2/bench/layer/blobs/uploads/`, 'POST');
    const put = await sendStreaming(`${String(start.headers['location'])}?digest=${digest}`, 'PUT', Readable.from(blobContent(sizeMiB, seed)));
    if (put.status !== 201) throw new Error(`push answered ${put.status}`);

    const direct = await timedPull(`${upstream.url}/v2/bench/layer/blobs/${digest}`, digest, sizeMiB);
    const cold = await timedPull(`${cache.url}/v2/up/bench/layer/blobs/${digest}`, digest, sizeMiB);
    const warm = await timedPull(`${cache.url}/v2/up/bench/layer/blobs/${digest}`, digest, sizeMiB);
    await upstream.stop();
    const warmUpstreamStopped = await timedPull(`${cache.url}/v2/up/bench/layer/blobs/${digest}`, digest, sizeMiB);
    console.log(JSON.stringify({
      sizeMiB,
      upstreamDirectMiBps: direct,
      coldMiBps: cold,
      warmMiBps: warm,
      warmUpstreamStoppedMiBps: warmUpstreamStopped,
      cachePeakRssMiB: Math.round(await peakRssMiB(cache.child.pid ?? 0)),
    }));
  } finally {
    await cache.stop();
    await upstream.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
