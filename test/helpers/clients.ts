/**
 * Real container clients (skopeo, podman, buildah) for end-to-end tests, each confined to a private
 * temp directory: its own vfs graph root and run root, registries.conf, policy.json, containers.conf,
 * auth file, HOME, XDG_RUNTIME_DIR and TMPDIR, so nothing reads or writes the machine's
 * configuration. Plus helpers that verify what a client pulled: every blob re-hashed and the layer
 * tars unpacked and compared.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import assert from 'node:assert/strict';
import { runOk, type RunResult, run } from './process.js';

export interface Clients {
  /** The temp directory holding everything the clients write. */
  readonly dir: string;
  /** The environment every client runs with. */
  readonly env: NodeJS.ProcessEnv;
  skopeo(args: readonly string[], timeoutMs?: number): Promise<string>;
  podman(args: readonly string[], timeoutMs?: number): Promise<string>;
  buildah(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** Runs any program with the clients' environment, without throwing on failure. */
  raw(program: string, args: readonly string[], timeoutMs?: number): Promise<RunResult>;
  remove(): Promise<void>;
}

/**
 * Prepares a private client environment under `dir`. `insecureHosts` (`127.0.0.1:<port>`) are
 * marked insecure (plain HTTP) in registries.conf, so podman and buildah need no `--tls-verify`.
 */
export async function makeClients(dir: string, insecureHosts: readonly string[]): Promise<Clients> {
  const home = join(dir, 'home');
  const graph = join(dir, 'graph');
  const runroot = join(dir, 'run');
  const tmp = join(dir, 'tmp');
  const xdg = join(dir, 'xdg');
  for (const d of [home, graph, runroot, tmp, xdg, join(home, '.config', 'containers')]) await mkdir(d, { recursive: true, mode: 0o700 });

  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  // containers/image also looks for $HOME/.config/containers/policy.json before /etc.
  await writeFile(join(home, '.config', 'containers', 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const registries = join(dir, 'registries.conf');
  await writeFile(registries, [
    'unqualified-search-registries = []',
    'short-name-mode = "disabled"',
    ...insecureHosts.flatMap((h) => ['', '[[registry]]', `location = "${h}"`, 'insecure = true']),
    '',
  ].join('\n'));
  await writeFile(join(dir, 'auth.json'), JSON.stringify({ auths: {} }));
  const storageConf = join(dir, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${graph}"\nrunroot = "${runroot}"\n`);
  const containersConf = join(dir, 'containers.conf');
  await writeFile(containersConf, [
    '[engine]',
    'events_logger = "file"',
    `events_logfile_path = "${join(dir, 'events.log')}"`,
    'cgroup_manager = "cgroupfs"',
    `tmp_dir = "${join(dir, 'libpod-tmp')}"`,
    'database_backend = "boltdb"',
    '[network]',
    `network_config_dir = "${join(dir, 'networks')}"`,
    '',
  ].join('\n'));

  const env: NodeJS.ProcessEnv = {
    HOME: home,
    XDG_RUNTIME_DIR: xdg,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    TMPDIR: tmp,
    CONTAINERS_REGISTRIES_CONF: registries,
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_CONF: containersConf,
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
    BUILDAH_ISOLATION: 'chroot',
  };
  const storageFlags = ['--root', graph, '--runroot', runroot, '--storage-driver', 'vfs'];
  const opts = (timeoutMs?: number) => ({ env, timeoutMs: timeoutMs ?? 180_000 });

  return {
    dir,
    env,
    skopeo: (args, timeoutMs) => runOk('skopeo', ['--policy', policy, '--registries-conf', registries, ...args], opts(timeoutMs)),
    podman: (args, timeoutMs) => runOk('podman', [...storageFlags, '--tmpdir', join(dir, 'libpod-tmp'), '--events-backend', 'file', '--cgroup-manager', 'cgroupfs', ...args], opts(timeoutMs)),
    buildah: (args, timeoutMs) => runOk('buildah', [...storageFlags, ...args], opts(timeoutMs)),
    raw: (program, args, timeoutMs) => run(program, args, opts(timeoutMs)),
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sha256Hex(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** SHA-256 of a file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export interface Manifestish {
  mediaType?: string;
  config?: { digest: string; size: number; mediaType: string };
  layers?: { digest: string; size: number; mediaType: string }[];
  manifests?: { digest: string; size: number; mediaType: string; platform?: { architecture: string; os: string } }[];
}

export interface VerifiedLayout {
  /** Digest of the tagged top-level manifest or index. */
  readonly top: string;
  /** Every blob reached from the top (manifests, configs, layers), each re-hashed and size-checked. */
  readonly digests: Set<string>;
  /** Each image manifest reached, by digest. */
  readonly manifests: Map<string, Manifestish>;
}

/**
 * Walks an OCI image layout from the manifest tagged `tag` (or the only one): re-hashes every
 * reachable blob and checks its size against its descriptor. Fails on any mismatch.
 */
export async function verifyLayout(dir: string, tag?: string): Promise<VerifiedLayout> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number; annotations?: Record<string, string> }[] };
  const entry = tag === undefined ? index.manifests[0] : index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry !== undefined, `layout ${dir} has ${tag ?? 'a manifest'}`);
  const digests = new Set<string>();
  const manifests = new Map<string, Manifestish>();
  const blobPath = (digest: string) => join(dir, 'blobs', ...digest.split(':'));
  const check = async (digest: string, size: number): Promise<void> => {
    const path = blobPath(digest);
    assert.equal(await hashFile(path), digest, `blob ${digest} re-hashes to its digest`);
    assert.equal((await stat(path)).size, size, `blob ${digest} has the size of its descriptor`);
    digests.add(digest);
  };
  const walk = async (digest: string, size: number): Promise<void> => {
    await check(digest, size);
    const m = JSON.parse(await readFile(blobPath(digest), 'utf8')) as Manifestish;
    if (m.manifests !== undefined) {
      for (const child of m.manifests) await walk(child.digest, child.size);
      return;
    }
    manifests.set(digest, m);
    if (m.config !== undefined) await check(m.config.digest, m.config.size);
    for (const layer of m.layers ?? []) await check(layer.digest, layer.size);
  };
  await walk(entry.digest, entry.size);
  return { top: entry.digest, digests, manifests };
}

/** Unpacks the layers of the image manifest `digest` of an OCI layout into `dest` with tar, in order. */
export async function unpackImage(layout: string, manifest: Manifestish, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const layer of manifest.layers ?? []) {
    await runOk('tar', ['-x', '--no-same-owner', '-f', join(layout, 'blobs', ...layer.digest.split(':')), '-C', dest], { timeoutMs: 120_000 });
  }
}

/** Every regular file below `dir`, relative path → SHA-256 of its content. */
export async function fileHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.set(relative(dir, path), await hashFile(path));
    }
  };
  await walk(dir);
  return out;
}

/** The expected `fileHashes` of an image built from these layer file sets (later layers win). */
export function expectedFiles(layerFiles: ReadonlyArray<Readonly<Record<string, Buffer | string>>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const files of layerFiles) for (const [path, data] of Object.entries(files)) out.set(path, `sha256:${sha256Hex(data)}`);
  return out;
}

/** Asserts that two file maps are equal, with a readable diff. */
export function assertSameFiles(actual: Map<string, string>, expected: Map<string, string>, what: string): void {
  assert.deepEqual(Object.fromEntries([...actual].sort()), Object.fromEntries([...expected].sort()), `${what}: unpacked files match`);
}
