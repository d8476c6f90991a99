/**
 * Data-driven conformance suite, push variants and manifest errors (run.go of the rewrite): indexes pushed
 * by digest with `?tag=` parameters (sha256 and sha512, OCI-Tag naming each tag), a manifest whose bytes do
 * not match its digest, manifests that are missing by digest and by tag, a digest that is not one
 * ("sha256:baddigeststring"), the checks the suite makes on content it is only told about (its read-only
 * inputs), and sparse manifests, which the suite sends only when told to.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient } from '../helpers/client.js';
import { SuiteApi, expectError } from './suite-api.js';
import { MT, TestData, digestOf, randText } from './suite-data.js';
import { PUSH_VARIANT_SETS, sparseSet } from './suite-sets.js';
import { REPO1, dataSetSteps, deleteDataSet } from './suite-flow.js';

describe('conformance suite: push variants and manifest errors', () => {
  let wharf: TestWharf;
  let api: SuiteApi;
  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
  });
  after(async () => wharf.stop());

  it('the tag-parameter sets tag every manifest, and the index twice', () => {
    const td = PUSH_VARIANT_SETS['tag-param-sha512']();
    assert.equal(td.manOrder.length, 3);
    assert.equal(td.tags.size, 4);
    const index = td.manOrder[2] ?? '';
    assert.deepEqual([...td.tags].filter(([, d]) => d === index).map(([t]) => t).sort(), ['tag-param-sha512', 'tag-param-sha512-2']);
  });

  for (const [key, make] of Object.entries(PUSH_VARIANT_SETS)) dataSetSteps(key, make, () => api);

  describe('missing manifests', () => {
    it('GET by an unknown digest answers 404 MANIFEST_UNKNOWN', async () => {
      expectError(await api.manifestGet(REPO1, digestOf('sha256', randomBytes(1024))), 404, 'MANIFEST_UNKNOWN', 'GET by digest');
    });

    it('GET by an unknown tag answers 404 MANIFEST_UNKNOWN', async () => {
      const tag = `missing-${randText().toLowerCase().slice(0, 20)}`;
      expectError(await api.manifestGet(REPO1, tag), 404, 'MANIFEST_UNKNOWN', `GET of ${tag}`);
    });
  });

  describe('a reference that is no valid digest', () => {
    const td = new TestData('Invalid Manifest Digest');
    const digest = td.genManifestFull({ layerCount: 1 });
    it('setup: push the blobs', async () => {
      for (const [d, bytes] of td.blobs) await api.blobPostPut(REPO1, d, bytes);
    });
    it('PUT to sha256:baddigeststring answers 400 DIGEST_INVALID', async () => {
      await api.manifestPut(REPO1, 'sha256:baddigeststring', digest, td.manifest(digest), { badDigest: true });
    });
    it('GET of sha256:baddigeststring answers 400 DIGEST_INVALID', async () => {
      expectError(await api.manifestGet(REPO1, 'sha256:baddigeststring'), 400, 'DIGEST_INVALID', 'GET of a malformed digest');
    });
    it('cleanup: the manifest was never stored, the blobs go', async () => {
      td.badDigest.add(digest);
      await deleteDataSet(api, REPO1, td);
    });
  });
});

describe('conformance suite: read-only inputs (content the suite is told about)', () => {
  const name = 'conformance/read-only';
  let wharf: TestWharf;
  let api: SuiteApi;
  const tags = ['ro-first', 'ro-second'];
  let manifests: string[] = [];
  let blobs: string[] = [];
  let subject = '';

  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
    const client = new TestClient(wharf.url);
    const image = await client.pushImage(name, at(tags, 0), { layers: 2 });
    await client.pushManifest(name, at(tags, 1), image.manifest);
    const referrer = await client.pushImage(name, randText().toLowerCase(), { subject: image, artifactType: MT.example1 });
    manifests = [image.digest, referrer.digest];
    blobs = [image.config.digest, ...image.layers.map((l) => l.digest), referrer.config.digest, ...referrer.layers.map((l) => l.digest)];
    subject = image.digest;
  });
  after(async () => wharf.stop());

  it('the tag list holds the tags, and `last` splits it', async () => {
    const { tags: listed } = await api.tagList(name);
    for (const tag of tags) assert.ok(listed.includes(tag));
    const sorted = [...listed].sort();
    const end = Math.floor(sorted.length / 2);
    const partial = await api.tagList(name, sorted[end - 1]);
    assert.deepEqual(partial.tags, sorted.slice(end));
  });

  it('HEAD and GET of each tag, manifest and blob answer 200 with a digest header', async () => {
    for (const tag of tags) {
      await api.manifestHeadExists(name, tag, '', undefined);
      await api.manifestGetExists(name, tag, '', undefined);
    }
    for (const digest of manifests) {
      await api.manifestHeadExists(name, digest, digest, undefined);
      await api.manifestGetExists(name, digest, digest, undefined);
    }
    for (const digest of blobs) {
      await api.blobHeadExists(name, digest, undefined);
      await api.blobGetExists(name, digest, undefined);
    }
  });

  it('the referrers of the subject are an OCI index', async () => {
    const { manifests: listed } = await api.referrers(name, subject);
    assert.deepEqual(listed.map((m) => m.digest), [at(manifests, 1)]);
  });

  it('delete: the manifests by digest, then the blobs, each then gone', async () => {
    for (const digest of [...manifests].reverse()) await api.manifestDelete(name, digest);
    for (const digest of new Set(blobs)) await api.blobDelete(name, digest);
  });
});

describe('conformance suite: sparse manifests (a data set the suite runs only when enabled)', () => {
  let wharf: TestWharf;
  let api: SuiteApi;
  const sparse = sparseSet();
  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
  });
  after(async () => wharf.stop());

  it('push of the blobs it has answers 201', async () => {
    assert.ok(!sparse.td.blobs.has(sparse.missingLayer));
    for (const [digest, bytes] of sparse.td.blobs) await api.blobPostPut(REPO1, digest, bytes);
  });

  it('an image whose layer was never pushed is refused with 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const bytes = sparse.td.manifest(sparse.image);
    const res = await api.do({ method: 'PUT', url: api.url(`/v2/${REPO1}/manifests/${sparse.image}`), headers: { 'Content-Type': MT.image }, body: bytes });
    expectError(res, 400, 'MANIFEST_BLOB_UNKNOWN', 'PUT of an image missing a layer');
  });

  it('an index listing a manifest never pushed is refused with 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const [child] = sparse.td.manOrder.filter((d) => d !== sparse.image && d !== sparse.index);
    assert.ok(child !== undefined);
    await api.manifestPut(REPO1, child, child, sparse.td.manifest(child));
    const res = await api.do({ method: 'PUT', url: api.url(`/v2/${REPO1}/manifests/sparse-index`), headers: { 'Content-Type': MT.index }, body: sparse.td.manifest(sparse.index) });
    expectError(res, 400, 'MANIFEST_BLOB_UNKNOWN', 'PUT of an index missing a child');
  });

  it('cleanup', async () => {
    const td = sparse.td;
    for (const digest of [sparse.image, sparse.index]) td.badDigest.add(digest);
    td.tags.clear();
    await deleteDataSet(api, REPO1, td);
  });
});

function at<T>(list: readonly T[], i: number): T {
  const value = list[i];
  assert.ok(value !== undefined);
  return value;
}
