/** End to end: the real server, pushed to and pulled from with skopeo (Debian package). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, buildIndex, imageBlobs, writeLayout, type LayoutBlob } from '../helpers/oci-layout.js';
import { requireProgram, runOk, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { assertSameFiles, expectedFiles, fileHashes, hashFile, makeClients, unpackImage, verifyLayout, type Clients, type Manifestish } from '../helpers/clients.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

type Files = Readonly<Record<string, Buffer | string>>;

const twoLayerFiles: Files[] = [
  { 'etc/hello.txt': 'hello from wharf\n', 'bin/tool': Buffer.alloc(70_000, 7) },
  { 'data/random.bin': createHash('sha512').update('seed').digest(), 'etc/hello.txt': 'overwritten by layer two\n' },
];
const amd64Files: Files[] = [{ 'etc/arch': 'amd64\n' }, { 'usr/lib/amd64.so': randomBytes(20_000) }];
const arm64Files: Files[] = [{ 'etc/arch': 'arm64\n' }, { 'usr/lib/arm64.so': randomBytes(30_000) }];

function blobDigestsOf(blobs: readonly LayoutBlob[]): Set<string> {
  return new Set(blobs.map((b) => b.digest));
}

/**
 * Writes an OCI layout holding one image whose only layer is an uncompressed tar with a single
 * random file of `size` bytes, generated and hashed while streaming to disk (never all in memory).
 */
async function writeBigImageLayout(dir: string, tag: string, size: number): Promise<{ manifest: LayoutBlob; layerDigest: string; layerSize: number; fileDigest: string }> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const tmp = join(blobsDir, 'tmp-layer');
  const file = await open(tmp, 'w');
  const layerHash = createHash('sha256');
  const fileHash = createHash('sha256');
  const write = async (chunk: Buffer): Promise<void> => {
    layerHash.update(chunk);
    await file.write(chunk);
  };
  const header = Buffer.alloc(512);
  header.write('big/random.bin', 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  await write(header);
  const chunk = Buffer.alloc(4 << 20);
  for (let left = size; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    randomFillSync(part);
    fileHash.update(part);
    await write(part);
  }
  await write(Buffer.alloc((512 - (size % 512)) % 512 + 1024));
  await file.close();
  const layerDigest = `sha256:${layerHash.digest('hex')}`;
  const layerSize = size + 512 + ((512 - (size % 512)) % 512) + 1024;
  await rename(tmp, join(blobsDir, layerDigest.slice(7)));
  const mk = (mediaType: string, content: Buffer): LayoutBlob => ({ mediaType, content, size: content.length, digest: `sha256:${createHash('sha256').update(content).digest('hex')}` });
  const config = mk('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] },
  })));
  const manifest = mk('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layerSize }],
  })));
  await writeLayout(dir, tag, manifest, [config]);
  return { manifest, layerDigest, layerSize, fileDigest: `sha256:${fileHash.digest('hex')}` };
}

describe('skopeo against the real server', () => {
  let work: string;
  let wharf: WharfProcess;
  let clients: Clients;
  const image = buildImage(twoLayerFiles);
  const amd64 = buildImage(amd64Files, { architecture: 'amd64', os: 'linux' });
  const arm64 = buildImage(arm64Files, { architecture: 'arm64', os: 'linux' });
  const index = buildIndex([amd64, arm64]);

  const skopeo = (args: string[], timeoutMs?: number) => clients.skopeo(args, timeoutMs);
  const ref = (repo: string) => `docker://${wharf.host}/${repo}`;

  before(async () => {
    requireProgram('skopeo');
    requireProgram('tar');
    work = await mkdtemp(join(tmpdir(), 'wharf-e2e-skopeo-'));
    wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root'), REGISTRY_STORAGE_DELETE_ENABLED: 'true' });
    clients = await makeClients(join(work, 'clients'), [wharf.host]);
    await writeLayout(join(work, 'src'), 'v1', image.manifest, imageBlobs(image));
    await writeLayout(join(work, 'multi'), 'v1', index, [...imageBlobs(amd64), ...imageBlobs(arm64)]);
  });

  after(async () => {
    await wharf?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pushes a two-layer image and pulls it back: digests re-hashed, files unpacked and compared', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref('e2e/hello:v1')]);

    const out = join(work, 'out-hello');
    await skopeo(['copy', '--src-tls-verify=false', ref('e2e/hello:v1'), `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, image.manifest.digest, 'the manifest digest is kept');
    assert.deepEqual(pulled.digests, blobDigestsOf(imageBlobs(image)));
    const rootfs = join(work, 'rootfs-hello');
    await unpackImage(out, pulled.manifests.get(image.manifest.digest)!, rootfs);
    assertSameFiles(await fileHashes(rootfs), expectedFiles(twoLayerFiles), 'two-layer image');

    // umoci, which checks every digest as it reads, unpacks the same tree.
    requireProgram('umoci');
    const bundle = join(work, 'bundle-hello');
    const unpacked = await clients.raw('umoci', ['unpack', '--rootless', '--image', `${out}:v1`, bundle]);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    assertSameFiles(await fileHashes(join(bundle, 'rootfs')), expectedFiles(twoLayerFiles), 'two-layer image (umoci)');
  });

  it('inspect --raw is byte-identical by tag and by digest', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref('e2e/raw:v1')]);
    const byTag = await skopeo(['inspect', '--raw', '--tls-verify=false', ref('e2e/raw:v1')]);
    assert.equal(byTag, image.manifest.content.toString(), 'by tag');
    const byDigest = await skopeo(['inspect', '--raw', '--tls-verify=false', ref(`e2e/raw@${image.manifest.digest}`)]);
    assert.equal(byDigest, image.manifest.content.toString(), 'by digest');
    const config = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', ref('e2e/raw:v1')]);
    assert.equal(config, image.config.content.toString(), 'the config blob');
    const inspected = JSON.parse(await skopeo(['inspect', '--tls-verify=false', ref('e2e/raw:v1')])) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, image.manifest.digest);
    assert.deepEqual(inspected.Layers, image.layers.map((l) => l.digest));
  });

  it('pushes a two-platform OCI index with --all and pulls every platform back', async () => {
    await skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v1`, ref('e2e/multi:v1')]);
    assert.equal(await skopeo(['inspect', '--raw', '--tls-verify=false', ref('e2e/multi:v1')]), index.content.toString(), 'the index, byte for byte');
    for (const child of [amd64, arm64]) {
      assert.equal(await skopeo(['inspect', '--raw', '--tls-verify=false', ref(`e2e/multi@${child.manifest.digest}`)]), child.manifest.content.toString(), `child ${child.platform.architecture}`);
    }

    const out = join(work, 'out-multi');
    await skopeo(['copy', '--all', '--src-tls-verify=false', ref('e2e/multi:v1'), `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, index.digest);
    assert.deepEqual(pulled.digests, blobDigestsOf([index, ...imageBlobs(amd64), ...imageBlobs(arm64)]));
    for (const [child, files] of [[amd64, amd64Files], [arm64, arm64Files]] as const) {
      const rootfs = join(work, `rootfs-${child.platform.architecture}`);
      await unpackImage(out, pulled.manifests.get(child.manifest.digest)!, rootfs);
      assertSameFiles(await fileHashes(rootfs), expectedFiles(files), child.platform.architecture);
    }

    // Without --all, skopeo picks one platform through the index.
    const arm = join(work, 'out-arm64');
    await skopeo(['--override-arch', 'arm64', 'copy', '--src-tls-verify=false', ref('e2e/multi:v1'), `oci:${arm}:v1`]);
    assert.equal((await verifyLayout(arm, 'v1')).top, arm64.manifest.digest);
  });

  it('pushes the index as a Docker manifest list with --all --format v2s2 and pulls it back', async () => {
    await skopeo(['copy', '--all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v1`, ref('e2e/list:v1')]);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ref('e2e/list:v1')]);
    const list = JSON.parse(raw) as Manifestish;
    assert.equal(list.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.deepEqual(list.manifests?.map((m) => [m.mediaType, m.platform?.architecture]), [[DOCKER_MANIFEST, 'amd64'], [DOCKER_MANIFEST, 'arm64']]);
    // dir: keeps a Docker list as served (an OCI layout cannot): the list, each child manifest
    // (<hex>.manifest.json) and each blob (<hex>) re-hashed, the layers unpacked.
    const out = join(work, 'out-list');
    await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', ref('e2e/list:v1'), `dir:${out}`]);
    assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), raw, 'the list is served as stored');
    for (const [child, files] of [[amd64, amd64Files], [arm64, arm64Files]] as const) {
      const arch: string = child.platform.architecture;
      const entry: { digest: string } = list.manifests!.find((m) => m.platform?.architecture === arch)!;
      const childRaw = await readFile(join(out, `${entry.digest.slice(7)}.manifest.json`));
      assert.equal(`sha256:${createHash('sha256').update(childRaw).digest('hex')}`, entry.digest, `${arch}: the child manifest`);
      const manifest = JSON.parse(childRaw.toString()) as Manifestish;
      assert.equal(manifest.mediaType, DOCKER_MANIFEST);
      assert.equal(manifest.config?.digest, child.config.digest, 'the config is unchanged');
      for (const d of [manifest.config!, ...manifest.layers!]) assert.equal(await hashFile(join(out, d.digest.slice(7))), d.digest, `${arch}: blob ${d.digest}`);
      const rootfs = join(work, `rootfs-list-${arch}`);
      await mkdir(rootfs);
      for (const layer of manifest.layers!) await runOk('tar', ['-x', '--no-same-owner', '-f', join(out, layer.digest.slice(7)), '-C', rootfs]);
      assertSameFiles(await fileHashes(rootfs), expectedFiles(files), `list ${arch}`);
    }
  });

  it('pushes with --format v2s2 and pulls the Docker manifest back intact', async () => {
    await skopeo(['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref('e2e/docker:v1')]);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', ref('e2e/docker:v1')]);
    const manifest = JSON.parse(raw) as Manifestish;
    assert.equal(manifest.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.config?.digest, image.config.digest, 'the config blob is unchanged');
    assert.deepEqual(manifest.layers?.map((l) => l.digest), image.layers.map((l) => l.digest), 'the layers are unchanged');
    const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    assert.equal(await skopeo(['inspect', '--raw', '--tls-verify=false', ref(`e2e/docker@${digest}`)]), raw, 'by digest');

    // dir: keeps the manifest as served; every blob is re-hashed, the layers unpacked.
    const out = join(work, 'out-docker');
    await skopeo(['copy', '--src-tls-verify=false', ref('e2e/docker:v1'), `dir:${out}`]);
    assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), raw);
    for (const d of [manifest.config!, ...manifest.layers!]) assert.equal(await hashFile(join(out, d.digest.slice(7))), d.digest);
    const rootfs = join(work, 'rootfs-docker');
    await mkdir(rootfs);
    for (const layer of manifest.layers!) await runOk('tar', ['-x', '--no-same-owner', '-f', join(out, layer.digest.slice(7)), '-C', rootfs]);
    assertSameFiles(await fileHashes(rootfs), expectedFiles(twoLayerFiles), 'v2s2 image');
  });

  it('lists tags', async () => {
    for (const tag of ['b', 'a', '1.0']) await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref(`e2e/tags:${tag}`)]);
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', ref('e2e/tags')])) as { Repository: string; Tags: string[] };
    assert.deepEqual([...tags.Tags].sort(), ['1.0', 'a', 'b']);
  });

  it('deletes an image', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref('e2e/del:v1')]);
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'multi')}:v1`, ref('e2e/del:other')]);
    await skopeo(['delete', '--tls-verify=false', ref('e2e/del:v1')]);
    const gone = await clients.raw('skopeo', ['inspect', '--raw', '--tls-verify=false', ref('e2e/del:v1')]);
    assert.notEqual(gone.code, 0, 'the deleted tag is gone');
    assert.match(gone.stderr, /manifest unknown|not found/i);
    const byDigest = await clients.raw('skopeo', ['inspect', '--raw', '--tls-verify=false', ref(`e2e/del@${image.manifest.digest}`)]);
    assert.notEqual(byDigest.code, 0, 'the deleted manifest is gone by digest too');
    const tags = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', ref('e2e/del')])) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['other'], 'the other tag remains');
    // The same manifest in another repository is untouched.
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref('e2e/keep:v1')]);
    assert.equal(await skopeo(['inspect', '--raw', '--tls-verify=false', ref(`e2e/keep@${image.manifest.digest}`)]), image.manifest.content.toString());
  });

  it('copies between two repositories with a cross-repository mount instead of a second upload', async () => {
    const files: Files[] = [{ 'big/one.bin': randomBytes(1 << 20) }, { 'big/two.bin': randomBytes(1 << 20) }];
    const built = buildImage(files);
    await writeLayout(join(work, 'mount-src'), 'v1', built.manifest, imageBlobs(built));
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'mount-src')}:v1`, ref('e2e/mount-src:v1')]);

    // skopeo asks to mount only blobs its blob-info cache (shared by every containers/image client
    // on the machine, root's at /var/lib/containers/cache) places in the source repository; a
    // concurrent client holding that cache's lock can make it skip recording one. So a copy in which
    // skopeo did not ask for every layer is repeated into a fresh repository, at most three times.
    const mountAsked = (stderr: string, digest: string): boolean =>
      stderr.includes(`mount=${digest.replace(':', '%3A')}`) || stderr.includes(`mount=${digest}`);
    let dst = '';
    let copied = { code: 0 as number | null, stdout: '', stderr: '' };
    let mark = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      dst = `e2e/mount-dst${attempt}`;
      mark = wharf.logs.length;
      copied = await clients.raw('skopeo', ['--debug', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', ref('e2e/mount-src:v1'), ref(`${dst}:v1`)]);
      assert.equal(copied.code, 0, copied.stderr);
      if (built.layers.every((layer) => mountAsked(copied.stderr, layer.digest))) break;
    }
    // The access log line is written when the response closes; wait for the manifest PUT's.
    const deadline = Date.now() + 15_000;
    const requests = () => wharf.logs.slice(mark).filter((e) => e['msg'] === 'request' && String(e['path']).startsWith(`/v2/${dst}/`));
    while (!requests().some((e) => e['method'] === 'PUT' && e['route'] === 'manifest') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const log = requests();

    for (const layer of built.layers) {
      assert.ok(mountAsked(copied.stderr, layer.digest), `skopeo asked to mount ${layer.digest}:\n${copied.stderr}`);
    }
    for (const layer of built.layers) {
      assert.ok(!new RegExp(`PUT \\S+/v2/${dst}/blobs/uploads/\\S+digest=${layer.digest.replace(':', '(%3A|:)')}`).test(copied.stderr), `skopeo did not upload ${layer.digest} again`);
    }
    const mounts = log.filter((e) => e['method'] === 'POST' && e['route'] === 'uploads' && e['status'] === 201);
    assert.equal(mounts.length, built.layers.length, `one POST ?mount= answered 201 per layer: ${JSON.stringify(log)}`);
    for (const m of mounts) assert.ok(Number(m['bytesIn']) < 4096, 'a mount carries no blob bytes');
    // Only the (small) config may be uploaded again; no layer byte travels to the target repository.
    const uploadBytes = log.filter((e) => e['route'] === 'upload' || e['route'] === 'uploads').reduce((n, e) => n + Number(e['bytesIn']), 0);
    assert.ok(uploadBytes < 64 * 1024, `upload requests to the target carried ${uploadBytes} bytes, layers are ${built.layers.map((l) => l.size).join('+')} bytes`);

    const out = join(work, 'out-mount');
    await skopeo(['copy', '--src-tls-verify=false', ref(`${dst}:v1`), `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, built.manifest.digest);
    assert.deepEqual(pulled.digests, blobDigestsOf(imageBlobs(built)));
    const layerLinks = await readdir(join(work, 'root', 'docker', 'registry', 'v2', 'repositories', ...dst.split('/'), '_layers', 'sha256'));
    for (const layer of built.layers) assert.ok(layerLinks.includes(layer.digest.slice(7)), 'the target repository links the mounted layer');
  });

  it('pushes and pulls an image with a 256 MiB random layer', { timeout: 150_000 }, async () => {
    const size = 256 * 1024 * 1024;
    const big = await writeBigImageLayout(join(work, 'big'), 'v1', size);
    // --preserve-digests: push the uncompressed layer as it is (skopeo would gzip it otherwise).
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${join(work, 'big')}:v1`, ref('e2e/big:v1')], 120_000);
    await rm(join(work, 'big'), { recursive: true, force: true });
    const stored = join(work, 'root', 'docker', 'registry', 'v2', 'blobs', 'sha256', big.layerDigest.slice(7, 9), big.layerDigest.slice(7), 'data');
    assert.equal(await hashFile(stored), big.layerDigest, 'the stored blob hashes to its digest');

    const out = join(work, 'out-big');
    await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', ref('e2e/big:v1'), `oci:${out}:v1`], 120_000);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, big.manifest.digest);
    assert.ok(pulled.digests.has(big.layerDigest));
    const rootfs = join(work, 'rootfs-big');
    await unpackImage(out, pulled.manifests.get(big.manifest.digest)!, rootfs);
    const unpacked = await fileHashes(rootfs);
    assert.deepEqual([...unpacked], [['big/random.bin', big.fileDigest]]);
    await rm(out, { recursive: true, force: true });
    await rm(rootfs, { recursive: true, force: true });
  });

  it('writes distribution\'s layout under the root directory', async () => {
    const root = join(work, 'root', 'docker', 'registry', 'v2');
    const link = await readFile(join(root, 'repositories', 'e2e', 'hello', '_manifests', 'tags', 'v1', 'current', 'link'), 'utf8');
    assert.equal(link, image.manifest.digest);
    const layerHex = image.layers[0]!.digest.slice('sha256:'.length);
    const data = await readFile(join(root, 'blobs', 'sha256', layerHex.slice(0, 2), layerHex, 'data'));
    assert.ok(data.equals(image.layers[0]!.content));
  });
});

