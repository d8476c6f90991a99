/**
 * Headers clients rely on: Docker-Distribution-API-Version, configured `http.headers` and
 * X-Request-Id on every response (successes, errors, unknown routes); the blob headers; HEAD with
 * Content-Length and not one byte of body, a 204 with neither (checked on the wire); containerd's
 * `?ns=`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { MAX_HEADER_BYTES } from '../../src/http/server.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, sha256 } from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'headers/app';
let manifest: { digest: string; size: number };
let blob: { digest: string; size: number };

before(async () => {
  wharf = await startTestWharf({ headers: { 'X-Content-Type-Options': ['nosniff'], 'X-Multi': ['one', 'two'] } });
  client = new TestClient(wharf.url);
  const image = await client.pushImage(NAME, 'latest', { layerSize: 4000 });
  manifest = image;
  blob = image.layers[0] ?? { digest: '', size: 0 };
});
after(() => wharf.stop(0));

/** One raw HTTP/1.1 exchange; returns everything the server sent until it closed. */
async function rawExchange(request: string): Promise<Buffer> {
  const url = new URL(wharf.url);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => socket.write(request));
    socket.on('end', resolve);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  return Buffer.concat(chunks);
}

function parseRaw(raw: Buffer): { status: number; headers: Map<string, string>; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a complete header block');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0]?.split(' ')[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: raw.subarray(end + 4) };
}

describe('headers on every response', () => {
  const requests: [string, () => [string, RequestInit]][] = [
    ['GET /v2/', () => ['/v2/', {}]],
    ['GET /', () => ['/', {}]],
    ['GET manifest', () => [`/v2/${NAME}/manifests/latest`, {}]],
    ['HEAD manifest', () => [`/v2/${NAME}/manifests/latest`, { method: 'HEAD' }]],
    ['304 manifest', () => [`/v2/${NAME}/manifests/latest`, { headers: { 'If-None-Match': `"${manifest.digest}"` } }]],
    ['GET blob', () => [`/v2/${NAME}/blobs/${blob.digest}`, {}]],
    ['206 blob', () => [`/v2/${NAME}/blobs/${blob.digest}`, { headers: { Range: 'bytes=0-0' } }]],
    ['416 blob', () => [`/v2/${NAME}/blobs/${blob.digest}`, { headers: { Range: 'bytes=999999-' } }]],
    ['POST upload (202)', () => [`/v2/${NAME}/blobs/uploads/`, { method: 'POST' }]],
    ['POST ?digest= (201)', () => [`/v2/${NAME}/blobs/uploads/?digest=${sha256('h')}`, { method: 'POST', body: 'h' }]],
    ['tags list', () => [`/v2/${NAME}/tags/list`, {}]],
    ['catalog', () => ['/v2/_catalog', {}]],
    ['referrers', () => [`/v2/${NAME}/referrers/${manifest.digest}`, {}]],
    ['404 BLOB_UNKNOWN', () => [`/v2/${NAME}/blobs/${sha256('nope')}`, {}]],
    ['404 NAME_UNKNOWN', () => ['/v2/headers/none/tags/list', {}]],
    ['400 NAME_INVALID', () => ['/v2/Headers/App/tags/list', {}]],
    ['400 DIGEST_INVALID', () => [`/v2/${NAME}/blobs/sha256:xyz`, {}]],
    ['404 unknown route', () => ['/nothing/here', {}]],
    ['405 method', () => ['/v2/_catalog', { method: 'DELETE' }]],
    ['400 pagination', () => ['/v2/_catalog?n=-4', {}]],
  ];
  for (const [label, make] of requests) {
    it(`${label}: Docker-Distribution-API-Version, X-Request-Id, configured headers`, async () => {
      const [path, init] = make();
      const res = await client.request(path, init);
      await res.arrayBuffer();
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-multi'), 'one, two');
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });
  }

  it('X-Request-Id differs per request', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await client.request('/v2/');
      await res.arrayBuffer();
      ids.add(res.headers.get('x-request-id') ?? '');
    }
    assert.equal(ids.size, 5);
  });
});

describe('blob response headers', () => {
  for (const method of ['GET', 'HEAD']) {
    it(`${method}: Docker-Content-Digest, ETag, Cache-Control: max-age=31536000, Accept-Ranges: bytes`, async () => {
      const res = await client.request(`/v2/${NAME}/blobs/${blob.digest}`, { method });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), blob.digest);
      assert.equal(res.headers.get('etag'), `"${blob.digest}"`);
      assert.equal(res.headers.get('cache-control'), 'max-age=31536000');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('content-length'), String(blob.size));
    });
  }

  it('206 keeps them too', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blob.digest}`, { headers: { Range: 'bytes=1-2' } });
    await res.arrayBuffer();
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    assert.equal(res.headers.get('etag'), `"${blob.digest}"`);
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
  });

  it('an error answer does not carry the success headers', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blob.digest}`, { headers: { Range: 'bytes=999999-' } });
    await res.arrayBuffer();
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), `bytes */${blob.size}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  });
});

describe('HEAD on the wire', () => {
  for (const [label, path] of [
    ['manifest', () => `/v2/${NAME}/manifests/latest`],
    ['blob', () => `/v2/${NAME}/blobs/${blob.digest}`],
  ] as const) {
    it(`HEAD ${label}: Content-Length of the content and no body bytes at all`, async () => {
      const raw = await rawExchange(`HEAD ${path()} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
      const { status, headers, body } = parseRaw(raw);
      assert.equal(status, 200);
      assert.equal(headers.get('content-length'), String(label === 'manifest' ? manifest.size : blob.size));
      assert.equal(headers.get('docker-content-digest'), label === 'manifest' ? manifest.digest : blob.digest);
      assert.equal(headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.equal(body.length, 0);
    });
  }

  it('HEAD of an absent blob: 404 and no body bytes', async () => {
    const raw = await rawExchange(`HEAD /v2/${NAME}/blobs/${sha256('absent')} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
    const { status, body } = parseRaw(raw);
    assert.equal(status, 404);
    assert.equal(body.length, 0);
  });

  it('a 40 KiB header block (a large bearer token, say) is served; one past MAX_HEADER_BYTES gets 431', async () => {
    const request = (bytes: number): string => `GET /v2/ HTTP/1.1\r\nHost: test\r\nX-Large: ${'x'.repeat(bytes)}\r\nConnection: close\r\n\r\n`;
    assert.equal(parseRaw(await rawExchange(request(40 * 1024))).status, 200);
    assert.equal(parseRaw(await rawExchange(request(MAX_HEADER_BYTES))).status, 431);
  });

  it('GET with keep-alive: two requests on one connection both answered', async () => {
    const req = `GET /v2/ HTTP/1.1\r\nHost: test\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`;
    const raw = (await rawExchange(req)).toString('latin1');
    assert.equal(raw.split('HTTP/1.1 200').length - 1, 2);
  });
});

describe('OPTIONS (a browser\'s CORS preflight)', () => {
  it('answers 200 with the route\'s methods in Allow and the configured headers, as distribution does', async () => {
    for (const [path, allow] of [['/v2/', 'GET, HEAD'], [`/v2/${NAME}/manifests/latest`, 'GET, HEAD, PUT, DELETE'], [`/v2/${NAME}/blobs/uploads/`, 'POST']] as const) {
      const res = await client.request(path, { method: 'OPTIONS', headers: { Origin: 'http://ui.example.com', 'Access-Control-Request-Method': 'GET' } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('allow'), allow, path);
      assert.equal(res.headers.get('x-multi'), 'one, two', path);
      assert.equal((await res.arrayBuffer()).byteLength, 0, path);
    }
    assert.equal((await client.request('/v2/not/a/route/at/all', { method: 'OPTIONS' })).status, 404);
  });
});

describe('containerd ?ns=', () => {
  it('a pull with ?ns=<host> is served like any other', async () => {
    const m = await client.request(`/v2/${NAME}/manifests/latest?ns=docker.io`);
    assert.equal(m.status, 200);
    assert.equal(m.headers.get('docker-content-digest'), manifest.digest);
    await m.arrayBuffer();
    const b = await client.request(`/v2/${NAME}/blobs/${blob.digest}?ns=docker.io`);
    assert.equal(b.status, 200);
    assert.equal((await b.arrayBuffer()).byteLength, blob.size);
  });
});

describe('Location of an upload', () => {
  it('is absolute on the Host the client called, honouring X-Forwarded-Proto/Host', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST', headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'registry.example.com' } });
    assert.equal(res.status, 202);
    assert.match(res.headers.get('location') ?? '', new RegExp(`^https://registry\\.example\\.com/v2/${NAME}/blobs/uploads/[^/]+$`));
  });
});

describe('body sizes', () => {
  it('Content-Length of a 201/202 is 0', async () => {
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.headers.get('content-length'), '0');
    const location = start.headers.get('location') ?? '';
    const content = randomBytes(10);
    const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT', body: content });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('content-length'), '0');
  });

  it('a 204 (upload status, upload cancelled) has no Content-Length and no body, on the wire', async () => {
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const path = new URL(start.headers.get('location') ?? '', wharf.url).pathname;
    for (const method of ['GET', 'DELETE']) {
      const { status, headers, body } = parseRaw(await rawExchange(`${method} ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`));
      assert.equal(status, 204, method);
      assert.equal(headers.get('content-length'), undefined, method);
      assert.equal(headers.get('transfer-encoding'), undefined, method);
      assert.equal(body.length, 0, method);
    }
  });
});
