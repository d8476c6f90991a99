/**
 * End to end with podman (Debian package), as root on a private vfs graph root: pull, tag, push in
 * OCI and Docker v2s2 formats, pick a platform through an index, and build and push a manifest list.
 * What podman pushed is pulled back with skopeo, every blob re-hashed and the layers unpacked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, buildIndex, imageBlobs, writeLayout } from '../helpers/oci-layout.js';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { assertSameFiles, expectedFiles, fileHashes, hashFile, makeClients, sha256Hex, unpackImage, verifyLayout, type Clients, type Manifestish } from '../helpers/clients.js';

type Files = Readonly<Record<string, Buffer | string>>;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('podman against the real server', () => {
  let work: string;
  let wharf: WharfProcess;
  let clients: Clients;
  const files: Files[] = [{ 'etc/os-release': 'ID=wharf\n', 'bin/app': randomBytes(40_000) }, { 'srv/data.bin': randomBytes(10_000) }];
  const image = buildImage(files);
  const amd64Files: Files[] = [{ 'etc/arch': 'amd64\n' }];
  const arm64Files: Files[] = [{ 'etc/arch': 'arm64\n', 'lib/arm.so': randomBytes(5_000) }];
  const amd64 = buildImage(amd64Files, { architecture: 'amd64', os: 'linux' });
  const arm64 = buildImage(arm64Files, { architecture: 'arm64', os: 'linux' });
  const index = buildIndex([amd64, arm64]);

  const podman = (args: string[]) => clients.podman(args);
  const raw = async (ref: string) => clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);

  /** Pulls `ref` from Wharf with skopeo, re-hashes every blob and compares the unpacked files. */
  async function pullAndCompare(ref: string, expected: Files[], name: string): Promise<Manifestish> {
    const out = join(work, `out-${name}`);
    await clients.skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${out}`]);
    const manifestRaw = await raw(ref);
    const manifest = JSON.parse(manifestRaw) as Manifestish;
    for (const d of [manifest.config!, ...manifest.layers!]) assert.equal(await hashFile(join(out, d.digest.slice(7))), d.digest, `${name}: blob ${d.digest}`);
    const rootfs = join(work, `rootfs-${name}`);
    await mkdir(rootfs);
    for (const layer of manifest.layers!) await clients.raw('tar', ['-x', '--no-same-owner', '-f', join(out, layer.digest.slice(7)), '-C', rootfs]);
    assertSameFiles(await fileHashes(rootfs), expectedFiles(expected), name);
    return manifest;
  }

  before(async () => {
    requireProgram('podman');
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-e2e-podman-'));
    wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root') });
    clients = await makeClients(join(work, 'clients'), [wharf.host]);
    await writeLayout(join(work, 'image'), 'v1', image.manifest, imageBlobs(image));
    await writeLayout(join(work, 'multi'), 'v1', index, [...imageBlobs(amd64), ...imageBlobs(arm64)]);
    await clients.skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'image')}:v1`, `docker://${wharf.host}/seed/app:v1`]);
    await clients.skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v1`, `docker://${wharf.host}/seed/multi:v1`]);
  });

  after(async () => {
    await wharf?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pulls an image', async () => {
    await podman(['pull', '--tls-verify=false', `${wharf.host}/seed/app:v1`]);
    const digest = (await podman(['image', 'inspect', '--format', '{{.Digest}}', `${wharf.host}/seed/app:v1`])).trim();
    assert.equal(digest, image.manifest.digest);
    const diffIds = JSON.parse(await podman(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', `${wharf.host}/seed/app:v1`])) as string[];
    assert.deepEqual(diffIds, (JSON.parse(image.config.content.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, 'the unpacked layers hash to the diff_ids');
  });

  it('tags and pushes in OCI format', async () => {
    await podman(['tag', `${wharf.host}/seed/app:v1`, `${wharf.host}/podman/app:oci`]);
    await podman(['push', '--tls-verify=false', '--format', 'oci', `${wharf.host}/podman/app:oci`]);
    const manifest = await pullAndCompare(`${wharf.host}/podman/app:oci`, files, 'oci');
    assert.equal(manifest.mediaType ?? OCI_MANIFEST, OCI_MANIFEST);
    const tags = JSON.parse(await clients.skopeo(['list-tags', '--tls-verify=false', `docker://${wharf.host}/podman/app`])) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['oci']);
  });

  it('tags and pushes in Docker v2s2 format', async () => {
    await podman(['tag', `${wharf.host}/seed/app:v1`, `${wharf.host}/podman/app:v2s2`]);
    await podman(['push', '--tls-verify=false', '--format', 'v2s2', `${wharf.host}/podman/app:v2s2`]);
    const manifest = await pullAndCompare(`${wharf.host}/podman/app:v2s2`, files, 'v2s2');
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    // Pulled back by podman: the same image ID (config digest) as the original.
    await podman(['rmi', `${wharf.host}/podman/app:v2s2`]);
    await podman(['pull', '--tls-verify=false', `${wharf.host}/podman/app:v2s2`]);
    const ids = await Promise.all([`${wharf.host}/podman/app:v2s2`, `${wharf.host}/seed/app:v1`].map(async (r) => (await podman(['image', 'inspect', '--format', '{{.Id}}', r])).trim()));
    assert.equal(ids[0], ids[1]);
  });

  it('pulls the arm64 image through a two-platform index with --arch', async () => {
    type Inspected = { Id: string; Architecture: string; Digest: string; RepoDigests: string[] }[];
    for (const child of [arm64, amd64]) {
      await podman(['pull', '--tls-verify=false', '--arch', child.platform.architecture, `${wharf.host}/seed/multi:v1`]);
      const inspected = (JSON.parse(await podman(['image', 'inspect', `${wharf.host}/seed/multi:v1`])) as Inspected)[0]!;
      const what = JSON.stringify({ Id: inspected.Id, Digest: inspected.Digest, RepoDigests: inspected.RepoDigests });
      assert.equal(inspected.Architecture, child.platform.architecture, what);
      assert.equal(inspected.Id, child.config.digest.slice(7), `the ${child.platform.architecture} image (its config) was pulled: ${what}`);
      assert.ok(inspected.RepoDigests.includes(`${wharf.host}/seed/multi@${child.manifest.digest}`), `pulled through the child manifest: ${what}`);
    }
  });

  it('creates a manifest list, adds both platforms and pushes it with --all', async () => {
    const list = 'localhost/wharf-list:v1';
    await podman(['manifest', 'create', list]);
    for (const child of [amd64, arm64]) {
      await podman(['manifest', 'add', '--tls-verify=false', list, `docker://${wharf.host}/seed/multi@${child.manifest.digest}`]);
    }
    await podman(['manifest', 'push', '--all', '--tls-verify=false', list, `docker://${wharf.host}/podman/list:v1`]);

    const top = await raw(`${wharf.host}/podman/list:v1`);
    const pushed = JSON.parse(top) as Manifestish;
    assert.ok(pushed.manifests !== undefined, `an index or manifest list: ${top}`);
    const byArch = new Map(pushed.manifests.map((m) => [m.platform?.architecture, m]));
    for (const child of [amd64, arm64]) {
      const entry = byArch.get(child.platform.architecture);
      assert.ok(entry !== undefined, `the list has ${child.platform.architecture}`);
      const childRaw = await raw(`${wharf.host}/podman/list@${entry.digest}`);
      assert.equal(`sha256:${sha256Hex(childRaw)}`, entry.digest, 'the child is served under its digest');
    }
    // Everything reachable from the list is there and intact.
    const out = join(work, 'out-list');
    await clients.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${wharf.host}/podman/list:v1`, `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, `sha256:${sha256Hex(top)}`);
    for (const [child, childFiles] of [[amd64, amd64Files], [arm64, arm64Files]] as const) {
      const entry = byArch.get(child.platform.architecture)!;
      const rootfs = join(work, `rootfs-list-${child.platform.architecture}`);
      await unpackImage(out, pulled.manifests.get(entry.digest)!, rootfs);
      assertSameFiles(await fileHashes(rootfs), expectedFiles(childFiles), `list ${child.platform.architecture}`);
    }
  });
});
