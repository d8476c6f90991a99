/**
 * Data-driven conformance suite, first steps and blob APIs (TestPing, TestEmpty and TestBlobAPIs in
 * run.go of the rewrite), for sha256 and for sha512: a GET of a blob never pushed, then each way to push
 * a blob (single POST, POST+PUT, one chunk, streamed, mount with and without `from`, mount of a blob the
 * source lacks, cancelled upload, three chunks, three chunks with the last in the PUT, and both again
 * with an out-of-order chunk before each), each followed by HEAD, GET and DELETE of the blob.
 */
import { expectedChunkMinLength } from '../helpers/object-store.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { CHUNK_MIN, SuiteApi, expectError } from './suite-api.js';
import { TestData, digestOf, randText, type Algo } from './suite-data.js';
import { REPO1, REPO2 } from './suite-flow.js';

describe('conformance suite: ping and an empty repository', () => {
  let wharf: TestWharf;
  let api: SuiteApi;
  before(async () => {
    wharf = await startTestWharf();
    api = new SuiteApi(wharf.url);
  });
  after(async () => wharf.stop());

  it('GET /v2/ answers 200', async () => {
    const res = await api.do({ method: 'GET', url: api.url('/v2/') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), {});
  });

  it('the tag list of a repository never pushed to answers 404 NAME_UNKNOWN', async () => {
    const res = await api.do({ method: 'GET', url: api.url(`/v2/${REPO1}/tags/list`) });
    expectError(res, 404, 'NAME_UNKNOWN', 'tag list of an empty repository');
  });

  it('the referrers of a random digest in that repository are an empty OCI index', async () => {
    const { manifests } = await api.referrers(REPO1, digestOf('sha256', randText()));
    assert.deepEqual(manifests, []);
  });
});

type BlobTest =
  | 'post only' | 'post+put' | 'chunked single' | 'stream' | 'mount' | 'mount anonymous' | 'mount missing' | 'post cancel'
  | 'chunked multi' | 'chunked multi and put chunk' | 'chunked out-of-order' | 'chunked out-of-order and put chunk';

const FIRST_TESTS: readonly BlobTest[] = ['post only', 'post+put', 'chunked single', 'stream', 'mount', 'mount anonymous', 'mount missing', 'post cancel'];
const CHUNKED_TESTS: readonly BlobTest[] = ['chunked multi', 'chunked multi and put chunk', 'chunked out-of-order', 'chunked out-of-order and put chunk'];

for (const algo of ['sha256', 'sha512'] as const satisfies readonly Algo[]) {
  describe(`conformance suite: ${algo} blob push APIs`, () => {
    let wharf: TestWharf;
    let api: SuiteApi;
    const td = new TestData(`Blobs ${algo}`);
    const digests = new Map<BlobTest, string>();
    let minChunkSize = CHUNK_MIN;
    for (const name of FIRST_TESTS) digests.set(name, td.genBlob({ blobSize: 512, algo }).digest);

    before(async () => {
      wharf = await startTestWharf();
      api = new SuiteApi(wharf.url);
    });
    after(async () => wharf.stop());

    const bytesOf = (digest: string): Buffer => {
      const bytes = td.blobs.get(digest);
      assert.ok(bytes !== undefined, `blob ${digest} was generated`);
      return bytes;
    };

    it('GET of a blob never pushed answers 404 BLOB_UNKNOWN', async () => {
      const res = await api.do({ method: 'GET', url: api.url(`/v2/${REPO1}/blobs/${digests.get('post cancel')}`) });
      expectError(res, 404, 'BLOB_UNKNOWN', 'GET of a missing blob');
    });

    for (const name of [...FIRST_TESTS, ...CHUNKED_TESTS]) {
      it(`${name}: push, then HEAD, GET and DELETE`, async () => {
        if (CHUNKED_TESTS.includes(name)) digests.set(name, td.genBlob({ blobSize: minChunkSize * 3 - 5, algo }).digest);
        const digest = digests.get(name) ?? '';
        const bytes = bytesOf(digest);
        switch (name) {
          case 'post only': await api.blobPostOnly(REPO1, digest, bytes); break;
          case 'post+put': await api.blobPostPut(REPO1, digest, bytes); break;
          case 'chunked single': {
            const min = await api.blobPatchChunked(REPO1, digest, bytes);
            assert.equal(min, expectedChunkMinLength(), 'the minimum chunk length of the storage (S3: its part size), none for inmemory');
            if (min !== '' && Number(min) > minChunkSize) minChunkSize = Number(min);
            break;
          }
          case 'stream': await api.blobPatchStream(REPO1, digest, bytes); break;
          case 'mount':
            await api.blobPostPut(REPO2, digest, bytes);
            await api.blobMount(REPO1, REPO2, digest, bytes);
            break;
          case 'mount anonymous':
            await api.blobPostPut(REPO2, digest, bytes);
            await api.blobMount(REPO1, undefined, digest, bytes);
            break;
          case 'mount missing': await api.blobMountMissing(REPO1, REPO2, digest, bytes); break;
          case 'post cancel': await api.blobPostCancel(REPO1); break;
          case 'chunked multi': await api.blobPatchChunked(REPO1, digest, bytes); break;
          case 'chunked multi and put chunk': await api.blobPatchChunked(REPO1, digest, bytes, { putLastChunk: true }); break;
          case 'chunked out-of-order': await api.blobPatchChunked(REPO1, digest, bytes, { outOfOrder: true }); break;
          case 'chunked out-of-order and put chunk': await api.blobPatchChunked(REPO1, digest, bytes, { outOfOrder: true, putLastChunk: true }); break;
        }
        if (name !== 'post cancel') {
          await api.blobHeadExists(REPO1, digest, bytes);
          await api.blobGetExists(REPO1, digest, bytes);
        }
        await api.blobDelete(REPO1, digest, name === 'post cancel' ? 404 : 202);
        if (name === 'mount' || name === 'mount anonymous') await api.blobDelete(REPO2, digest);
      });
    }

    it('the chunked pushes span three chunks of the minimum size', () => {
      const bytes = bytesOf(digests.get('chunked multi') ?? '');
      assert.equal(bytes.length, 3 * Math.max(CHUNK_MIN, Number(expectedChunkMinLength() || 0)) - 5);
      assert.ok(digests.get('chunked multi')?.startsWith(`${algo}:`));
    });
  });
}
