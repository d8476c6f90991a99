/**
 * End to end with the Docker engine and containerd (Debian's `docker.io` and `containerd`, private
 * daemons: test/helpers/container-daemons.ts) against the real server: pulls of an image and of a
 * multi-arch index that skopeo pushed, pushes to a registry holding none of the blobs (checked
 * byte for byte: pulled back with skopeo, or fetched blob by blob), cross-repository mounts,
 * `docker manifest` lists, pulls by digest, and `docker login` / `ctr --user` through the built-in
 * token service.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildImage, buildIndex, imageBlobs, writeLayout, type BuiltImage } from '../helpers/oci-layout.js';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { makeClients, sha256Hex, verifyLayout, type Clients, type Manifestish } from '../helpers/clients.js';
import { OCI_MANIFEST } from '../helpers/client.js';
import { startContainerDaemons, type ContainerDaemons } from '../helpers/container-daemons.js';
import { USERS, tokenServiceYaml, writeHtpasswd } from '../auth/helpers.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** The platform docker picks from an index on this machine. */
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

const single = buildImage([{ 'etc/hello.txt': 'hello, docker and containerd\n' }, { 'data/big.bin': randomBytes(3 * 1024 * 1024) }], { architecture: HOST_ARCH, os: 'linux' });
const amd64 = buildImage([{ 'etc/arch': 'amd64\n' }, { 'usr/lib/amd64.so': randomBytes(40_000) }]);
const arm64 = buildImage([{ 'etc/arch': 'arm64\n' }, { 'usr/lib/arm64.so': randomBytes(50_000) }], { architecture: 'arm64', os: 'linux' });
const index = buildIndex([amd64, arm64]);
const hostImage: BuiltImage = HOST_ARCH === 'arm64' ? arm64 : amd64;

interface Setup {
  readonly work: string;
  /** Holds the images skopeo pushed: e2e/single:v1 and e2e/multi:v1. */
  readonly source: WharfProcess;
  /** Starts empty: pushes to it upload every blob. */
  readonly fresh: WharfProcess;
  /** The built-in token service; authenticated users may do everything, anonymous nothing. */
  readonly guarded: WharfProcess;
  readonly clients: Clients;
  readonly daemons: ContainerDaemons;
}

/** Access-log lines of `wharf` for requests to `repo`. */
function requestsTo(wharf: WharfProcess, repo: string): { method: string; path: string; status: number }[] {
  return wharf.logs
    .filter((l) => l['msg'] === 'request' && typeof l['path'] === 'string' && (l['path'] as string).startsWith(`/v2/${repo}/`))
    .map((l) => ({ method: String(l['method']), path: String(l['path']), status: Number(l['status']) }));
}

/** Pulls `ref` back with skopeo (`--all` for an index) and re-hashes every blob; returns the layout's walk. */
async function pullBack(setup: Setup, ref: string, all = false): Promise<Awaited<ReturnType<typeof verifyLayout>>> {
  const out = join(setup.work, `back-${randomBytes(4).toString('hex')}`);
  await setup.clients.skopeo(['copy', ...(all ? ['--all'] : []), '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:t`]);
  return verifyLayout(out, 't');
}

/** The columns of `ctr images ls` for `ref`: [ref, media type, digest, ...]. */
async function ctrImage(daemons: ContainerDaemons, ref: string): Promise<string[]> {
  const line = (await daemons.ctr(['images', 'ls'])).split('\n').find((l) => l.startsWith(`${ref} `));
  assert.ok(line !== undefined, `ctr lists ${ref}`);
  return line.trim().split(/\s+/);
}

/**
 * Fetches the manifest `ref` of `repo` as stored (every media type accepted) and every blob it
 * names, each checked against its digest and size; returns the manifest's digest and body.
 */
async function fetchVerified(wharf: WharfProcess, repo: string, ref: string): Promise<{ digest: string; manifest: Manifestish; blobs: Map<string, Buffer> }> {
  const res = await fetch(`${wharf.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: [DOCKER_MANIFEST, OCI_MANIFEST].join(', ') } });
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = `sha256:${sha256Hex(body)}`;
  assert.equal(res.headers.get('docker-content-digest'), digest);
  const manifest = JSON.parse(body.toString('utf8')) as Manifestish;
  const blobs = new Map<string, Buffer>();
  for (const blob of [manifest.config, ...(manifest.layers ?? [])]) {
    assert.ok(blob !== undefined);
    const got = Buffer.from(await (await fetch(`${wharf.url}/v2/${repo}/blobs/${blob.digest}`)).arrayBuffer());
    assert.equal(`sha256:${sha256Hex(got)}`, blob.digest, `blob ${blob.digest} re-hashes to its digest`);
    assert.equal(got.length, blob.size);
    blobs.set(blob.digest, got);
  }
  return { digest, manifest, blobs };
}

async function inspect(daemons: ContainerDaemons, ref: string): Promise<{ Id: string; RepoDigests: string[]; Architecture: string }> {
  const [image] = JSON.parse(await daemons.docker(['image', 'inspect', ref])) as { Id: string; RepoDigests: string[]; Architecture: string }[];
  assert.ok(image !== undefined);
  return image;
}

describe('e2e: docker and containerd', () => {
  let setup: Setup | undefined;
  const get = (): Setup => {
    assert.ok(setup !== undefined, 'set up');
    return setup;
  };

  before(async () => {
    requireProgram('skopeo');
    const work = join(tmpdir(), `wharf-dc-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true });
    const tokenConfig = join(work, 'token.yml');
    await writeFile(tokenConfig, tokenServiceYaml(join(work, 'guarded'), 'wharf-dc', await writeHtpasswd(work)));
    const plain = (name: string) => startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, name), REGISTRY_STORAGE_DELETE_ENABLED: 'true' });
    const [source, fresh, guarded] = await Promise.all([plain('source'), plain('fresh'), startWharfProcess({}, tokenConfig)]);
    const clients = await makeClients(join(work, 'clients'), [source.host, fresh.host, guarded.host]);
    // Short: the daemons' unix sockets live under it.
    const daemons = await startContainerDaemons(join(tmpdir(), `wdc-${randomBytes(3).toString('hex')}`)).catch(async (err: unknown) => {
      await Promise.all([source.stop(), fresh.stop(), guarded.stop()]);
      throw err;
    });
    setup = { work, source, fresh, guarded, clients, daemons };
    await writeLayout(join(work, 'single'), 'v1', single.manifest, imageBlobs(single));
    await writeLayout(join(work, 'multi'), 'v1', index, [...imageBlobs(amd64), ...imageBlobs(arm64)]);
    await clients.skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'single')}:v1`, `docker://${source.host}/e2e/single:v1`]);
    await clients.skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v1`, `docker://${source.host}/e2e/multi:v1`]);
  });

  after(async () => {
    if (setup === undefined) return;
    await setup.daemons.stop();
    await Promise.all([setup.source.stop(), setup.fresh.stop(), setup.guarded.stop()]);
    await rm(setup.work, { recursive: true, force: true });
  });

  describe('containerd (ctr)', () => {
    it('pulls and unpacks an image and every platform of an index', async () => {
      const { daemons, source } = get();
      await daemons.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', `${source.host}/e2e/single:v1`]);
      await daemons.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', '--all-platforms', `${source.host}/e2e/multi:v1`]);
      assert.equal((await ctrImage(daemons, `${source.host}/e2e/single:v1`))[2], single.manifest.digest);
      assert.equal((await ctrImage(daemons, `${source.host}/e2e/multi:v1`))[2], index.digest);
      const content = new Set((await daemons.ctr(['content', 'ls', '--quiet'])).split('\n').map((l) => l.trim()));
      for (const blob of [index, ...imageBlobs(single), ...imageBlobs(amd64), ...imageBlobs(arm64)]) {
        assert.ok(content.has(blob.digest), `containerd holds ${blob.digest}`);
      }
    });

    it('pushes to a registry holding none of the blobs, byte for byte', async () => {
      const { daemons, source, fresh } = get();
      for (const [from, to] of [['e2e/single:v1', 'ctr/single:v1'], ['e2e/multi:v1', 'ctr/multi:v1']] as const) {
        await daemons.ctr(['images', 'tag', `${source.host}/${from}`, `${fresh.host}/${to}`]);
        await daemons.ctr(['images', 'push', '--plain-http', `${fresh.host}/${to}`]);
      }
      const back = await pullBack(get(), `${fresh.host}/ctr/single:v1`);
      assert.equal(back.top, single.manifest.digest);
      assert.deepEqual(back.digests, new Set(imageBlobs(single).map((b) => b.digest)));
      const multi = await pullBack(get(), `${fresh.host}/ctr/multi:v1`, true);
      assert.equal(multi.top, index.digest);
      assert.deepEqual(multi.digests, new Set([index, ...imageBlobs(amd64), ...imageBlobs(arm64)].map((b) => b.digest)));
      const uploads = requestsTo(fresh, 'ctr/single').filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
      assert.equal(uploads.length, 1 + single.layers.length, 'the config and each layer were uploaded');
      assert.ok(uploads.every((r) => r.status === 201), 'each upload completed with 201');
    });

    it('mounts the blobs from their source repository on the same registry', async () => {
      const { daemons, source } = get();
      await daemons.ctr(['images', 'tag', `${source.host}/e2e/single:v1`, `${source.host}/ctr/copy:v1`]);
      await daemons.ctr(['images', 'push', '--plain-http', `${source.host}/ctr/copy:v1`]);
      const posts = requestsTo(source, 'ctr/copy').filter((r) => r.method === 'POST');
      assert.ok(posts.length > 0 && posts.every((r) => r.status === 201), `every blob was mounted (201), not uploaded: ${JSON.stringify(posts)}`);
      assert.equal(requestsTo(source, 'ctr/copy').filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/'))).length, 0);
      assert.equal((await pullBack(get(), `${source.host}/ctr/copy:v1`)).top, single.manifest.digest);
    });

    it('pushes and pulls with --user through the built-in token service; a wrong password is refused', async () => {
      const { daemons, source, guarded } = get();
      const ref = `${guarded.host}/team/ctr:v1`;
      await daemons.ctr(['images', 'tag', `${source.host}/e2e/single:v1`, ref]);
      const anonymous = await daemons.raw('ctr', ['images', 'push', '--plain-http', ref]);
      assert.notEqual(anonymous.code, 0, 'an anonymous push is refused');
      const wrong = await daemons.raw('ctr', ['images', 'push', '--plain-http', '--user', 'alice:wrong', ref]);
      assert.notEqual(wrong.code, 0, 'a wrong password is refused');
      assert.match(wrong.stderr, /401|unauthorized/i);
      await daemons.ctr(['images', 'push', '--plain-http', '--user', `alice:${USERS.alice}`, ref]);
      await daemons.ctr(['images', 'rm', ref]);
      await daemons.ctr(['images', 'pull', '--plain-http', '--snapshotter', 'native', '--user', `bob:${USERS.bob}`, ref]);
      assert.equal((await ctrImage(daemons, ref))[2], single.manifest.digest);
    });
  });

  describe('docker', () => {
    it('pulls an image, and the platform of this machine from an index', async () => {
      const { daemons, source } = get();
      await daemons.docker(['pull', `${source.host}/e2e/single:v1`]);
      const pulled = await inspect(daemons, `${source.host}/e2e/single:v1`);
      assert.equal(pulled.Id, single.config.digest, 'the image is the config that was pushed');
      assert.ok(pulled.RepoDigests.includes(`${source.host}/e2e/single@${single.manifest.digest}`), JSON.stringify(pulled.RepoDigests));
      await daemons.docker(['pull', `${source.host}/e2e/multi:v1`]);
      const multi = await inspect(daemons, `${source.host}/e2e/multi:v1`);
      assert.equal(multi.Id, hostImage.config.digest);
      assert.equal(multi.Architecture, HOST_ARCH);
      assert.ok(multi.RepoDigests.includes(`${source.host}/e2e/multi@${index.digest}`), JSON.stringify(multi.RepoDigests));
    });

    let pushedDigest = '';

    it('pushes to a registry holding none of the blobs, byte for byte', async () => {
      const { daemons, source, fresh } = get();
      await daemons.docker(['tag', `${source.host}/e2e/single:v1`, `${fresh.host}/docker/single:v1`]);
      const out = await daemons.docker(['push', `${fresh.host}/docker/single:v1`]);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
      assert.ok(digest !== undefined, out);
      pushedDigest = digest;
      const back = await fetchVerified(fresh, 'docker/single', 'v1');
      assert.equal(back.digest, digest);
      const manifest = back.manifest;
      assert.equal(manifest.mediaType, DOCKER_MANIFEST, 'docker pushes Docker schema 2');
      assert.equal(manifest.config?.digest, single.config.digest);
      // docker compresses the layers again for another registry: their tars are the ones pulled.
      const diffIds = (JSON.parse(single.config.content.toString('utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
      const tars = (manifest.layers ?? []).map((l) => `sha256:${sha256Hex(gunzipSync(back.blobs.get(l.digest) ?? Buffer.alloc(0)))}`);
      assert.deepEqual(tars, diffIds, 'each layer unpacks to the tar that was pulled');
    });

    it('mounts the blobs from another repository on the same registry', async () => {
      const { daemons, source, fresh } = get();
      await daemons.docker(['tag', `${source.host}/e2e/single:v1`, `${fresh.host}/docker/other:v1`]);
      const out = await daemons.docker(['push', `${fresh.host}/docker/other:v1`]);
      assert.match(out, /Mounted from docker\/single/);
      assert.match(out, new RegExp(`digest: ${pushedDigest}`));
      const posts = requestsTo(fresh, 'docker/other').filter((r) => r.method === 'POST');
      assert.ok(posts.some((r) => r.status === 201), `a mount was answered 201: ${JSON.stringify(posts)}`);
    });

    it('pulls by digest once every local copy is removed', async () => {
      const { daemons, fresh } = get();
      await daemons.docker(['image', 'rm', '--force', single.config.digest]);
      assert.notEqual((await daemons.raw('docker', ['image', 'inspect', single.config.digest])).code, 0, 'the image is gone');
      await daemons.docker(['pull', `${fresh.host}/docker/other@${pushedDigest}`]);
      assert.equal((await inspect(daemons, `${fresh.host}/docker/other@${pushedDigest}`)).Id, single.config.digest);
    });

    it('docker manifest create and push assemble a multi-arch list from images in other repositories', async () => {
      const { daemons, source } = get();
      const list = `${source.host}/docker/list:v1`;
      await daemons.docker(['manifest', 'create', '--insecure', list, ...[amd64, arm64].map((i) => `${source.host}/e2e/multi@${i.manifest.digest}`)]);
      await daemons.docker(['manifest', 'push', '--insecure', list]);
      const res = await fetch(`${source.url}/v2/docker/list/manifests/v1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } });
      assert.equal(res.status, 200);
      const pushed = (await res.json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
      // docker lists them in no fixed order.
      assert.deepEqual(pushed.manifests.map((m) => [m.platform.architecture, m.digest]).sort(), [['amd64', amd64.manifest.digest], ['arm64', arm64.manifest.digest]]);
      const writes = requestsTo(source, 'docker/list').filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
      assert.ok(writes.filter((r) => r.method === 'POST').every((r) => r.status === 201), `the blobs were mounted: ${JSON.stringify(writes)}`);
      const puts = writes.filter((r) => r.method === 'PUT').map((r) => r.path.split('/').pop());
      assert.deepEqual(new Set(puts.slice(0, -1)), new Set([amd64.manifest.digest, arm64.manifest.digest]), 'each image manifest was put by digest');
      assert.equal(puts.at(-1), 'v1', 'then the list by its tag');
      await daemons.docker(['pull', list]);
      assert.equal((await inspect(daemons, list)).Id, hostImage.config.digest);
    });

    it('logs in through the built-in token service, pushes and pulls; logout and wrong passwords are refused', async () => {
      const { daemons, fresh, guarded } = get();
      const ref = `${guarded.host}/team/docker:v1`;
      await daemons.docker(['tag', `${fresh.host}/docker/other@${pushedDigest}`, ref]);
      const anonymous = await daemons.raw('docker', ['push', ref]);
      assert.notEqual(anonymous.code, 0, 'an anonymous push is refused');
      assert.match(anonymous.stdout + anonymous.stderr, /denied|unauthorized|authentication required/i);
      const wrong = await daemons.raw('docker', ['login', '--username', 'alice', '--password', 'wrong', guarded.host]);
      assert.notEqual(wrong.code, 0, 'a wrong password is refused');
      await daemons.docker(['login', '--username', 'alice', '--password', USERS.alice, guarded.host]);
      const stored = JSON.parse(await readFile(daemons.dockerConfig, 'utf8')) as { auths: Record<string, { identitytoken?: string }> };
      assert.match(stored.auths[guarded.host]?.identitytoken ?? '', /^ey/, 'docker keeps the refresh token, not the password');
      assert.match(await daemons.docker(['push', ref]), new RegExp(`digest: ${pushedDigest}`));
      await daemons.docker(['image', 'rm', '--force', single.config.digest]);
      await daemons.docker(['pull', ref]);
      assert.equal((await inspect(daemons, ref)).Id, single.config.digest);
      await daemons.docker(['logout', guarded.host]);
      const afterLogout = await daemons.raw('docker', ['pull', `${guarded.host}/team/docker:v1`]);
      assert.notEqual(afterLogout.code, 0, 'a pull after logout is refused');
    });
  });

  it('answered no request with a server error', () => {
    for (const wharf of [get().source, get().fresh, get().guarded]) {
      const errors = wharf.logs.filter((l) => l['msg'] === 'request' && Number(l['status']) >= 500);
      assert.deepEqual(errors, [], `${wharf.host} answered every request without a 5xx`);
    }
  });
});
