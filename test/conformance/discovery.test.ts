/**
 * Conformance port, area 3: Content Discovery (OCI_TEST_CONTENT_DISCOVERY): tag listing with `n`
 * and `last`, and the referrers API with and without the artifactType filter, including
 * `OCI-Subject` on pushes, a subject pushed after its referrers and a subject never pushed. Run
 * with the suite's setup in both delete orders (OCI_DELETE_MANIFEST_BEFORE_BLOBS), and without
 * setup on tags already in the registry (OCI_TAG_LIST).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient } from '../helpers/client.js';
import {
  ARTIFACT_TYPE_A, ARTIFACT_TYPE_B, ARTIFACT_TYPE_INDEX, ANNOTATION_KEY, EMPTY_JSON_DIGEST, OCI_INDEX, OCI_MANIFEST, RawClient,
  TEST_TAG, assertBlobCreated, assertManifestCreated, assertStatus, at, makeFixtures, putManifest, uploadBlob,
  type Fixtures, type TestBlob,
} from './helpers.js';

interface TagList {
  name: string;
  tags: string[];
}

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }[];
}

/** The tag-listing checks; `expected` is every tag the repository holds, sorted. */
function tagListingChecks(name: string, getClient: () => RawClient, expected: () => readonly string[]) {
  describe('Listing tags', () => {
    let tagList: string[] = [];
    let numTags = 0;

    it('GET of the tag list answers 200 with every tag, sorted', async () => {
      const reply = await getClient().send('GET', `/v2/${name}/tags/list`);
      assertStatus(reply, 200);
      assert.match(reply.header('Content-Type'), /^application\/json/);
      const body = reply.json<TagList>();
      assert.equal(body.name, name);
      assert.deepEqual(body.tags, expected());
      assert.equal(reply.header('Link'), '');
      tagList = body.tags;
      numTags = tagList.length;
    });

    it('`n` limits the number of tags and a Link names the next page', async () => {
      const n = Math.floor(numTags / 2);
      const reply = await getClient().send('GET', `/v2/${name}/tags/list`, { query: { n: String(n) } });
      assertStatus(reply, 200);
      const tags = reply.json<TagList>().tags;
      assert.equal(tags.length, n);
      assert.deepEqual(tags, tagList.slice(0, n));
      const link = /^<([^>]+)>; rel="next"$/.exec(reply.header('Link'));
      assert.ok(link, `Link header ${reply.header('Link')}`);
      const next = new URL(link[1] ?? '', 'http://x');
      assert.equal(next.pathname, `/v2/${name}/tags/list`);
      assert.equal(next.searchParams.get('n'), String(n));
      assert.equal(next.searchParams.get('last'), tags.at(-1));
    });

    it('`last` starts the list after the tag it names', async () => {
      const n = Math.floor(numTags / 2);
      const first = (await getClient().send('GET', `/v2/${name}/tags/list`, { query: { n: String(n) } })).json<TagList>().tags;
      const last = at(first, n - 1);
      const reply = await getClient().send('GET', `/v2/${name}/tags/list`, { query: { n: String(n), last } });
      assertStatus(reply, 200);
      const tags = reply.json<TagList>().tags;
      assert.ok(tags.length <= n);
      assert.ok(tags.every((t) => t > last));
      assert.deepEqual(tags, tagList.slice(n, 2 * n));
    });
  });
}

/** The referrers the suite pushes for manifests[4], with the artifactType each must be listed with. */
function expectedReferrers(fx: Fixtures): Map<string, { blob: TestBlob; mediaType: string; artifactType: string }> {
  return new Map([
    [fx.refsAConfig.digest, { blob: fx.refsAConfig, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE_A }],
    [fx.refsALayer.digest, { blob: fx.refsALayer, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE_A }],
    [fx.refsIndex.digest, { blob: fx.refsIndex, mediaType: OCI_INDEX, artifactType: ARTIFACT_TYPE_INDEX }],
    [fx.refsBConfig.digest, { blob: fx.refsBConfig, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE_B }],
    [fx.refsBLayer.digest, { blob: fx.refsBLayer, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE_B }],
  ]);
}

async function getReferrers(client: RawClient, name: string, digest: string, query: Record<string, string> = {}) {
  const reply = await client.send('GET', `/v2/${name}/referrers/${digest}`, { query });
  assertStatus(reply, 200);
  assert.equal(reply.header('Content-Type'), OCI_INDEX);
  const index = reply.json<ReferrersIndex>();
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.mediaType, OCI_INDEX);
  return { reply, index };
}

for (const deleteManifestBeforeBlobs of [true, false]) {
  describe(`conformance: Content Discovery (${deleteManifestBeforeBlobs ? 'manifests' : 'blobs'} deleted first in teardown)`, () => {
    const name = 'conformance/discovery';
    const fx = makeFixtures();
    const [config2, config4] = [at(fx.configs, 2), at(fx.configs, 4)];
    const [manifest2, manifest3, manifest4] = [at(fx.manifests, 2), at(fx.manifests, 3), at(fx.manifests, 4)];
    const referrers = expectedReferrers(fx);
    let wharf: TestWharf;
    let client: RawClient;

    before(async () => {
      wharf = await startTestWharf();
      client = new RawClient(wharf.url);
    });
    after(async () => wharf.stop());

    describe('Setup', () => {
      it('populates the registry with a config, a layer and four tags', async () => {
        for (const blob of [config2, fx.layer]) assertBlobCreated(await uploadBlob(client, name, blob), name, blob.digest);
        for (let i = 0; i < 4; i++) assertManifestCreated(await putManifest(client, name, `test${i}`, manifest2.content), name, manifest2.digest);
      });

      it('pushes referrers before and after their subject, answering OCI-Subject', async () => {
        assert.equal(fx.emptyJson.digest, EMPTY_JSON_DIGEST);
        const referrer = async (blob: TestBlob, subject: string, mediaType = OCI_MANIFEST) => {
          const reply = await putManifest(client, name, blob.digest, blob.content, mediaType);
          assertManifestCreated(reply, name, blob.digest);
          assert.equal(reply.header('OCI-Subject'), subject);
        };
        for (const blob of [fx.emptyJson, fx.refBlobA]) assertBlobCreated(await uploadBlob(client, name, blob), name, blob.digest);
        await referrer(fx.refsAConfig, manifest4.digest);
        await referrer(fx.refsALayer, manifest4.digest);
        await referrer(fx.refsIndex, manifest4.digest, OCI_INDEX);
        for (const blob of [config4, fx.layer]) assertBlobCreated(await uploadBlob(client, name, blob), name, blob.digest);
        const subject = await putManifest(client, name, TEST_TAG, manifest4.content);
        assertManifestCreated(subject, name, manifest4.digest);
        assert.equal(subject.header('OCI-Subject'), '');
        assertBlobCreated(await uploadBlob(client, name, fx.refBlobB), name, fx.refBlobB.digest);
        await referrer(fx.refsBConfig, manifest4.digest);
        await referrer(fx.refsBLayer, manifest4.digest);
        await referrer(fx.refsCLayer, manifest3.digest);
      });
    });

    tagListingChecks(name, () => client, () => ['tagtest0', 'test0', 'test1', 'test2', 'test3']);

    describe('Listing referrers', () => {
      it('the referrers of a nonexistent digest are an empty index', async () => {
        const { index } = await getReferrers(client, name, fx.dummyDigest);
        assert.deepEqual(index.manifests, []);
      });

      it('the referrers of a manifest are all five, each with its annotation and artifactType', async () => {
        const { reply, index } = await getReferrers(client, name, manifest4.digest);
        assert.equal(reply.header('OCI-Filters-Applied'), '');
        assert.equal(index.manifests.length, 5);
        assert.equal(new Set(index.manifests.map((m) => m.digest)).size, 5);
        for (const m of index.manifests) {
          const want = referrers.get(m.digest);
          assert.ok(want, `${m.digest} is one of the referrers pushed`);
          assert.deepEqual(m.annotations, { [ANNOTATION_KEY]: fx.annotations.get(m.digest) });
          assert.equal(m.mediaType, want.mediaType);
          assert.equal(m.size, want.blob.size);
          assert.equal(m.artifactType, want.artifactType);
        }
      });

      it('the artifactType filter keeps the two matching referrers and says it was applied', async () => {
        const { reply, index } = await getReferrers(client, name, manifest4.digest, { artifactType: ARTIFACT_TYPE_A });
        assert.equal(reply.header('OCI-Filters-Applied'), 'artifactType');
        assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [fx.refsAConfig.digest, fx.refsALayer.digest].sort());
        for (const m of index.manifests) {
          assert.deepEqual(m.annotations, { [ANNOTATION_KEY]: fx.annotations.get(m.digest) });
          assert.equal(m.artifactType, ARTIFACT_TYPE_A);
        }
      });

      it('the referrers of a subject that was never pushed list the one referrer', async () => {
        const { index } = await getReferrers(client, name, manifest3.digest);
        assert.equal(index.manifests.length, 1);
        assert.equal(at(index.manifests, 0).digest, fx.refsCLayer.digest);
        assert.equal(at(index.manifests, 0).artifactType, ARTIFACT_TYPE_B);
      });
    });

    describe('Teardown', () => {
      const del = async (path: string, status: number) => assertStatus(await client.send('DELETE', path), status, `DELETE ${path}`);
      // The tag goes with the manifest it points at, so deleting it afterwards finds nothing.
      const deleteManifestsAndTags = async () => {
        for (const ref of [fx.refsIndex.digest, manifest2.digest, manifest4.digest, fx.refsAConfig.digest, fx.refsALayer.digest]) {
          await del(`/v2/${name}/manifests/${ref}`, 202);
        }
        await del(`/v2/${name}/manifests/${TEST_TAG}`, 404);
        for (const ref of [fx.refsBConfig.digest, fx.refsBLayer.digest, fx.refsCLayer.digest]) await del(`/v2/${name}/manifests/${ref}`, 202);
      };
      const deleteReferrersAgain = async () => {
        for (const ref of [fx.refsIndex, fx.refsAConfig, fx.refsALayer, manifest4, fx.refsBConfig, fx.refsBLayer]) {
          await del(`/v2/${name}/manifests/${ref.digest}`, 404);
        }
      };

      it('deletes the manifests, tags and blobs the tests created', async () => {
        if (deleteManifestBeforeBlobs) await deleteManifestsAndTags();
        await del(`/v2/${name}/blobs/${config2.digest}`, 202);
        await del(`/v2/${name}/blobs/${fx.layer.digest}`, 202);
        if (!deleteManifestBeforeBlobs) await deleteManifestsAndTags();
        if (deleteManifestBeforeBlobs) await deleteReferrersAgain();
        for (const blob of [config4, fx.refBlobA, fx.refBlobB, fx.emptyJson]) await del(`/v2/${name}/blobs/${blob.digest}`, 202);
        if (!deleteManifestBeforeBlobs) await deleteReferrersAgain();
      });

      it('deleted referrers are gone from the referrers list, and the tags from the tag list', async () => {
        assert.deepEqual((await getReferrers(client, name, manifest4.digest)).index.manifests, []);
        assert.deepEqual((await getReferrers(client, name, manifest3.digest)).index.manifests, []);
        const tags = await client.send('GET', `/v2/${name}/tags/list`);
        if (tags.status === 200) assert.deepEqual(tags.json<TagList>().tags, []);
        else assertStatus(tags, 404);
      });
    });
  });
}

describe('conformance: Content Discovery (without setup, on tags named by the environment)', () => {
  const name = 'conformance/discovery-env';
  const tags = ['alpha', 'beta', 'gamma', 'v1.0', 'v1.1', 'v2'];
  let wharf: TestWharf;
  let client: RawClient;

  before(async () => {
    wharf = await startTestWharf();
    client = new RawClient(wharf.url);
    const pusher = new TestClient(wharf.url);
    const image = await pusher.pushImage(name, at(tags, 0));
    for (const tag of tags.slice(1)) await pusher.pushManifest(name, tag, image.manifest);
  });
  after(async () => wharf.stop());

  tagListingChecks(name, () => client, () => tags);
});
