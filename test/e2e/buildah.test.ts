/**
 * End to end with buildah (Debian package), as root on a private vfs graph root: an image built
 * `from scratch` with one copied file, committed, pushed to Wharf, and pulled back both by buildah
 * (the file read from a fresh working container) and by skopeo (every blob re-hashed, the layers
 * unpacked and compared).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { assertSameFiles, fileHashes, makeClients, sha256Hex, unpackImage, verifyLayout, type Clients } from '../helpers/clients.js';

describe('buildah against the real server', () => {
  let work: string;
  let wharf: WharfProcess;
  let clients: Clients;
  const content = Buffer.concat([Buffer.from('built by buildah for wharf\n'), randomBytes(100_000)]);

  before(async () => {
    requireProgram('buildah');
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-e2e-buildah-'));
    wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root') });
    clients = await makeClients(join(work, 'clients'), [wharf.host]);
  });

  after(async () => {
    await wharf?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('builds from scratch, copies a file, commits, pushes, pulls back and compares', async () => {
    const buildah = (args: string[]) => clients.buildah(args);
    const file = join(work, 'payload.bin');
    await writeFile(file, content);
    const image = `${wharf.host}/buildah/scratch:v1`;

    const container = (await buildah(['from', 'scratch'])).trim();
    await buildah(['copy', container, file, '/opt/payload.bin']);
    await buildah(['config', '--label', 'org.example.built-by=wharf-e2e', container]);
    const imageId = (await buildah(['commit', '--format', 'oci', container, image])).trim().split('\n').pop()!;
    await buildah(['rm', container]);
    await buildah(['push', '--tls-verify=false', image, `docker://${image}`]);

    // skopeo: every blob re-hashed, the layer unpacked and compared.
    const manifestRaw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${image}`]);
    const out = join(work, 'out');
    await clients.skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', `docker://${image}`, `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, `sha256:${sha256Hex(manifestRaw)}`, 'the manifest pulled is the one served');
    const manifest = pulled.manifests.get(pulled.top)!;
    assert.equal(manifest.config?.digest.slice(7), imageId.replace(/^sha256:/, ''), 'the image ID is the config digest buildah committed');
    const rootfs = join(work, 'rootfs');
    await unpackImage(out, manifest, rootfs);
    assertSameFiles(await fileHashes(rootfs), new Map([['opt/payload.bin', `sha256:${sha256Hex(content)}`]]), 'buildah image');

    // buildah: remove the local image, pull it back from Wharf, read the file in a new container.
    await buildah(['rmi', '--all', '--force']);
    await buildah(['pull', '--tls-verify=false', image]);
    const again = (await buildah(['from', '--pull-never', image])).trim();
    const mountpoint = (await buildah(['mount', again])).trim();
    assert.ok((await readFile(join(mountpoint, 'opt', 'payload.bin'))).equals(content), 'the file read back through buildah is the file copied in');
    const inspected = JSON.parse(await buildah(['inspect', again])) as { OCIv1: { config: { Labels: Record<string, string> } } };
    assert.equal(inspected.OCIv1.config.Labels['org.example.built-by'], 'wharf-e2e');
    await buildah(['umount', again]);
    await buildah(['rm', again]);
  });
});
