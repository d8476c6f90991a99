/**
 * The pull-through cache's throughput: a Wharf upstream and a Wharf cache (`upstreams:`), both real
 * processes on filesystem storage. Pushes one blob of N MiB (default 256) to the upstream, then
 * pulls it through the cache cold (fetched, streamed and stored at once), warm (from the cache's
 * storage), and straight from the upstream for reference; every pull's digest is checked. Reports
 * MiB/s and the cache's peak RSS: `node dist/bench/proxy.js [MiB]`.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startWharfProcess } from '../test/helpers/process.js';

const MIB = 1024 * 1024;

function* content(sizeMiB: number, seed: Buffer): Generator<Buffer> {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += seed.length) seed.copy(block, i);
  for (let i = 0; i < sizeMiB; i++) {
    const chunk = Buffer.from(block);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly digest: string;
  readonly bytes: number;
}

function send(url: string, method: string, body?: Readable): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } : {} }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, digest: `sha256:${hash.digest('hex')}`, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function timedPull(url: string, digest: string, sizeMiB: number): Promise<number> {
  const t = process.hrtime.bigint();
  const got = await send(url, 'GET');
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
    for (const chunk of content(sizeMiB, seed)) hash.update(chunk);
    const digest = `sha256:${hash.digest('hex')}`;
    const start = await send(`${upstream.url}/v2/bench/layer/blobs/uploads/`, 'POST');
    const put = await send(`${String(start.headers['location'])}?digest=${digest}`, 'PUT', Readable.from(content(sizeMiB, seed)));
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
      cachePeakRssMiB: Math.round(await peakRss(cache.child.pid ?? 0)),
    }));
  } finally {
    await cache.stop();
    await upstream.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
