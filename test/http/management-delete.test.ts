/**
 * Content management (end-9, end-10): deleting by tag, by digest, blobs; deletes disabled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, errorCode, sha256 } from '../helpers/client.js';
import { paths } from '../../src/registry/paths.js';
import { parseDigest } from '../../src/registry/digest.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'manage/app';

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

async function status(path: string, method = 'GET'): Promise<number> {
  const res = await client.request(path, { method });
  await res.arrayBuffer();
  return res.status;
}

async function tagList(name = NAME): Promise<string[]> {
  const res = await client.request(`/v2/${name}/tags/list`);
  return ((await res.json()) as { tags: string[] }).tags;
}

/** One manifest under several tags. */
async function tagged(...tags: string[]): Promise<string> {
  const config = await client.pushBlob(NAME, randomBytes(16), OCI_CONFIG);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] };
  let digest = '';
  for (const tag of tags) digest = (await client.pushManifest(NAME, tag, manifest)).digest;
  return digest;
}

describe('DELETE manifest by tag', () => {
  it('→ 202; only that tag goes, the revision and other tags stay', async () => {
    const digest = await tagged('t-one', 't-two');
    const del = await client.request(`/v2/${NAME}/manifests/t-one`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal(del.headers.get('content-length'), '0');
    assert.equal(await status(`/v2/${NAME}/manifests/t-one`), 404);
    assert.equal(await status(`/v2/${NAME}/manifests/t-two`), 200);
    assert.equal(await status(`/v2/${NAME}/manifests/${digest}`), 200);
    const tags = await tagList();
    assert.ok(!tags.includes('t-one') && tags.includes('t-two'));
  });

  it('an unknown tag → 404 MANIFEST_UNKNOWN', async () => {
    const res = await client.request(`/v2/${NAME}/manifests/never-was`, { method: 'DELETE' });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
  });
});

describe('DELETE manifest by digest', () => {
  it('→ 202; the revision and every tag pointing at it go; other tags stay', async () => {
    const digest = await tagged('d-one', 'd-two', 'd-three');
    const other = await tagged('d-other');
    const del = await client.request(`/v2/${NAME}/manifests/${digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal(await status(`/v2/${NAME}/manifests/${digest}`), 404);
    assert.equal(await status(`/v2/${NAME}/manifests/${digest}`, 'HEAD'), 404);
    for (const tag of ['d-one', 'd-two', 'd-three']) assert.equal(await status(`/v2/${NAME}/manifests/${tag}`), 404, tag);
    const tags = await tagList();
    for (const tag of ['d-one', 'd-two', 'd-three']) assert.ok(!tags.includes(tag));
    assert.ok(tags.includes('d-other'));
    assert.equal(await status(`/v2/${NAME}/manifests/${other}`), 200);
    await assert.rejects(wharf.driver.stat(paths.revisionLink(NAME, parseDigest(digest))));
  });

  it('a tag that moved away from the digest survives its deletion', async () => {
    const first = await tagged('moves');
    const second = await tagged('stays-on-first');
    void second;
    await tagged('moves'); // now `moves` points at a new manifest
    assert.notEqual((await client.request(`/v2/${NAME}/manifests/moves`, { method: 'HEAD' })).headers.get('docker-content-digest'), first);
    assert.equal((await client.request(`/v2/${NAME}/manifests/${first}`, { method: 'DELETE' })).status, 202);
    assert.equal(await status(`/v2/${NAME}/manifests/moves`), 200);
  });

  it('an unknown digest → 404 MANIFEST_UNKNOWN; deleting twice → 404', async () => {
    const res = await client.request(`/v2/${NAME}/manifests/${sha256('none')}`, { method: 'DELETE' });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
    const digest = await tagged('twice');
    assert.equal(await status(`/v2/${NAME}/manifests/${digest}`, 'DELETE'), 202);
    const again = await client.request(`/v2/${NAME}/manifests/${digest}`, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), 'MANIFEST_UNKNOWN');
  });

  it('a malformed digest → 400 DIGEST_INVALID', async () => {
    const res = await client.request(`/v2/${NAME}/manifests/sha256:1234`, { method: 'DELETE' });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
  });

  it('a deleted manifest can be pushed again', async () => {
    const config = await client.pushBlob(NAME, randomBytes(16), OCI_CONFIG);
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] };
    const { digest } = await client.pushManifest(NAME, 'again', manifest);
    assert.equal(await status(`/v2/${NAME}/manifests/${digest}`, 'DELETE'), 202);
    await client.pushManifest(NAME, 'again', manifest);
    assert.equal(await status(`/v2/${NAME}/manifests/again`), 200);
  });
});

describe('DELETE blob', () => {
  it('→ 202, then GET and HEAD → 404 BLOB_UNKNOWN; other repositories keep it', async () => {
    const content = randomBytes(256);
    const { digest } = await client.pushBlob(NAME, content);
    await client.pushBlob('manage/other', content);
    const del = await client.request(`/v2/${NAME}/blobs/${digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const get = await client.request(`/v2/${NAME}/blobs/${digest}`);
    assert.equal(get.status, 404);
    assert.equal(await errorCode(get), 'BLOB_UNKNOWN');
    assert.equal(await status(`/v2/${NAME}/blobs/${digest}`, 'HEAD'), 404);
    assert.equal(await status(`/v2/manage/other/blobs/${digest}`), 200);
    // Space comes back at GC: the content itself is still stored.
    assert.equal((await wharf.driver.stat(paths.blobData(parseDigest(digest)))).size, 256);
  });

  it('an unknown blob → 404 BLOB_UNKNOWN', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${sha256('never')}`, { method: 'DELETE' });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  });

  it('a malformed digest → 400 DIGEST_INVALID', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/sha256:zz`, { method: 'DELETE' });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
  });
});

describe('deletes disabled (storage.delete.enabled off)', () => {
  let off: TestWharf;
  let c: TestClient;
  let digest: string;
  let blob: string;

  before(async () => {
    off = await startTestWharf({ deleteEnabled: false });
    c = new TestClient(off.url);
    const image = await c.pushImage(NAME, 'kept');
    digest = image.digest;
    blob = image.layers[0]?.digest ?? '';
  });
  after(() => off.stop(0));

  for (const [label, path] of [
    ['manifest by tag', () => `/v2/${NAME}/manifests/kept`],
    ['manifest by digest', () => `/v2/${NAME}/manifests/${digest}`],
    ['blob', () => `/v2/${NAME}/blobs/${blob}`],
  ] as const) {
    it(`DELETE ${label} → 405 UNSUPPORTED and nothing goes`, async () => {
      const res = await c.request(path(), { method: 'DELETE' });
      assert.equal(res.status, 405);
      assert.equal(await errorCode(res), 'UNSUPPORTED');
      const get = await c.request(path());
      assert.equal(get.status, 200);
      await get.arrayBuffer();
    });
  }

  it('pushes still work', async () => {
    await c.pushImage(NAME, 'pushed');
  });
});
