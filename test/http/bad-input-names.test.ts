/**
 * Invalid repository names on every route: 400 NAME_INVALID (never 404 for a malformed name, never
 * 500), sent byte for byte (`node:http` does not normalise `..` as fetch would). Names at the
 * length limit and names containing route words work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstErrorCode, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, sha256 } from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

/** A request whose path goes out exactly as written. */
const raw = (method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(wharf.url, method, path, headers, body);

const DIGEST = sha256('anything');
const MANIFEST_BODY = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: DIGEST, size: 8 }, layers: [] });

/** Every route that takes a name, as [method, path suffix after the name, body]. */
const ROUTES: [string, string, string?][] = [
  ['GET', '/manifests/latest'],
  ['HEAD', '/manifests/latest'],
  ['PUT', '/manifests/latest', MANIFEST_BODY],
  ['DELETE', `/manifests/${DIGEST}`],
  ['GET', `/blobs/${DIGEST}`],
  ['DELETE', `/blobs/${DIGEST}`],
  ['POST', '/blobs/uploads/'],
  ['POST', `/blobs/uploads/?mount=${DIGEST}&from=library/base`],
  ['GET', '/blobs/uploads/6f1e7c2e-1d2f-4c5b-9a7e-0123456789ab'],
  ['PATCH', '/blobs/uploads/6f1e7c2e-1d2f-4c5b-9a7e-0123456789ab', 'data'],
  ['PUT', `/blobs/uploads/6f1e7c2e-1d2f-4c5b-9a7e-0123456789ab?digest=${DIGEST}`, 'data'],
  ['DELETE', '/blobs/uploads/6f1e7c2e-1d2f-4c5b-9a7e-0123456789ab'],
  ['GET', '/tags/list'],
  ['GET', `/referrers/${DIGEST}`],
];

const BAD_NAMES: [string, string][] = [
  ['uppercase', 'Library/Alpine'],
  ['uppercase in a later component', 'library/Alpine'],
  ['a `..` component', 'library/../etc'],
  ['`..` alone', '..'],
  ['leading `..`', '../../etc/passwd'],
  ['`%2e%2e` (encoded ..)', 'library/%2e%2e/etc'],
  ['`%2E%2E` alone', '%2E%2E'],
  ['a `.` component', 'library/./alpine'],
  ['an encoded slash', 'library%2falpine'],
  ['an empty component (a//b)', 'a//b'],
  ['a trailing slash', 'library/alpine/'],
  ['a leading slash', '/library'],
  ['a `_` component (storage marker)', 'library/_manifests'],
  ['a component starting with `_`', '_uploads'],
  ['three underscores', 'a___b'],
  ['a leading separator', '-abc'],
  ['a trailing separator', 'abc-'],
  ['a dot then a dash', 'a.-b'],
  ['a NUL byte (encoded)', 'a%00b'],
  ['a backslash (encoded)', 'a%5c..%5cb'],
  ['non-ASCII (encoded)', 'caf%c3%a9'],
  ['256 characters', 'a'.repeat(256)],
  ['256 characters over components', `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(54)}`],
];

describe('invalid repository names → 400 NAME_INVALID', () => {
  for (const [label, name] of BAD_NAMES) {
    it(`${label}: ${name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name}`, async () => {
      for (const [method, suffix, body] of ROUTES) {
        const res = await raw(method, `/v2/${name}${suffix}`, body, body === undefined ? {} : { 'Content-Type': OCI_MANIFEST });
        assert.equal(res.status, 400, `${method} ${suffix}`);
        if (method !== 'HEAD') assert.equal(firstErrorCode(res), 'NAME_INVALID', `${method} ${suffix}`);
        assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
      }
    });
  }

  it('the error says what is wrong with the name', async () => {
    const long = await raw('GET', `/v2/${'a'.repeat(256)}/tags/list`);
    assert.match(JSON.parse(long.body.toString()).errors[0].message, /255/);
    const upper = await raw('GET', '/v2/UPPER/tags/list');
    assert.match(JSON.parse(upper.body.toString()).errors[0].message, /lower-case/);
  });
});

describe('valid names', () => {
  const GOOD: [string, string][] = [
    ['255 characters in one component', 'a'.repeat(255)],
    ['255 characters over components', `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(53)}`],
    ['separators', 'a.b_c__d-e--f/g'],
    ['digits', '0/1/2'],
    ['route words as components', 'x/manifests/blobs/uploads/tags/list/referrers'],
  ];
  for (const [label, name] of GOOD) {
    it(`${label} (${name.length} chars): push, pull, list`, async () => {
      const image = await client.pushImage(name, 'latest');
      const get = await client.request(`/v2/${name}/manifests/latest`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('docker-content-digest'), image.digest);
      await get.arrayBuffer();
      const blob = await client.request(`/v2/${name}/blobs/${image.layers[0]?.digest}`);
      assert.equal(blob.status, 200);
      await blob.arrayBuffer();
      const tags = await client.request(`/v2/${name}/tags/list`);
      assert.deepEqual(await tags.json(), { name, tags: ['latest'] });
    });
  }

  it('a name ending in a route word is not confused with the route', async () => {
    await client.pushImage('x/manifests', 'v1');
    await client.pushImage('x/blobs', 'v1');
    const tags = await client.request('/v2/x/manifests/tags/list');
    assert.deepEqual(await tags.json(), { name: 'x/manifests', tags: ['v1'] });
    const blobsRepo = await client.request('/v2/x/blobs/manifests/v1');
    assert.equal(blobsRepo.status, 200);
    await blobsRepo.arrayBuffer();
  });

  it('the catalog lists the valid names exactly', async () => {
    const res = await client.request('/v2/_catalog?n=1000');
    const { repositories } = (await res.json()) as { repositories: string[] };
    assert.ok(repositories.includes('a'.repeat(255)));
    assert.ok(repositories.includes('x/manifests/blobs/uploads/tags/list/referrers'));
    assert.ok(repositories.every((r) => r.length <= 255 && !r.includes('..')));
  });
});
