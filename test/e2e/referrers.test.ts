/**
 * End to end: OCI 1.1 artifacts with a `subject`, pushed with a small fetch client to the real server (the subject
 * image pushed by skopeo), found through the referrers API and filtered by `artifactType`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageBlobs, writeLayout } from '../helpers/oci-layout.js';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { makeClients, sha256Hex, type Clients } from '../helpers/clients.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = 'application/vnd.oci.empty.v1+json';
const SBOM = 'application/vnd.example.sbom.v1+json';
const SIGNATURE = 'application/vnd.example.signature.v1';

interface Index { mediaType: string; manifests: { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }[] }

describe('referrers: artifacts pushed over plain HTTP, found through the referrers API', () => {
  let work: string;
  let wharf: WharfProcess;
  let clients: Clients;
  const image = buildImage([{ 'etc/subject.txt': 'I am the subject\n' }]);

  /** One HTTP request with fetch: `{ status, headers, body }`. */
  async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; headers: Headers; body: string }> {
    const response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, redirect: 'manual' });
    return { status: response.status, headers: response.headers, body: await response.text() };
  }

  /** Pushes a blob with one monolithic POST ?digest= (falling back to POST + PUT). */
  async function pushBlob(repo: string, content: Buffer): Promise<string> {
    const digest = `sha256:${sha256Hex(content)}`;
    const octets = { 'Content-Type': 'application/octet-stream' };
    const started = await http(`${wharf.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: octets, body: content });
    if (started.status === 201) return digest;
    assert.equal(started.status, 202, started.body);
    const location = new URL(started.headers.get('location')!, wharf.url);
    location.searchParams.set('digest', digest);
    const put = await http(location.toString(), { method: 'PUT', headers: octets, body: content });
    assert.equal(put.status, 201, put.body);
    return digest;
  }

  /** Pushes an artifact manifest whose subject is the image; returns its digest. */
  async function pushArtifact(repo: string, artifactType: string, payload: string, annotations: Record<string, string>): Promise<{ digest: string; size: number }> {
    const empty = Buffer.from('{}');
    const emptyDigest = await pushBlob(repo, empty);
    const layerDigest = await pushBlob(repo, Buffer.from(payload));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: EMPTY, digest: emptyDigest, size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/octet-stream', digest: layerDigest, size: Buffer.byteLength(payload) }],
      subject: { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size },
      annotations,
    }));
    const digest = `sha256:${sha256Hex(manifest)}`;
    const put = await http(`${wharf.url}/v2/${repo}/manifests/${digest}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: manifest });
    assert.equal(put.status, 201, put.body);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    assert.equal(put.headers.get('oci-subject'), image.manifest.digest, 'the registry says it processed the subject');
    return { digest, size: manifest.length };
  }

  before(async () => {
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-e2e-referrers-'));
    wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'root') });
    clients = await makeClients(join(work, 'clients'), [wharf.host]);
    await writeLayout(join(work, 'image'), 'v1', image.manifest, imageBlobs(image));
    await clients.skopeo(['copy', '--dest-tls-verify=false', `oci:${join(work, 'image')}:v1`, `docker://${wharf.host}/e2e/app:v1`]);
  });

  after(async () => {
    await wharf?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('lists artifacts by subject and filters them by artifactType', async () => {
    const repo = 'e2e/app';
    const sbom = await pushArtifact(repo, SBOM, '{"packages":[]}', { 'org.example.kind': 'sbom' });
    const signature = await pushArtifact(repo, SIGNATURE, 'signature bytes', { 'org.example.kind': 'signature' });

    const referrersUrl = `${wharf.url}/v2/${repo}/referrers/${image.manifest.digest}`;
    const all = await http(referrersUrl, { headers: { Accept: OCI_INDEX } });
    assert.equal(all.status, 200);
    assert.match(all.headers.get('content-type') ?? '', /^application\/vnd\.oci\.image\.index\.v1\+json/);
    const index = JSON.parse(all.body) as Index;
    assert.equal(index.mediaType, OCI_INDEX);
    const byDigest = new Map(index.manifests.map((m) => [m.digest, m]));
    assert.equal(byDigest.size, 2);
    assert.deepEqual(byDigest.get(sbom.digest), { mediaType: OCI_MANIFEST, digest: sbom.digest, size: sbom.size, artifactType: SBOM, annotations: { 'org.example.kind': 'sbom' } });
    assert.deepEqual(byDigest.get(signature.digest), { mediaType: OCI_MANIFEST, digest: signature.digest, size: signature.size, artifactType: SIGNATURE, annotations: { 'org.example.kind': 'signature' } });

    const filtered = await http(`${referrersUrl}?artifactType=${encodeURIComponent(SBOM)}`);
    assert.equal(filtered.status, 200);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual((JSON.parse(filtered.body) as Index).manifests.map((m) => m.digest), [sbom.digest]);

    const none = await http(`${referrersUrl}?artifactType=${encodeURIComponent('application/vnd.example.none')}`);
    assert.equal(none.status, 200);
    assert.deepEqual((JSON.parse(none.body) as Index).manifests, []);

    // The artifacts are ordinary manifests too: skopeo reads them back byte for byte by digest.
    const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${wharf.host}/${repo}@${sbom.digest}`]);
    assert.equal(`sha256:${sha256Hex(raw)}`, sbom.digest);

    // A subject with no referrers (even one that does not exist) answers an empty index.
    const empty = await fetch(`${wharf.url}/v2/${repo}/referrers/sha256:${'0'.repeat(64)}`);
    assert.equal(empty.status, 200);
    assert.deepEqual(((await empty.json()) as Index).manifests, []);
  });
});
