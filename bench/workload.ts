/**
 * The workload, run once against one fresh server. Each phase yields one or more figures plus the
 * server's CPU seconds and peak RSS and the harness's own CPU during it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client, forEachConcurrent, MiB, type BlobSpec } from './http.js';
import { runLoad } from './load.js';
import { ProcWatch, type PhaseUse, type PhaseWindow } from './proc.js';

export interface Sizes {
  readonly monolithicMiB: number;
  readonly chunkedMiB: number;
  readonly chunkMiB: number;
  readonly parallel: number;
  readonly parallelMiB: number;
  readonly connections: number;
  readonly loadMs: number;
  readonly warmupMs: number;
  readonly tags: number;
  readonly repos: number;
  /** Concurrent connections for tag and repository pushes. */
  readonly pushConcurrency: number;
  /** Full listings timed per run (the figure is their median). */
  readonly listings: number;
}

export const FULL: Sizes = {
  monolithicMiB: 512, chunkedMiB: 512, chunkMiB: 16, parallel: 20, parallelMiB: 32,
  connections: 64, loadMs: 10_000, warmupMs: 1_000,
  tags: 10_000, repos: 2_000, pushConcurrency: 16, listings: 5,
};

export const QUICK: Sizes = {
  monolithicMiB: 32, chunkedMiB: 32, chunkMiB: 16, parallel: 20, parallelMiB: 2,
  connections: 64, loadMs: 2_000, warmupMs: 300,
  tags: 300, repos: 100, pushConcurrency: 16, listings: 2,
};

export const PHASES = ['monolithic', 'chunked', 'download', 'manifest-get', 'manifest-head', 'blob-head', 'blob-get', 'tags', 'catalog', 'parallel'] as const;
export type Phase = (typeof PHASES)[number];

/** Blobs made (hashed) once per harness invocation; storage is fresh for every run. */
export interface Blobs {
  readonly monolithic: BlobSpec;
  readonly chunked: BlobSpec;
  readonly parallel: readonly BlobSpec[];
}

export function makeBlobs(sizes: Sizes, make: (id: number, mib: number) => BlobSpec): Blobs {
  return {
    monolithic: make(1, sizes.monolithicMiB),
    chunked: make(2, sizes.chunkedMiB),
    parallel: Array.from({ length: sizes.parallel }, (_, i) => make(100 + i, sizes.parallelMiB)),
  };
}

export interface Figure {
  readonly value: number;
  readonly use: PhaseUse;
  /** Extra raw detail (request counts, errors, first listing time, ...). */
  readonly detail?: Record<string, number>;
}

export type FigureKey =
  | 'upload.monolithic' | 'upload.chunked' | 'download' | 'upload.parallel'
  | 'manifest.get.rps' | 'manifest.get.p50' | 'manifest.get.p99'
  | 'manifest.head.rps' | 'manifest.head.p50' | 'manifest.head.p99'
  | 'blob.head.rps' | 'blob.head.p50' | 'blob.head.p99'
  | 'blob.get.rps' | 'blob.get.p50' | 'blob.get.p99'
  | 'tags.push' | 'tags.list' | 'repos.push' | 'catalog.list';

export type RunFigures = Partial<Record<FigureKey, Figure>>;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BASE = 'bench/base';

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

interface Image {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly layer: Buffer;
  readonly layerDigest: string;
}

function manifest(image: Image, annotation: string): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.configDigest, size: image.config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: image.layerDigest, size: image.layer.length }],
    annotations: { 'org.example.bench': annotation },
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
}

export async function runWorkload(url: string, pid: number, sizes: Sizes, blobs: Blobs, phases: ReadonlySet<Phase>, log: (line: string) => void): Promise<{ figures: RunFigures; peakRssMiB: number; windows: PhaseWindow[] }> {
  const client = new Client(url, Math.max(sizes.connections, sizes.parallel, sizes.pushConcurrency));
  const watch = new ProcWatch(pid);
  const figures: RunFigures = {};
  const measure = async <T>(label: string, fn: () => Promise<T>): Promise<{ result: T; use: PhaseUse }> => {
    watch.begin(label);
    const result = await fn();
    return { result, use: watch.end() };
  };
  const mibps = (mib: number, use: PhaseUse): number => mib / use.wallS;

  try {
    // A small image every read phase and the tag and catalog phases use.
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(4096);
    const image: Image = { config, configDigest: sha256(config), layer, layerDigest: sha256(layer) };
    await client.pushSmall(BASE, image.config, image.configDigest);
    await client.pushSmall(BASE, image.layer, image.layerDigest);
    const latest = manifest(image, 'latest');
    const latestDigest = sha256(latest);
    await client.expect(201, 'PUT', `/v2/${BASE}/manifests/latest`, { 'content-type': OCI_MANIFEST }, latest);

    if (phases.has('monolithic') || phases.has('download')) {
      const { use } = await measure('monolithic', () => client.uploadMonolithic('bench/monolithic', blobs.monolithic));
      figures['upload.monolithic'] = { value: mibps(sizes.monolithicMiB, use), use };
      log(`    monolithic upload ${figures['upload.monolithic'].value.toFixed(1)} MiB/s`);
    }
    if (phases.has('chunked')) {
      const { use } = await measure('chunked', () => client.uploadChunked('bench/chunked', blobs.chunked, sizes.chunkMiB));
      figures['upload.chunked'] = { value: mibps(sizes.chunkedMiB, use), use };
      log(`    chunked upload ${figures['upload.chunked'].value.toFixed(1)} MiB/s`);
    }
    if (phases.has('download')) {
      const { use } = await measure('download', () => client.download('bench/monolithic', blobs.monolithic));
      figures.download = { value: mibps(sizes.monolithicMiB, use), use };
      log(`    download ${figures.download.value.toFixed(1)} MiB/s`);
    }

    const loads: [Phase, 'manifest.get' | 'manifest.head' | 'blob.head' | 'blob.get', 'GET' | 'HEAD', string][] = [
      ['manifest-get', 'manifest.get', 'GET', `/v2/${BASE}/manifests/latest`],
      ['manifest-head', 'manifest.head', 'HEAD', `/v2/${BASE}/manifests/${latestDigest}`],
      ['blob-head', 'blob.head', 'HEAD', `/v2/${BASE}/blobs/${image.layerDigest}`],
      // The image's config blob, as every pull GETs it first (a few hundred bytes).
      ['blob-get', 'blob.get', 'GET', `/v2/${BASE}/blobs/${image.configDigest}`],
    ];
    for (const [phase, key, method, path] of loads) {
      if (!phases.has(phase)) continue;
      const result = await runLoad({
        host: client.host, port: client.port, method, path, headers: { accept: OCI_MANIFEST },
        connections: sizes.connections, durationMs: sizes.loadMs, warmupMs: sizes.warmupMs, status: 200,
      }, () => watch.begin(phase));
      const use = watch.end();
      if (result.errors > 0) log(`    ${phase}: ${result.errors} errors`);
      const detail = { requests: result.requests, errors: result.errors, seconds: result.seconds, maxMs: result.maxMs };
      figures[`${key}.rps`] = { value: result.rps, use, detail };
      figures[`${key}.p50`] = { value: result.p50Ms, use };
      figures[`${key}.p99`] = { value: result.p99Ms, use };
      log(`    ${phase} ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
    }

    if (phases.has('tags')) {
      const repo = 'bench/tags';
      await client.expect(201, 'POST', `/v2/${repo}/blobs/uploads/?mount=${image.configDigest}&from=${BASE}`);
      await client.expect(201, 'POST', `/v2/${repo}/blobs/uploads/?mount=${image.layerDigest}&from=${BASE}`);
      const { use } = await measure('tags-push', () => forEachConcurrent(sizes.tags, sizes.pushConcurrency, async (i) => {
        const tag = `t${i}`;
        await client.expect(201, 'PUT', `/v2/${repo}/manifests/${tag}`, { 'content-type': OCI_MANIFEST }, manifest(image, tag));
      }));
      figures['tags.push'] = { value: sizes.tags / use.wallS, use };
      log(`    ${sizes.tags} tags pushed, ${figures['tags.push'].value.toFixed(0)} manifest PUTs/s`);
      figures['tags.list'] = await timeListing('tags-list', sizes, watch, async () => {
        const tags = await client.listAll(`/v2/${repo}/tags/list`, 'tags');
        if (tags.length !== sizes.tags) throw new Error(`tag list: ${tags.length} tags, want ${sizes.tags}`);
      });
      log(`    tag list of ${sizes.tags}: ${(figures['tags.list'].value * 1000).toFixed(1)} ms`);
    }

    if (phases.has('catalog')) {
      const { use } = await measure('repos-push', () => forEachConcurrent(sizes.repos, sizes.pushConcurrency, async (i) => {
        const repo = `bench/repos/r${String(i).padStart(5, '0')}`;
        await client.expect(201, 'POST', `/v2/${repo}/blobs/uploads/?mount=${image.configDigest}&from=${BASE}`);
        await client.expect(201, 'POST', `/v2/${repo}/blobs/uploads/?mount=${image.layerDigest}&from=${BASE}`);
        await client.expect(201, 'PUT', `/v2/${repo}/manifests/latest`, { 'content-type': OCI_MANIFEST }, latest);
      }));
      figures['repos.push'] = { value: sizes.repos / use.wallS, use };
      log(`    ${sizes.repos} repositories pushed, ${figures['repos.push'].value.toFixed(0)} repos/s`);
      figures['catalog.list'] = await timeListing('catalog-list', sizes, watch, async () => {
        const repos = await client.listAll('/v2/_catalog?n=1000', 'repositories');
        if (repos.length < sizes.repos) throw new Error(`catalog: ${repos.length} repositories, want ≥ ${sizes.repos}`);
      });
      log(`    catalog of ${sizes.repos}: ${(figures['catalog.list'].value * 1000).toFixed(1)} ms`);
    }

    if (phases.has('parallel')) {
      const { use } = await measure('parallel', () => Promise.all(blobs.parallel.map((b, i) => client.uploadMonolithic(`bench/parallel${i % 4}`, b))));
      figures['upload.parallel'] = { value: mibps(sizes.parallel * sizes.parallelMiB, use), use };
      log(`    ${sizes.parallel} parallel pushes ${figures['upload.parallel'].value.toFixed(1)} MiB/s`);
    }
    return { figures, peakRssMiB: watch.wholeRunPeakMiB(), windows: watch.windows };
  } finally {
    client.close();
  }
}

/** Times `listings` full listings; the figure is their median (seconds), the first (cold) is kept in detail. */
async function timeListing(label: string, sizes: Sizes, watch: ProcWatch, list: () => Promise<void>): Promise<Figure> {
  const times: number[] = [];
  watch.begin(label);
  for (let i = 0; i < sizes.listings; i++) {
    const t0 = performance.now();
    await list();
    times.push((performance.now() - t0) / 1000);
  }
  const use = watch.end();
  const n = times.length;
  return {
    value: median(times),
    use: { ...use, serverCpuS: use.serverCpuS / n, loadgenCpuS: use.loadgenCpuS / n, wallS: use.wallS / n },
    detail: { first: times[0] ?? 0, listings: n },
  };
}

export { MiB };
