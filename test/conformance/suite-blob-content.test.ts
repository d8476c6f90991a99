/**
 * Data-driven conformance suite, blob contents (the rest of TestBlobAPIs in run.go of the rewrite), for
 * sha256 and for sha512: range requests on a 2048-byte blob (206 with the slice, its length and its
 * Content-Range; 416 for ranges that cannot be met), the empty blob and the empty JSON object, and each
 * way to push a blob whose bytes do not match the digest claimed (400 DIGEST_INVALID, nothing stored).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { CHUNK_MIN, SuiteApi } from './suite-api.js';
import { TestData, digestOf, type Algo } from './suite-data.js';
import { REPO1 } from './suite-flow.js';

interface RangeCase {
  readonly range: string;
  /** The slice a 206 carries, or undefined for a 416. */
  readonly slice?: readonly [number, number];
}

const BLOB_LEN = 2048;
const RANGES: readonly RangeCase[] = [
  { range: 'bytes=500-1499', slice: [500, 1500] },
  { range: 'bytes=500-', slice: [500, BLOB_LEN] },
  { range: 'bytes=-500', slice: [BLOB_LEN - 500, BLOB_LEN] },
  { range: 'bytes=2000-5000', slice: [2000, BLOB_LEN] },
  { range: 'bytes=500-0' },
  { range: 'bytes=5000-10000' },
];

for (const algo of ['sha256', 'sha512'] as const satisfies readonly Algo[]) {
  describe(`conformance suite: ${algo} blob contents`, () => {
    let wharf: TestWharf;
    let api: SuiteApi;
    const td = new TestData(`Blobs ${algo}`);
    before(async () => {
      wharf = await startTestWharf();
      api = new SuiteApi(wharf.url);
    });
    after(async () => wharf.stop());

    describe('range requests', () => {
      const { digest, bytes } = td.genBlob({ blobSize: BLOB_LEN, algo });
      it('setup: push a 2048-byte blob', async () => api.blobPostPut(REPO1, digest, bytes));
      for (const rc of RANGES) {
        it(`${rc.range} answers ${rc.slice === undefined ? 416 : 206}`, async () => {
          const res = await api.do({ method: 'GET', url: api.url(`/v2/${REPO1}/blobs/${digest}`), headers: { Range: rc.range } });
          if (rc.slice === undefined) {
            assert.equal(res.status, 416, `${rc.range} answered ${res.status}`);
            assert.equal(res.header('Content-Range'), `bytes */${BLOB_LEN}`);
            return;
          }
          const [from, to] = rc.slice;
          assert.equal(res.status, 206, `${rc.range} answered ${res.status} (200 would be a range request ignored)`);
          assert.ok(res.body.equals(bytes.subarray(from, to)), 'the body is the slice asked for');
          assert.equal(res.header('Content-Length'), String(to - from));
          assert.equal(res.header('Content-Range'), `bytes ${from}-${to - 1}/${BLOB_LEN}`);
        });
      }
      it('cleanup: delete the blob', async () => api.blobDelete(REPO1, digest));
    });

    for (const [name, value] of [['emptyJSON', Buffer.from('{}')], ['empty', Buffer.alloc(0)]] as const) {
      it(`the ${name} blob: push, HEAD, GET, DELETE`, async () => {
        const digest = digestOf(algo, value);
        await api.blobPostPut(REPO1, digest, value);
        await api.blobHeadExists(REPO1, digest, value);
        await api.blobGetExists(REPO1, digest, value);
        await api.blobDelete(REPO1, digest);
      });
    }

    describe('pushes whose bytes do not match the digest answer 400 and store nothing', () => {
      const corrupt = (): { digest: string; bytes: Buffer; actual: string } => {
        const { digest, bytes } = td.genBlob({ blobSize: CHUNK_MIN * 3 - 5, algo });
        const tampered = Buffer.concat([bytes, Buffer.from('oh no')]);
        return { digest, bytes: tampered, actual: digestOf(algo, tampered) };
      };
      const cases: readonly [string, (digest: string, bytes: Buffer) => Promise<unknown>][] = [
        ['post only', (d, b) => api.blobPostOnly(REPO1, d, b, { badDigest: true })],
        ['post+put', (d, b) => api.blobPostPut(REPO1, d, b, { badDigest: true })],
        ['chunked', (d, b) => api.blobPatchChunked(REPO1, d, b, { badDigest: true })],
        // The suite runs this case exactly as "chunked"; the last chunk in the PUT is what its name says.
        ['chunked and put chunk', (d, b) => api.blobPatchChunked(REPO1, d, b, { badDigest: true, putLastChunk: true })],
        ['stream', (d, b) => api.blobPatchStream(REPO1, d, b, { badDigest: true })],
      ];
      for (const [name, push] of cases) {
        it(`bad digest ${name}`, async () => {
          const blob = corrupt();
          await push(blob.digest, blob.bytes);
          await api.blobAbsent(REPO1, blob.digest);
          await api.blobAbsent(REPO1, blob.actual);
        });
      }
    });
  });
}
