/**
 * URLs Wharf answers with: `http.prefix` (routes and Location/Link below it), `http.relativeurls`
 * and `http.host`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, errorCode, sha256 } from '../helpers/client.js';

const NAME = 'urls/app';

describe('prefix /reg/', () => {
  let wharf: TestWharf;
  let client: TestClient;
  before(async () => {
    wharf = await startTestWharf({ prefix: '/reg/' });
    client = new TestClient(`${wharf.url}/reg`);
  });
  after(() => wharf.stop(0));

  it('serves the API below the prefix', async () => {
    const res = await client.request('/v2/');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
  });

  it('answers 404 NOT_FOUND outside the prefix', async () => {
    for (const path of ['/v2/', '/regx/v2/', '/re/v2/']) {
      const res = await fetch(`${wharf.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(await errorCode(res), 'NOT_FOUND');
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    }
  });

  it('upload and blob Locations carry the prefix; a full push/pull works through them', async () => {
    const content = randomBytes(100);
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = start.headers.get('location') ?? '';
    assert.match(location, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/reg/v2/${NAME}/blobs/uploads/[^/]+$`));
    const patch = await client.request(location, { method: 'PATCH', body: content });
    assert.match(patch.headers.get('location') ?? '', /\/reg\/v2\//);
    const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT' });
    assert.equal(put.status, 201);
    const blobLocation = put.headers.get('location') ?? '';
    assert.match(blobLocation, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/reg/v2/${NAME}/blobs/${sha256(content)}$`));
    const get = await client.request(blobLocation);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('manifest Location and the tags Link carry the prefix', async () => {
    const image = await client.pushImage(NAME, 'a');
    await client.pushImage(NAME, 'b');
    await client.pushImage('urls/zzz', 'z');
    assert.match(image.response.headers.get('location') ?? '', new RegExp(`/reg/v2/${NAME}/manifests/${image.digest}$`));
    const tags = await client.request(`/v2/${NAME}/tags/list?n=1`);
    assert.equal(tags.headers.get('link'), `</reg/v2/${NAME}/tags/list?last=a&n=1>; rel="next"`);
    await tags.arrayBuffer();
    const catalog = await client.request('/v2/_catalog?n=1');
    assert.equal(catalog.headers.get('link'), '</reg/v2/_catalog?last=urls%2Fapp&n=1>; rel="next"');
    await catalog.arrayBuffer();
  });

  it('mount Location carries the prefix', async () => {
    const { digest } = await client.pushBlob(NAME, randomBytes(10));
    const res = await client.request(`/v2/urls/other/blobs/uploads/?mount=${digest}&from=${NAME}`, { method: 'POST' });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/reg/v2/urls/other/blobs/${digest}$`));
  });
});

describe('relativeUrls', () => {
  let wharf: TestWharf;
  let client: TestClient;
  before(async () => {
    wharf = await startTestWharf({ relativeUrls: true });
    client = new TestClient(wharf.url);
  });
  after(() => wharf.stop(0));

  it('Locations are paths without scheme or host, and work', async () => {
    const content = randomBytes(50);
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    assert.match(location, new RegExp(`^/v2/${NAME}/blobs/uploads/[^/]+$`));
    const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT', body: content });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/${NAME}/blobs/${sha256(content)}`);
    const image = await client.pushImage(NAME, 'rel');
    assert.equal(image.response.headers.get('location'), `/v2/${NAME}/manifests/${image.digest}`);
  });

  it('with a prefix: relative paths include it', async () => {
    const prefixed = await startTestWharf({ relativeUrls: true, prefix: '/reg/' });
    try {
      const res = await fetch(`${prefixed.url}/reg/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202);
      assert.match(res.headers.get('location') ?? '', new RegExp(`^/reg/v2/${NAME}/blobs/uploads/[^/]+$`));
    } finally {
      await prefixed.stop(0);
    }
  });
});

describe('host', () => {
  let wharf: TestWharf;
  let client: TestClient;
  before(async () => {
    wharf = await startTestWharf({ host: 'https://registry.example.com' });
    client = new TestClient(wharf.url);
  });
  after(() => wharf.stop(0));

  /** Pushes a small manifest without following any Location (they point at the configured host). */
  async function pushByHand(tag: string): Promise<Response> {
    const config = Buffer.from(JSON.stringify({ tag }));
    const blob = await client.request(`/v2/${NAME}/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', body: config });
    assert.equal(blob.status, 201);
    assert.equal(blob.headers.get('location'), `https://registry.example.com/v2/${NAME}/blobs/${sha256(config)}`);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length }, layers: [] });
    const res = await client.request(`/v2/${NAME}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `https://registry.example.com/v2/${NAME}/manifests/${sha256(manifest)}`);
    return res;
  }

  it('Locations are absolute on the configured host, whatever Host the client sent', async () => {
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST', headers: { 'X-Forwarded-Host': 'evil.example.net' } });
    assert.match(start.headers.get('location') ?? '', new RegExp(`^https://registry\\.example\\.com/v2/${NAME}/blobs/uploads/[^/]+$`));
    await pushByHand('h');
  });

  it('Link headers stay path-only', async () => {
    await pushByHand('h2');
    const tags = await client.request(`/v2/${NAME}/tags/list?n=1`);
    assert.equal(tags.headers.get('link'), `</v2/${NAME}/tags/list?last=h&n=1>; rel="next"`);
    await tags.arrayBuffer();
  });

  it('with a prefix: host + prefix', async () => {
    const prefixed = await startTestWharf({ host: 'https://registry.example.com/', prefix: '/reg/' });
    try {
      const res = await fetch(`${prefixed.url}/reg/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
      assert.match(res.headers.get('location') ?? '', new RegExp(`^https://registry\\.example\\.com/reg/v2/${NAME}/blobs/uploads/[^/]+$`));
    } finally {
      await prefixed.stop(0);
    }
  });
});
