/** End to end: the real server, pushed to and pulled from with skopeo (Debian package). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageBlobs, writeLayout } from '../helpers/oci-layout.js';
import { requireProgram, runOk, startWharfProcess, type WharfProcess } from '../helpers/process.js';

describe('skopeo against the real server', () => {
  let work: string;
  let wharf: WharfProcess;
  const image = buildImage([
    { 'etc/hello.txt': 'hello from wharf\n', 'bin/tool': Buffer.alloc(70_000, 7) },
    { 'data/random.bin': createHash('sha512').update('seed').digest() },
  ]);

  before(async () => {
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-e2e-'));
    wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root') });
    await writeLayout(join(work, 'src'), 'v1', image.manifest, imageBlobs(image));
  });

  after(async () => {
    await wharf?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('pushes an image and pulls it back byte for byte', async () => {
    const ref = `docker://${wharf.host}/e2e/hello:v1`;
    await runOk('skopeo', ['copy', '--dest-tls-verify=false', `oci:${join(work, 'src')}:v1`, ref]);

    const raw = await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', ref]);
    assert.equal(raw, image.manifest.content.toString(), 'the manifest is served exactly as pushed');

    await runOk('skopeo', ['copy', '--src-tls-verify=false', ref, `oci:${join(work, 'out')}:v1`]);
    const blobsDir = join(work, 'out', 'blobs', 'sha256');
    const pulled = await readdir(blobsDir);
    for (const blob of imageBlobs(image)) {
      const hex = blob.digest.slice('sha256:'.length);
      assert.ok(pulled.includes(hex), `blob ${blob.digest} pulled`);
      const content = await readFile(join(blobsDir, hex));
      assert.equal(createHash('sha256').update(content).digest('hex'), hex, `blob ${blob.digest} re-hashes to its digest`);
    }

    const tags = JSON.parse(await runOk('skopeo', ['list-tags', '--tls-verify=false', `docker://${wharf.host}/e2e/hello`])) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
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
