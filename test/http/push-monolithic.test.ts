/**
 * Push without chunks: POST (session headers), POST+PUT (monolithic), POST ?digest= (single
 * request), streamed PATCH without Content-Range, empty blobs, a wrong or missing digest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, errorCode, sha256, sha512 } from '../helpers/client.js';
import { paths } from '../../src/registry/paths.js';
import { parseDigest } from '../../src/registry/digest.js';
import { isPathNotFound } from '../../src/storage/driver.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'push/mono';

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

async function startSession(name = NAME): Promise<{ location: string; uuid: string; res: Response }> {
  const res = await client.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  return { location: res.headers.get('location') ?? '', uuid: res.headers.get('docker-upload-uuid') ?? '', res };
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
}

/** Whether anything is stored for `digest`: the blob's data or this repository's link to it. */
async function stored(digest: string, name = NAME): Promise<boolean> {
  const d = parseDigest(digest);
  for (const path of [paths.blobData(d), paths.layerLink(name, d)]) {
    try {
      await wharf.driver.stat(path);
      return true;
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
    }
  }
  return false;
}

describe('POST /v2/<name>/blobs/uploads/ (end-4a)', () => {
  it('→ 202 with Location, Docker-Upload-UUID, Range 0-0 and Content-Length 0', async () => {
    const { res, location, uuid } = await startSession();
    assert.match(location, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v2/${NAME}/blobs/uploads/[^/?]+`));
    assert.ok(location.includes(uuid), 'Location names the session');
    assert.equal(res.headers.get('range'), '0-0');
    assert.equal(res.headers.get('content-length'), '0');
  });

  it('session ids are unguessable (random UUIDs, different every time)', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await startSession()).uuid);
    assert.equal(ids.size, 5);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('works without the trailing slash', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/uploads`, { method: 'POST' });
    assert.equal(res.status, 202);
  });
});

describe('monolithic POST + PUT (end-6)', () => {
  it('PUT <location>?digest= with the whole body → 201 + Location + Docker-Content-Digest', async () => {
    const content = randomBytes(5000);
    const digest = sha256(content);
    const { location } = await startSession();
    const put = await client.request(withDigest(location, digest), { method: 'PUT', body: content, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(put.status, 201);
    assert.match(put.headers.get('location') ?? '', new RegExp(`/v2/${NAME}/blobs/${digest}$`));
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const get = await client.request(`/v2/${NAME}/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
    const status = await client.request(location);
    assert.equal(status.status, 404, 'the session is gone after completion');
    assert.equal(await errorCode(status), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('sha512: PUT ?digest=sha512:… → 201, stored under blobs/sha512', async () => {
    const content = randomBytes(777);
    const digest = sha512(content);
    const { location } = await startSession();
    const put = await client.request(withDigest(location, digest), { method: 'PUT', body: content });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const info = await wharf.driver.stat(paths.blobData(parseDigest(digest)));
    assert.equal(info.size, 777);
  });

  it('an empty blob: PUT with no body → 201; GET → 200 with Content-Length 0', async () => {
    const digest = sha256(Buffer.alloc(0));
    const { location } = await startSession();
    const put = await client.request(withDigest(location, digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await client.request(`/v2/${NAME}/blobs/${digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-length'), '0');
    assert.equal((await get.arrayBuffer()).byteLength, 0);
  });

  it('pushing a blob that exists already succeeds again', async () => {
    const content = randomBytes(64);
    await client.pushBlob(NAME, content);
    const again = await client.pushBlob(NAME, content);
    assert.equal(again.digest, sha256(content));
  });

  it('a wrong digest → 400 DIGEST_INVALID, nothing stored under either digest', async () => {
    const content = randomBytes(2048);
    const claimed = sha256('something else entirely');
    const { location } = await startSession();
    const put = await client.request(withDigest(location, claimed), { method: 'PUT', body: content });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
    assert.equal(await stored(claimed), false, 'nothing under the claimed digest');
    assert.equal(await stored(sha256(content)), false, 'nothing under the content’s real digest');
    for (const digest of [claimed, sha256(content)]) {
      const get = await client.request(`/v2/${NAME}/blobs/${digest}`);
      assert.equal(get.status, 404);
      await get.arrayBuffer();
    }
  });

  it('a wrong sha512 digest → 400 DIGEST_INVALID, nothing stored', async () => {
    const content = randomBytes(100);
    const claimed = sha512('not this');
    const { location } = await startSession();
    const put = await client.request(withDigest(location, claimed), { method: 'PUT', body: content });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
    assert.equal(await stored(claimed), false);
    assert.equal(await stored(sha512(content)), false);
  });

  it('a missing digest → 400 DIGEST_INVALID, and the session is still usable', async () => {
    const content = randomBytes(100);
    const { location } = await startSession();
    const put = await client.request(location, { method: 'PUT', body: content });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
    const empty = await client.request(`${location}?digest=`, { method: 'PUT', body: content });
    assert.equal(empty.status, 400);
    assert.equal(await errorCode(empty), 'DIGEST_INVALID');
    const ok = await client.request(withDigest(location, sha256(content)), { method: 'PUT', body: content });
    assert.equal(ok.status, 201);
  });

  it('PUT to an unknown session → 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const put = await client.request(`/v2/${NAME}/blobs/uploads/0b7d3c2a-0000-4000-8000-000000000000?digest=${sha256('x')}`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 404);
    assert.equal(await errorCode(put), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('a session belongs to its repository: another name’s URL → 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const { uuid } = await startSession();
    const res = await client.request(`/v2/push/elsewhere/blobs/uploads/${uuid}`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('single-request push: POST ?digest= (end-4b)', () => {
  it('→ 201 + Location + Docker-Content-Digest, blob readable', async () => {
    const content = randomBytes(3000);
    const digest = sha256(content);
    const res = await client.request(`/v2/${NAME}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/${NAME}/blobs/${digest}$`));
    assert.equal(res.headers.get('docker-content-digest'), digest);
    const get = await client.request(`/v2/${NAME}/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('sha512 single-request push → 201', async () => {
    const content = randomBytes(50);
    const digest = sha512(content);
    const res = await client.request(`/v2/${NAME}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
  });

  it('a body that does not match → 400 DIGEST_INVALID, nothing stored', async () => {
    const content = randomBytes(100);
    const claimed = sha256('other');
    const res = await client.request(`/v2/${NAME}/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: content });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal(await stored(claimed), false);
    assert.equal(await stored(sha256(content)), false);
  });

  it('an invalid digest parameter → 400 DIGEST_INVALID', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/uploads/?digest=sha256:nothex`, { method: 'POST', body: 'abc' });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
  });
});

describe('streamed PATCH (no Content-Range)', () => {
  it('appends each body; Range grows; PUT without a body completes', async () => {
    const parts = [randomBytes(1000), randomBytes(1), randomBytes(2500)];
    const { location } = await startSession();
    let next = location;
    let total = 0;
    for (const part of parts) {
      const res = await client.request(next, { method: 'PATCH', body: part, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 202);
      total += part.length;
      assert.equal(res.headers.get('range'), `0-${total - 1}`);
      assert.ok(res.headers.get('docker-upload-uuid'));
      next = res.headers.get('location') ?? '';
      assert.ok(next.includes('/blobs/uploads/'));
    }
    const all = Buffer.concat(parts);
    const put = await client.request(withDigest(next, sha256(all)), { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await client.request(`/v2/${NAME}/blobs/${sha256(all)}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), all);
  });

  it('a streamed PATCH with a chunked (length-less) body appends too', async () => {
    const part = randomBytes(4096);
    const { location } = await startSession();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(part.subarray(0, 1000));
        controller.enqueue(part.subarray(1000));
        controller.close();
      },
    });
    const res = await client.request(location, { method: 'PATCH', body: stream });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('range'), '0-4095');
    const put = await client.request(withDigest(res.headers.get('location') ?? '', sha256(part)), { method: 'PUT' });
    assert.equal(put.status, 201);
  });
});
