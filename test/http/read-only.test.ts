/**
 * Read-only mode (storage.maintenance.readonly): every write → 405 UNSUPPORTED, reads work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, errorCode, sha256 } from '../helpers/client.js';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';

const NAME = 'ro/app';
let ro: TestWharf;
let client: TestClient;
let manifestDigest: string;
let layerDigest: string;
let uploadLocation: string;
const manifest = (config: unknown) => JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });

before(async () => {
  // Write with a normal instance, then serve the same storage read-only.
  const driver = wrapDriver(new MemoryDriver());
  const writer = await startTestWharf({ driver });
  const w = new TestClient(writer.url);
  const image = await w.pushImage(NAME, 'latest');
  manifestDigest = image.digest;
  layerDigest = image.layers[0]?.digest ?? '';
  const start = await w.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
  uploadLocation = new URL(start.headers.get('location') ?? '').pathname;
  await writer.stop(0);
  ro = await startTestWharf({ driver, readOnly: true });
  client = new TestClient(ro.url);
});
after(() => ro.stop(0));

describe('read-only: writes are refused with 405 UNSUPPORTED', () => {
  const content = randomBytes(64);
  const writes: [string, () => [string, RequestInit]][] = [
    ['POST upload', () => [`/v2/${NAME}/blobs/uploads/`, { method: 'POST' }]],
    ['POST single-request push', () => [`/v2/${NAME}/blobs/uploads/?digest=${sha256(content)}`, { method: 'POST', body: content }]],
    ['POST mount', () => [`/v2/other/blobs/uploads/?mount=${layerDigest}&from=${NAME}`, { method: 'POST' }]],
    ['POST mount without from', () => [`/v2/other/blobs/uploads/?mount=${layerDigest}`, { method: 'POST' }]],
    ['PATCH upload', () => [uploadLocation, { method: 'PATCH', body: content, headers: { 'Content-Range': `0-${content.length - 1}` } }]],
    ['PATCH unknown upload', () => [`/v2/${NAME}/blobs/uploads/${randomUUID()}`, { method: 'PATCH', body: content }]],
    ['PUT upload', () => [`${uploadLocation}?digest=${sha256(content)}`, { method: 'PUT', body: content }]],
    ['DELETE upload', () => [uploadLocation, { method: 'DELETE' }]],
    ['PUT manifest by tag', () => [`/v2/${NAME}/manifests/new`, { method: 'PUT', body: manifest({ mediaType: OCI_CONFIG, digest: layerDigest, size: 1 }), headers: { 'Content-Type': OCI_MANIFEST } }]],
    ['PUT manifest by digest', () => {
      const body = manifest({ mediaType: OCI_CONFIG, digest: layerDigest, size: 2 });
      return [`/v2/${NAME}/manifests/${sha256(body)}`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } }];
    }],
    ['DELETE manifest by tag', () => [`/v2/${NAME}/manifests/latest`, { method: 'DELETE' }]],
    ['DELETE manifest by digest', () => [`/v2/${NAME}/manifests/${manifestDigest}`, { method: 'DELETE' }]],
    ['DELETE blob', () => [`/v2/${NAME}/blobs/${layerDigest}`, { method: 'DELETE' }]],
  ];
  for (const [label, make] of writes) {
    it(`${label} → 405 UNSUPPORTED`, async () => {
      const [path, init] = make();
      const res = await client.request(path, init);
      assert.equal(res.status, 405);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'UNSUPPORTED');
      assert.match(body.errors[0]?.message ?? '', /read-only/);
    });
  }
});

describe('read-only: reads work', () => {
  it('manifests, blobs, tags, catalog, referrers, upload status', async () => {
    const m = await client.request(`/v2/${NAME}/manifests/latest`);
    assert.equal(m.status, 200);
    assert.equal(m.headers.get('docker-content-digest'), manifestDigest);
    await m.arrayBuffer();
    const head = await client.request(`/v2/${NAME}/manifests/${manifestDigest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const b = await client.request(`/v2/${NAME}/blobs/${layerDigest}`);
    assert.equal(b.status, 200);
    await b.arrayBuffer();
    const ranged = await client.request(`/v2/${NAME}/blobs/${layerDigest}`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(ranged.status, 206);
    await ranged.arrayBuffer();
    const tags = await client.request(`/v2/${NAME}/tags/list`);
    assert.deepEqual(await tags.json(), { name: NAME, tags: ['latest'] });
    const catalog = await client.request('/v2/_catalog');
    assert.deepEqual(await catalog.json(), { repositories: [NAME] });
    const referrers = await client.request(`/v2/${NAME}/referrers/${manifestDigest}`);
    assert.equal(referrers.status, 200);
    await referrers.arrayBuffer();
    const base = await client.request('/v2/');
    assert.equal(base.status, 200);
    await base.arrayBuffer();
    const upload = await client.request(uploadLocation);
    assert.equal(upload.status, 204);
  });

  it('the refused writes changed nothing', async () => {
    const m = await client.request(`/v2/${NAME}/manifests/new`);
    assert.equal(m.status, 404);
    assert.equal(await errorCode(m), 'MANIFEST_UNKNOWN');
    const b = await client.request(`/v2/other/blobs/${layerDigest}`);
    assert.equal(b.status, 404);
    await b.arrayBuffer();
  });
});
