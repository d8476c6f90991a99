/**
 * Invalid digests (400 DIGEST_INVALID on every route and parameter that takes one; never 404 or
 * 500) and invalid tags (400 TAG_INVALID); sent byte for byte with `node:http`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { firstErrorCode, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, sha256 } from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'bad/digests';
let manifestBody: string;

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
  const config = await client.pushBlob(NAME, Buffer.from('{}'), OCI_CONFIG);
  manifestBody = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
  await client.pushManifest(NAME, 'latest', manifestBody);
});
after(() => wharf.stop(0));

const raw = (method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(wharf.url, method, path, headers, body);

const HEX64 = 'a'.repeat(64);
const BAD_DIGESTS: [string, string][] = [
  ['too short', 'sha256:short'],
  ['63 hex', `sha256:${'a'.repeat(63)}`],
  ['65 hex', `sha256:${'a'.repeat(65)}`],
  ['upper-case hex', `sha256:${'A'.repeat(64)}`],
  ['md5', 'md5:d41d8cd98f00b204e9800998ecf8427e'],
  ['sha1', 'sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ['unknown algorithm of a good shape', `sha384:${'a'.repeat(96)}`],
  ['upper-case algorithm', `SHA256:${HEX64}`],
  ['64 non-hex', `sha256:${'g'.repeat(64)}`],
  ['sha512 with 64 hex', `sha512:${HEX64}`],
  ['empty encoded part', 'sha256:'],
  ['empty algorithm', `:${HEX64}`],
  ['two colons', `sha256:${HEX64}:x`],
  ['traversal in the encoded part', `sha256:..%2f..%2f${'a'.repeat(58)}`],
  ['encoded dots', `sha256:%2e%2e${'a'.repeat(62)}`],
  ['very long', `sha256:${'a'.repeat(5000)}`],
];

describe('invalid digests → 400 DIGEST_INVALID', () => {
  for (const [label, digest] of BAD_DIGESTS) {
    it(`${label}: ${digest.length > 50 ? `${digest.slice(0, 30)}…` : digest}`, async () => {
      const routes: [string, string, string?][] = [
        ['GET', `/v2/${NAME}/blobs/${digest}`],
        ['DELETE', `/v2/${NAME}/blobs/${digest}`],
        ['GET', `/v2/${NAME}/manifests/${digest}`],
        ['PUT', `/v2/${NAME}/manifests/${digest}`, manifestBody],
        ['DELETE', `/v2/${NAME}/manifests/${digest}`],
        ['GET', `/v2/${NAME}/referrers/${digest}`],
        ['POST', `/v2/${NAME}/blobs/uploads/?digest=${digest}`, 'abc'],
        ['POST', `/v2/${NAME}/blobs/uploads/?mount=${digest}&from=${NAME}`],
      ];
      for (const [method, path, body] of routes) {
        const res = await raw(method, path, body, body === undefined ? {} : { 'Content-Type': OCI_MANIFEST });
        assert.equal(res.status, 400, `${method} ${path.slice(0, 80)}`);
        assert.equal(firstErrorCode(res), 'DIGEST_INVALID', `${method} ${path.slice(0, 80)}`);
      }
    });
  }

  it('HEAD with an invalid digest → 400 without a body', async () => {
    const res = await raw('HEAD', `/v2/${NAME}/blobs/sha256:short`);
    assert.equal(res.status, 400);
    assert.equal(res.body.length, 0);
  });

  it('no colon on a blob route → 400 DIGEST_INVALID (not a tag, not 404)', async () => {
    for (const digest of ['latest', HEX64, '%2e%2e', '..']) {
      const res = await raw('GET', `/v2/${NAME}/blobs/${digest}`);
      assert.equal(res.status, 400, digest);
      assert.equal(firstErrorCode(res), 'DIGEST_INVALID', digest);
    }
  });

  it('closing PUT with an invalid digest → 400 DIGEST_INVALID, the session stays usable', async () => {
    const content = randomBytes(64);
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const path = new URL(start.headers.get('location') ?? '').pathname;
    for (const [, digest] of BAD_DIGESTS.slice(0, 6)) {
      const res = await raw('PUT', `${path}?digest=${digest}`, content);
      assert.equal(res.status, 400, digest);
      assert.equal(firstErrorCode(res), 'DIGEST_INVALID');
    }
    const ok = await raw('PUT', `${path}?digest=${sha256(content)}`, content);
    assert.equal(ok.status, 201);
  });
});

describe('invalid tags → 400 TAG_INVALID', () => {
  const BAD_TAGS: [string, string][] = [
    ['129 characters', 'a'.repeat(129)],
    ['a leading dot', '.hidden'],
    ['a leading dash', '-flag'],
    ['`..`', '..'],
    ['`.`', '.'],
    ['encoded dots', '%2e%2e'],
    ['a plus', 'v1+build'],
    ['encoded slash', 'a%2fb'],
    ['non-ASCII', 'caf%c3%a9'],
  ];
  for (const [label, tag] of BAD_TAGS) {
    it(`${label}: PUT and DELETE → 400 TAG_INVALID; GET → 404 MANIFEST_UNKNOWN`, async () => {
      const put = await raw('PUT', `/v2/${NAME}/manifests/${tag}`, manifestBody, { 'Content-Type': OCI_MANIFEST });
      assert.equal(put.status, 400, 'PUT');
      assert.equal(firstErrorCode(put), 'TAG_INVALID');
      const del = await raw('DELETE', `/v2/${NAME}/manifests/${tag}`);
      assert.equal(del.status, 400, 'DELETE');
      assert.equal(firstErrorCode(del), 'TAG_INVALID');
      // A reference that can be no tag names no manifest (what the OCI conformance suite expects).
      const get = await raw('GET', `/v2/${NAME}/manifests/${tag}`);
      assert.equal(get.status, 404, 'GET');
      assert.equal(firstErrorCode(get), 'MANIFEST_UNKNOWN');
      const head = await raw('HEAD', `/v2/${NAME}/manifests/${tag}`);
      assert.equal(head.status, 404, 'HEAD');
    });
  }

  it('128 characters, `_` first, and mixed case are valid tags', async () => {
    for (const tag of ['a'.repeat(128), '_underscore', 'Mixed.Case-1_x', '0']) {
      const put = await raw('PUT', `/v2/${NAME}/manifests/${tag}`, manifestBody, { 'Content-Type': OCI_MANIFEST });
      assert.equal(put.status, 201, tag);
      const get = await raw('GET', `/v2/${NAME}/manifests/${tag}`);
      assert.equal(get.status, 200, tag);
    }
  });

  it('?tag= on a push by digest is checked the same way', async () => {
    const res = await raw('PUT', `/v2/${NAME}/manifests/${sha256(manifestBody)}?tag=${'b'.repeat(129)}`, manifestBody, { 'Content-Type': OCI_MANIFEST });
    assert.equal(res.status, 400);
    assert.equal(firstErrorCode(res), 'TAG_INVALID');
  });
});
