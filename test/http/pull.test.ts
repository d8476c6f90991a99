/**
 * Pull: manifests by tag and digest (exact bytes, headers, HEAD, If-None-Match), blobs (headers,
 * HEAD, Range 206/416, If-None-Match), unknown repositories and resources, the error envelope.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, TestClient, errorCode, sha256, sha512, type Descriptor } from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'pull/app';
const blob = randomBytes(1000);
let blobDesc: Descriptor;
let manifestBody: string;
let manifestDigest: string;

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
  blobDesc = await client.pushBlob(NAME, blob);
  const config = await client.pushBlob(NAME, Buffer.from('{"architecture":"amd64","os":"linux"}'), OCI_CONFIG);
  // Odd whitespace and key order: the registry must hand back these exact bytes.
  manifestBody = `{\n  "schemaVersion": 2,\n  "mediaType": "${OCI_MANIFEST}",\n  "layers": [${JSON.stringify(blobDesc)}],\n  "config": ${JSON.stringify(config)}\n}\n`;
  manifestDigest = (await client.pushManifest(NAME, 'v1', manifestBody)).digest;
});
after(() => wharf.stop(0));

describe('GET /v2/ (end-1)', () => {
  it('answers 200 with {} as JSON', async () => {
    const res = await client.request('/v2/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), {});
  });
  it('answers /v2 without the trailing slash too', async () => {
    const res = await client.request('/v2');
    assert.equal(res.status, 200);
  });
});

describe('manifest pull (end-3)', () => {
  for (const ref of ['v1', 'digest']) {
    it(`GET by ${ref} returns the exact bytes with the pushed media type and headers`, async () => {
      const res = await client.request(`/v2/${NAME}/manifests/${ref === 'digest' ? manifestDigest : ref}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST, 'no parameters added');
      assert.equal(res.headers.get('docker-content-digest'), manifestDigest);
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(manifestBody)));
      assert.equal(res.headers.get('etag'), `"${manifestDigest}"`);
      assert.equal(Buffer.from(await res.arrayBuffer()).toString('utf8'), manifestBody);
    });
  }

  it('HEAD answers the same headers without a body', async () => {
    const res = await client.request(`/v2/${NAME}/manifests/v1`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(res.headers.get('docker-content-digest'), manifestDigest);
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(manifestBody)));
    assert.equal(res.headers.get('etag'), `"${manifestDigest}"`);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('If-None-Match with the ETag → 304 without a body; another ETag → 200', async () => {
    const hit = await client.request(`/v2/${NAME}/manifests/v1`, { headers: { 'If-None-Match': `"${manifestDigest}"` } });
    assert.equal(hit.status, 304);
    assert.equal(hit.headers.get('docker-content-digest'), manifestDigest);
    assert.equal(hit.headers.get('etag'), `"${manifestDigest}"`);
    assert.equal((await hit.arrayBuffer()).byteLength, 0);
    const list = await client.request(`/v2/${NAME}/manifests/${manifestDigest}`, { headers: { 'If-None-Match': `"sha256:${'0'.repeat(64)}", "${manifestDigest}"` } });
    assert.equal(list.status, 304);
    const miss = await client.request(`/v2/${NAME}/manifests/v1`, { headers: { 'If-None-Match': `"sha256:${'0'.repeat(64)}"` } });
    assert.equal(miss.status, 200);
    await miss.arrayBuffer();
  });

  it('unknown tag → 404 MANIFEST_UNKNOWN; unknown digest → 404 MANIFEST_UNKNOWN', async () => {
    const tag = await client.request(`/v2/${NAME}/manifests/nope`);
    assert.equal(tag.status, 404);
    assert.equal(await errorCode(tag), 'MANIFEST_UNKNOWN');
    const digest = await client.request(`/v2/${NAME}/manifests/${sha256('nothing')}`);
    assert.equal(digest.status, 404);
    assert.equal(await errorCode(digest), 'MANIFEST_UNKNOWN');
  });

  it('HEAD of an absent manifest → 404 without a body', async () => {
    const res = await client.request(`/v2/${NAME}/manifests/nope`, { method: 'HEAD' });
    assert.equal(res.status, 404);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('a repository that does not exist → 404 NAME_UNKNOWN or MANIFEST_UNKNOWN', async () => {
    const res = await client.request('/v2/no/such/repo/manifests/latest');
    assert.equal(res.status, 404);
    assert.ok(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN'].includes((await errorCode(res)) ?? ''));
  });

  it('a manifest of another repository is not served here', async () => {
    await client.pushImage('pull/other', 'x');
    const res = await client.request(`/v2/pull/other/manifests/${manifestDigest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
  });
});

describe('blob pull (end-2)', () => {
  it('GET returns the bytes with the blob headers', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), blobDesc.digest);
    assert.equal(res.headers.get('etag'), `"${blobDesc.digest}"`);
    assert.equal(res.headers.get('cache-control'), 'max-age=31536000');
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.equal(res.headers.get('content-length'), '1000');
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
  });

  it('HEAD answers Content-Length and the digest without a body', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '1000');
    assert.equal(res.headers.get('docker-content-digest'), blobDesc.digest);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('If-None-Match with the ETag → 304', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { headers: { 'If-None-Match': `"${blobDesc.digest}"` } });
    assert.equal(res.status, 304);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const star = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { headers: { 'If-None-Match': '*' } });
    assert.equal(star.status, 304);
  });

  it('unknown blob → 404 BLOB_UNKNOWN (GET), 404 without body (HEAD)', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${sha256('absent')}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
    const head = await client.request(`/v2/${NAME}/blobs/${sha256('absent')}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('a blob stored for another repository is not served here', async () => {
    const other = await client.pushBlob('pull/elsewhere', randomBytes(10));
    const res = await client.request(`/v2/${NAME}/blobs/${other.digest}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UNKNOWN');
  });

  it('blob of a repository that does not exist → 404 with an unknown code', async () => {
    const res = await client.request(`/v2/never/pushed/blobs/${blobDesc.digest}`);
    assert.equal(res.status, 404);
    assert.ok(['NAME_UNKNOWN', 'BLOB_UNKNOWN'].includes((await errorCode(res)) ?? ''));
  });
});

describe('blob Range (RFC 9110)', () => {
  const cases: { range: string; start: number; end: number }[] = [
    { range: 'bytes=0-99', start: 0, end: 99 },
    { range: 'bytes=100-199', start: 100, end: 199 },
    { range: 'bytes=900-', start: 900, end: 999 },
    { range: 'bytes=-100', start: 900, end: 999 },
    { range: 'bytes=-5000', start: 0, end: 999 },
    { range: 'bytes=990-5000', start: 990, end: 999 },
    { range: 'bytes=999-999', start: 999, end: 999 },
  ];
  for (const c of cases) {
    it(`${c.range} → 206 with Content-Range bytes ${c.start}-${c.end}/1000`, async () => {
      const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { headers: { Range: c.range } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${c.start}-${c.end}/1000`);
      assert.equal(res.headers.get('content-length'), String(c.end - c.start + 1));
      assert.equal(res.headers.get('docker-content-digest'), blobDesc.digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.subarray(c.start, c.end + 1));
    });
  }

  for (const range of ['bytes=500-0', 'bytes=1000-', 'bytes=1000-1010', 'bytes=5000-6000', 'bytes=-0']) {
    it(`${range} → 416 with Content-Range: bytes */1000`, async () => {
      const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { headers: { Range: range } });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), 'bytes */1000');
      assert.equal(await errorCode(res), 'RANGE_INVALID');
    });
  }

  it('a Range that is not a byte range is ignored (200, whole blob)', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { headers: { Range: 'lines=1-2' } });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, 1000);
  });

  it('HEAD with a Range → 206 headers without a body', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${blobDesc.digest}`, { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 10-19/1000');
    assert.equal(res.headers.get('content-length'), '10');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });
});

describe('sha512 content', () => {
  it('a blob pushed under sha512 is served under that digest', async () => {
    const content = randomBytes(300);
    const digest = sha512(content);
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const put = await client.request(`${location}?digest=${digest}`, { method: 'PUT', body: content });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const res = await client.request(`/v2/${NAME}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal(res.headers.get('etag'), `"${digest}"`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), content);
    const ranged = await client.request(`/v2/${NAME}/blobs/${digest}`, { headers: { Range: 'bytes=-10' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), content.subarray(290));
  });

  it('a manifest pushed by sha512 digest is served by that digest', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"os":"linux","architecture":"arm64"}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [{ ...blobDesc, mediaType: OCI_LAYER }] });
    const digest = sha512(body);
    const put = await client.request(`/v2/${NAME}/manifests/${digest}`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    assert.match(put.headers.get('location') ?? '', new RegExp(`/v2/${NAME}/manifests/${digest}$`));
    const res = await client.request(`/v2/${NAME}/manifests/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal(await res.text(), body);
  });
});

describe('error envelope', () => {
  it('is {"errors":[{code,message,detail}]} as JSON with the code’s status', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/${sha256('missing')}`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    assert.equal(body.errors.length, 1);
    const [error] = body.errors;
    assert.equal(error?.code, 'BLOB_UNKNOWN');
    assert.equal(typeof error?.message, 'string');
    assert.ok(error?.message.length);
    assert.ok('detail' in (error ?? {}));
  });

  it('an unknown endpoint → 404 NOT_FOUND in the envelope', async () => {
    const res = await client.request('/v3/whatever');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'NOT_FOUND');
  });

  it('a method a route does not have → 405 UNSUPPORTED with Allow', async () => {
    const res = await client.request(`/v2/${NAME}/tags/list`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow') ?? '', /GET/);
    assert.equal(await errorCode(res), 'UNSUPPORTED');
  });
});
