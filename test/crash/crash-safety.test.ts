/**
 * Crash safety (issue 3): 200 images (random layers, some shared between images and repositories)
 * are pushed by several concurrent pushers against the real server process on a filesystem root,
 * with a mix of monolithic `POST ?digest=`, `POST`+`PUT` and chunked `POST`+`PATCH`…+`PUT` blob
 * uploads and manifest PUTs by tag and by digest, while Wharf is killed with SIGKILL at random
 * moments (every 0.3–1.5 s) and restarted on the same root and a new port. The pushers follow the
 * new port, resume interrupted chunked uploads from the size the status request reports, or leave
 * some of them unfinished on purpose.
 *
 * Afterwards, with the server running:
 * - every push acknowledged with 201 (blob or manifest) is pullable with the right digest (re-hashed);
 * - every `blobs/**\/data` file hashes to the digest its path names, and `blobs/` holds nothing else;
 * - every link file under `repositories/` holds exactly `sha256:<64 hex>` and names a stored blob;
 * - every unfinished upload answers a status whose Range matches its `data` file, holds a prefix
 *   of what was sent, and can be finished; whatever is left is removed by the upload purger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { FilesystemDriver } from '../../src/storage/filesystem/filesystem-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { purgeUploads } from '../../src/registry/uploads/purge.js';

const IMAGES = 200;
const PUSHERS = 6;
const REPOSITORIES = 8;
const KILL_MIN_MS = 300;
const KILL_MAX_MS = 1500;
const ABANDON_PROBABILITY = 0.25;
const MAX_ATTEMPTS = 60;
/**
 * Kills stop after this long so that the test stays near two minutes on a loaded machine (each
 * restart costs a Node start-up); the pushes left then finish without kills. The summary says how
 * many images were completed while the kills went on.
 */
const KILL_PHASE_MS = 80_000;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
const LINK_CONTENT = /^sha256:[0-9a-f]{64}$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const randomInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The request did not get an answer: the server died under it. */
class Interrupted extends Error {}

/**
 * The running Wharf, replaced after every kill; `up` resolves to the URL of the live instance.
 * Starting Node takes a second or more on a loaded machine, so the next instance is started on the
 * same root right after each kill, as a standby that takes over at the next kill: every instance
 * still starts on a root that a SIGKILL has just left behind, and the pushers see little downtime.
 */
class CrashingServer {
  process!: WharfProcess;
  up!: Promise<string>;
  kills = 0;
  starts = 0;
  downMs = 0;
  killingEndedAt: number | undefined;
  private standby: Promise<WharfProcess> | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    this.process = await startWharfProcess(this.env);
    this.starts++;
    this.up = Promise.resolve(this.process.url);
  }

  private startStandby(): void {
    this.standby = startWharfProcess(this.env);
    this.standby.catch(() => {});
    this.starts++;
  }

  /** Kills and replaces the server at random moments until stop(). A failed start fails every request. */
  startKilling(): void {
    this.startStandby();
    const until = Date.now() + KILL_PHASE_MS;
    this.loop = (async () => {
      while (!this.stopping && Date.now() < until) {
        await sleep(randomInt(KILL_MIN_MS, KILL_MAX_MS));
        if (this.stopping || Date.now() >= until) break;
        let resolveUp!: (url: string) => void;
        let rejectUp!: (err: unknown) => void;
        this.up = new Promise((resolve, reject) => {
          resolveUp = resolve;
          rejectUp = reject;
        });
        this.up.catch(() => {});
        const down = Date.now();
        await this.process.stop('SIGKILL');
        this.kills++;
        try {
          this.process = await this.standby!;
        } catch (err) {
          rejectUp(new Error(`Wharf did not start after kill ${this.kills}: ${(err as Error).message}`));
          throw err;
        }
        this.downMs += Date.now() - down;
        resolveUp(this.process.url);
        this.startStandby();
      }
      this.killingEndedAt = Date.now();
    })();
    this.loop.catch(() => {});
  }

  async stopKilling(): Promise<void> {
    this.stopping = true;
    try {
      await this.loop;
    } finally {
      const standby = await this.standby?.catch(() => undefined);
      await standby?.stop('SIGKILL');
    }
  }

  /** One request to the live instance; Interrupted when no answer came back. */
  async request(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const base = await this.up;
    try {
      const response = await fetch(`${base}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(20_000), ...init });
      const body = Buffer.from(await response.arrayBuffer());
      return { status: response.status, headers: response.headers, body };
    } catch (err) {
      throw new Interrupted(`${init.method ?? 'GET'} ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

interface Ack {
  readonly repo: string;
  readonly digest: string;
}

interface AbandonedUpload {
  readonly repo: string;
  readonly id: string;
  readonly content: Buffer;
}

class Stats {
  imagesAttempted = 0;
  blobPushesAttempted = 0;
  manifestPushesAttempted = 0;
  requests = 0;
  interrupted = 0;
  resumed = 0;
  abandoned = 0;
  readonly ackedBlobs: Ack[] = [];
  readonly ackedManifests: (Ack & { readonly tag?: string })[] = [];
  readonly abandonedUploads: AbandonedUpload[] = [];
  readonly failures: string[] = [];
  /** When each image's manifest was acknowledged. */
  readonly imageDoneAt: number[] = [];
}

/** The path part of a Location (which names the port of the instance that answered). */
function locationPath(location: string | null): string {
  if (location === null) throw new Error('no Location header');
  const url = new URL(location, 'http://placeholder');
  return `${url.pathname}${url.search}`;
}

function withQuery(path: string, query: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${query}`;
}

/** The upload's data file size on disk (or undefined). */
async function storedUploadSize(root: string, repo: string, id: string): Promise<number | undefined> {
  try {
    return (await fs.stat(nodePath.join(root, 'docker/registry/v2/repositories', repo, '_uploads', id, 'data'))).size;
  } catch {
    return undefined;
  }
}

async function storedUploadData(root: string, repo: string, id: string): Promise<Buffer> {
  return fs.readFile(nodePath.join(root, 'docker/registry/v2/repositories', repo, '_uploads', id, 'data'));
}

/** `Range: 0-<last>` → the stored size; '0-0' is ambiguous (0 or 1 byte), so it gives both. */
function sizesFromRange(range: string | null): number[] {
  const match = /^0-(\d+)$/.exec(range ?? '');
  if (match === null) throw new Error(`bad Range header ${JSON.stringify(range)}`);
  const last = Number(match[1]);
  return last === 0 ? [0, 1] : [last + 1];
}

class Pusher {
  constructor(
    private readonly server: CrashingServer,
    private readonly stats: Stats,
    private readonly root: string,
  ) {}

  private async req(path: string, init: RequestInit = {}) {
    this.stats.requests++;
    try {
      return await this.server.request(path, init);
    } catch (err) {
      if (err instanceof Interrupted) this.stats.interrupted++;
      throw err;
    }
  }

  private ack(repo: string, digest: string, response: { headers: Headers }): void {
    const header = response.headers.get('docker-content-digest');
    if (header !== digest) this.stats.failures.push(`201 for ${repo}@${digest} with Docker-Content-Digest ${header}`);
    this.stats.ackedBlobs.push({ repo, digest });
  }

  /** Pushes one blob until a 201 acknowledges it. */
  async pushBlob(repo: string, content: Buffer): Promise<void> {
    const digest = sha256(content);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      this.stats.blobPushesAttempted++;
      const method = Math.random();
      try {
        if (method < 0.25) {
          const res = await this.req(`/v2/${repo}/blobs/uploads/?digest=${digest}`, {
            method: 'POST', body: content, headers: { 'Content-Type': 'application/octet-stream' },
          });
          if (res.status === 201) return this.ack(repo, digest, res);
          this.stats.failures.push(`monolithic POST ${repo}@${digest}: ${res.status} ${res.body.toString()}`);
        } else if (method < 0.5) {
          const start = await this.req(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
          if (start.status !== 202) {
            this.stats.failures.push(`POST ${repo}: ${start.status} ${start.body.toString()}`);
            continue;
          }
          const res = await this.req(withQuery(locationPath(start.headers.get('location')), `digest=${digest}`), {
            method: 'PUT', body: content, headers: { 'Content-Type': 'application/octet-stream' },
          });
          if (res.status === 201) return this.ack(repo, digest, res);
          this.stats.failures.push(`PUT ${repo}@${digest}: ${res.status} ${res.body.toString()}`);
        } else {
          if (await this.chunked(repo, content, digest)) return;
        }
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
        await sleep(20);
      }
    }
    throw new Error(`blob ${repo}@${digest} not acknowledged after ${MAX_ATTEMPTS} attempts`);
  }

  /**
   * A chunked upload. When the server dies under it, the upload is either abandoned (left for the
   * purger) or resumed at the size a status request reports. True when acknowledged.
   */
  private async chunked(repo: string, content: Buffer, digest: string): Promise<boolean> {
    const start = await this.req(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) {
      this.stats.failures.push(`POST ${repo}: ${start.status} ${start.body.toString()}`);
      return false;
    }
    const path = locationPath(start.headers.get('location'));
    const id = start.headers.get('docker-upload-uuid') ?? '';
    const chunk = Math.max(1, Math.ceil(content.length / randomInt(2, 6)));
    let offset = 0;
    for (let resumes = 0; ; ) {
      try {
        while (offset < content.length) {
          const end = Math.min(offset + chunk, content.length);
          const res = await this.req(path, {
            method: 'PATCH',
            body: content.subarray(offset, end),
            headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
          });
          if (res.status !== 202) {
            this.stats.failures.push(`PATCH ${repo} ${id} ${offset}-${end - 1}: ${res.status} ${res.body.toString()}`);
            return false;
          }
          if (res.headers.get('range') !== `0-${end - 1}`) this.stats.failures.push(`PATCH ${id}: Range ${res.headers.get('range')} after ${end} bytes`);
          offset = end;
        }
        const res = await this.req(withQuery(path, `digest=${digest}`), { method: 'PUT' });
        if (res.status === 201) {
          this.ack(repo, digest, res);
          return true;
        }
        this.stats.failures.push(`PUT ${repo}@${digest} (chunked, ${resumes} resumes): ${res.status} ${res.body.toString()}`);
        return false;
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
      }
      if (Math.random() < ABANDON_PROBABILITY || resumes >= 10) {
        this.stats.abandoned++;
        this.stats.abandonedUploads.push({ repo, id, content });
        return false;
      }
      const resumed = await this.resumeOffset(repo, path, id, content);
      if (resumed === undefined) return false;
      offset = resumed;
      resumes++;
      this.stats.resumed++;
    }
  }

  /** Asks the (restarted) server where the upload stands; checks it against the disk. */
  private async resumeOffset(repo: string, path: string, id: string, content: Buffer): Promise<number | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let res;
      try {
        res = await this.req(path, { method: 'GET' });
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
        continue;
      }
      // 404: the commit went through before the answer was lost; push again to get a 201.
      if (res.status === 404) return undefined;
      if (res.status !== 204) {
        this.stats.failures.push(`GET upload status ${id}: ${res.status} ${res.body.toString()}`);
        return undefined;
      }
      const candidates = sizesFromRange(res.headers.get('range'));
      const onDisk = await storedUploadSize(this.root, repo, id);
      if (onDisk === undefined || !candidates.includes(onDisk)) {
        this.stats.failures.push(`upload ${id}: status Range ${res.headers.get('range')} but data file has ${onDisk} bytes`);
        return undefined;
      }
      const stored = await storedUploadData(this.root, repo, id);
      if (stored.length > content.length || !stored.equals(content.subarray(0, stored.length))) {
        this.stats.failures.push(`upload ${id}: stored ${stored.length} bytes are not a prefix of what was sent`);
        return undefined;
      }
      return onDisk;
    }
    return undefined;
  }

  /** Pushes a manifest (by tag or by digest) until a 201 acknowledges it. */
  async pushManifest(repo: string, reference: string | undefined, bytes: Buffer, mediaType: string): Promise<void> {
    const digest = sha256(bytes);
    const ref = reference ?? digest;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      this.stats.manifestPushesAttempted++;
      let res;
      try {
        res = await this.req(`/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } });
      } catch (err) {
        if (!(err instanceof Interrupted)) throw err;
        await sleep(20);
        continue;
      }
      if (res.status !== 201) {
        this.stats.failures.push(`PUT manifest ${repo}:${ref}: ${res.status} ${res.body.toString()}`);
        continue;
      }
      const header = res.headers.get('docker-content-digest');
      if (header !== digest) this.stats.failures.push(`manifest 201 for ${repo}:${ref} with Docker-Content-Digest ${header}`);
      this.stats.ackedManifests.push({ repo, digest, ...(reference !== undefined && { tag: reference }) });
      return;
    }
    throw new Error(`manifest ${repo}:${ref} not acknowledged after ${MAX_ATTEMPTS} attempts`);
  }

  async pushImage(index: number, sharedLayers: readonly Buffer[]): Promise<void> {
    this.stats.imagesAttempted++;
    const repo = `crash/app${index % REPOSITORIES}`;
    const docker = index % 4 === 3;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, image: index, nonce: randomBytes(8).toString('hex') }));
    const layers: Buffer[] = [];
    for (let i = randomInt(1, 3); i > 0; i--) {
      layers.push(Math.random() < 0.5 ? sharedLayers[randomInt(0, sharedLayers.length - 1)]! : randomBytes(randomInt(1, 384 * 1024)));
    }
    await this.pushBlob(repo, config);
    for (const layer of layers) await this.pushBlob(repo, layer);
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
      config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: docker ? DOCKER_LAYER : OCI_LAYER, digest: sha256(l), size: l.length })),
    };
    const byDigest = index % 5 === 4;
    await this.pushManifest(repo, byDigest ? undefined : `image-${index}`, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
    this.stats.imageDoneAt.push(Date.now());
  }
}

/** Every regular file below `dir`, as paths relative to it. */
async function walk(dir: string, base = dir): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = nodePath.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(full, base)));
    else files.push(nodePath.relative(base, full));
  }
  return files;
}

async function hashFile(file: string): Promise<string> {
  return sha256(await fs.readFile(file));
}

/** Runs `fn` over `items` with `width` at a time. */
async function forEachLimit<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

test('acknowledged pushes survive SIGKILL at random moments; storage stays consistent', { timeout: 240_000 }, async (t) => {
  const dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-crash-'));
  const root = nodePath.join(dir, 'root');
  const v2 = nodePath.join(root, 'docker/registry/v2');
  const server = new CrashingServer({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root});
  const stats = new Stats();
  const began = Date.now();
  try {
    await server.start();
    const sharedLayers = Array.from({ length: 24 }, () => randomBytes(randomInt(1, 256 * 1024)));
    server.startKilling();
    let next = 0;
    await Promise.all(Array.from({ length: PUSHERS }, async () => {
      const pusher = new Pusher(server, stats, root);
      while (next < IMAGES) await pusher.pushImage(next++, sharedLayers);
    }));
    await server.stopKilling();
    const pushedMs = Date.now() - began;

    // 1. Every acknowledged push is pullable with the right digest.
    const blobs = [...new Map(stats.ackedBlobs.map((a) => [`${a.repo}@${a.digest}`, a])).values()];
    let verified = 0;
    const problems: string[] = [];
    await forEachLimit(blobs, 8, async ({ repo, digest }) => {
      const res = await server.request(`/v2/${repo}/blobs/${digest}`);
      if (res.status !== 200) problems.push(`GET blob ${repo}@${digest}: ${res.status} ${res.body.toString().slice(0, 200)}`);
      else if (sha256(res.body) !== digest) problems.push(`GET blob ${repo}@${digest}: content hashes to ${sha256(res.body)}`);
      else verified++;
    });
    await forEachLimit(stats.ackedManifests, 8, async ({ repo, digest, tag }) => {
      for (const ref of tag === undefined ? [digest] : [tag, digest]) {
        const res = await server.request(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT } });
        if (res.status !== 200) problems.push(`GET manifest ${repo}:${ref}: ${res.status} ${res.body.toString().slice(0, 200)}`);
        else if (sha256(res.body) !== digest || res.headers.get('docker-content-digest') !== digest) {
          problems.push(`GET manifest ${repo}:${ref}: got ${sha256(res.body)} (header ${res.headers.get('docker-content-digest')}), acknowledged ${digest}`);
        }
      }
      verified++;
    });

    // 2. blobs/ holds only data files that hash to the digest their path names.
    const blobFiles = await walk(nodePath.join(v2, 'blobs'));
    const storedBlobs = new Set<string>();
    for (const file of blobFiles) {
      const match = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})\/data$/.exec(file.split(nodePath.sep).join('/'));
      if (match === null || !match[2]!.startsWith(match[1]!)) {
        problems.push(`unexpected file in blobs/: ${file}`);
        continue;
      }
      const actual = await hashFile(nodePath.join(v2, 'blobs', file));
      if (actual !== `sha256:${match[2]}`) problems.push(`blobs/${file} hashes to ${actual}`);
      storedBlobs.add(`sha256:${match[2]}`);
    }

    // 3. Every link holds exactly a digest, of a blob that is stored; nothing else lies around.
    const repoFiles = await walk(nodePath.join(v2, 'repositories'));
    let links = 0;
    const uploadDirs = new Set<string>();
    for (const file of repoFiles.map((f) => f.split(nodePath.sep).join('/'))) {
      const full = nodePath.join(v2, 'repositories', file);
      const upload = /^(.+)\/_uploads\/([^/]+)\/(data|startedat)$/.exec(file);
      if (upload !== null) {
        uploadDirs.add(`${upload[1]}/${upload[2]}`);
        if (upload[3] === 'startedat') {
          const text = (await fs.readFile(full, 'utf8')).trim();
          if (Number.isNaN(new Date(text).getTime())) problems.push(`${file} holds ${JSON.stringify(text)}`);
        }
        continue;
      }
      if (!file.endsWith('/link')) {
        if (!/\/_referrers\//.test(file)) problems.push(`unexpected file in repositories/: ${file}`);
        continue;
      }
      links++;
      const content = await fs.readFile(full, 'utf8');
      if (!LINK_CONTENT.test(content)) problems.push(`link ${file} holds ${JSON.stringify(content)}`);
      else if (!storedBlobs.has(content)) problems.push(`link ${file} names ${content}, which is not in blobs/`);
    }
    // Upload directories whose data file is missing (the commit moved it, the kill came before the cleanup).
    for (const repoDir of await fs.readdir(nodePath.join(v2, 'repositories', 'crash')).catch(() => [] as string[])) {
      for (const id of await fs.readdir(nodePath.join(v2, 'repositories', 'crash', repoDir, '_uploads')).catch(() => [] as string[])) {
        uploadDirs.add(`crash/${repoDir}/${id}`);
      }
    }

    // 4. Unfinished uploads: status matches the disk; tracked ones hold a prefix of what was sent and can be finished.
    let resumedAfter = 0;
    let statusChecked = 0;
    const tracked = new Map(stats.abandonedUploads.map((u) => [`${u.repo}/${u.id}`, u]));
    for (const key of uploadDirs) {
      const slash = key.lastIndexOf('/');
      const repo = key.slice(0, slash);
      const id = key.slice(slash + 1);
      const res = await server.request(`/v2/${repo}/blobs/uploads/${id}`);
      const onDisk = await storedUploadSize(root, repo, id);
      statusChecked++;
      if (onDisk === undefined) {
        if (res.status !== 404) problems.push(`upload ${key} without data answers ${res.status}`);
        continue;
      }
      if (res.status !== 204 || !sizesFromRange(res.headers.get('range')).includes(onDisk)) {
        problems.push(`upload ${key}: status ${res.status} Range ${res.headers.get('range')}, data file ${onDisk} bytes`);
        continue;
      }
      const upload = tracked.get(key);
      if (upload === undefined) continue;
      const stored = await storedUploadData(root, repo, id);
      if (stored.length > upload.content.length || !stored.equals(upload.content.subarray(0, stored.length))) {
        problems.push(`upload ${key}: the stored ${stored.length} bytes are not a prefix of what was sent`);
        continue;
      }
      if (resumedAfter >= 8) continue;
      const digest = sha256(upload.content);
      const path = `/v2/${repo}/blobs/uploads/${id}`;
      if (stored.length < upload.content.length) {
        const patch = await server.request(path, {
          method: 'PATCH',
          body: upload.content.subarray(stored.length),
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${stored.length}-${upload.content.length - 1}` },
        });
        if (patch.status !== 202) {
          problems.push(`resuming upload ${key} at ${stored.length}: ${patch.status} ${patch.body.toString()}`);
          continue;
        }
      }
      const put = await server.request(`${path}?digest=${digest}`, { method: 'PUT' });
      if (put.status !== 201) {
        problems.push(`finishing upload ${key}: ${put.status} ${put.body.toString()}`);
        continue;
      }
      const pulled = await server.request(`/v2/${repo}/blobs/${digest}`);
      if (pulled.status !== 200 || sha256(pulled.body) !== digest) problems.push(`finished upload ${key}: pull ${pulled.status}`);
      else resumedAfter++;
    }

    // 5. The purger removes whatever is left.
    const driver = wrapDriver(await FilesystemDriver.open({ rootDirectory: root }));
    const purged = await purgeUploads(driver, { olderThan: new Date(), dryRun: false });
    for (const repoDir of await fs.readdir(nodePath.join(v2, 'repositories', 'crash')).catch(() => [] as string[])) {
      const left = await fs.readdir(nodePath.join(v2, 'repositories', 'crash', repoDir, '_uploads')).catch(() => [] as string[]);
      if (left.length > 0) problems.push(`crash/${repoDir}/_uploads still holds ${left.join(', ')} after the purge`);
    }

    const summary = {
      images: IMAGES,
      pushesAttempted: stats.blobPushesAttempted + stats.manifestPushesAttempted,
      blobPushesAttempted: stats.blobPushesAttempted,
      manifestPushesAttempted: stats.manifestPushesAttempted,
      requests: stats.requests,
      interruptedRequests: stats.interrupted,
      kills: server.kills,
      imagesCompletedWhileKilling: stats.imageDoneAt.filter((at) => server.killingEndedAt === undefined || at <= server.killingEndedAt).length,
      serverStarts: server.starts,
      downSeconds: Math.round(server.downMs / 100) / 10,
      acknowledged: stats.ackedBlobs.length + stats.ackedManifests.length,
      acknowledgedBlobs: stats.ackedBlobs.length,
      acknowledgedManifests: stats.ackedManifests.length,
      verified,
      blobFilesRehashed: blobFiles.length,
      linksChecked: links,
      uploadsResumedDuringRun: stats.resumed,
      uploadsAbandoned: stats.abandoned,
      unfinishedUploadsOnDisk: uploadDirs.size,
      unfinishedStatusChecked: statusChecked,
      unfinishedFinished: resumedAfter,
      purged: purged.purged.length,
      pushSeconds: Math.round(pushedMs / 100) / 10,
      totalSeconds: Math.round((Date.now() - began) / 100) / 10,
    };
    t.diagnostic(`crash safety: ${JSON.stringify(summary)}`);
    console.log('crash safety:', summary);

    assert.deepEqual(stats.failures, [], 'requests the server answered wrongly during the run');
    assert.deepEqual(problems, [], 'problems found after the run');
    assert.equal(verified, blobs.length + stats.ackedManifests.length);
    assert.equal(stats.ackedManifests.length, IMAGES, 'every image was eventually acknowledged');
    assert.ok(server.kills >= 10, `the server was killed ${server.kills} times`);
    assert.ok(stats.resumed > 0, 'some interrupted uploads were resumed');
  } finally {
    await server.stopKilling();
    await server.process?.stop('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  }
});
