/**
 * Chunked push: Content-Range rules (416 for a gap or a retried chunk, 400 SIZE_INVALID when the
 * length lies), upload status, the last chunk on the closing PUT, cancel, and a body cut off
 * mid-PATCH leaving the session resumable at exactly what was stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cutOffPatch, startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, errorCode, sha256, sha512 } from '../helpers/client.js';
import { paths } from '../../src/registry/paths.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'push/chunked';

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

async function startSession(): Promise<{ location: string; uuid: string }> {
  const res = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  return { location: res.headers.get('location') ?? '', uuid: res.headers.get('docker-upload-uuid') ?? '' };
}

function patch(location: string, body: Uint8Array, start: number, end = start + body.length - 1): Promise<Response> {
  return client.request(location, {
    method: 'PATCH',
    body,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end}` },
  });
}

describe('chunked PATCH (end-5)', () => {
  it('each chunk → 202 with Location and Range 0-<last>; GET status → 204; PUT completes', async () => {
    const content = randomBytes(3000);
    const { location, uuid } = await startSession();
    const first = await patch(location, content.subarray(0, 1000), 0);
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-999');
    assert.equal(first.headers.get('docker-upload-uuid'), uuid);
    const second = await patch(first.headers.get('location') ?? '', content.subarray(1000, 2500), 1000);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('range'), '0-2499');

    const status = await client.request(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-2499');
    assert.equal(status.headers.get('docker-upload-uuid'), uuid);
    assert.ok((status.headers.get('location') ?? '').includes(uuid));

    const third = await patch(location, content.subarray(2500), 2500);
    assert.equal(third.headers.get('range'), '0-2999');
    const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('a chunk that does not start at the stored size → 416 with the current Range', async () => {
    const content = randomBytes(200);
    const { location } = await startSession();
    assert.equal((await patch(location, content.subarray(0, 100), 0)).status, 202);
    const gap = await patch(location, content.subarray(150), 150);
    assert.equal(gap.status, 416);
    assert.equal(gap.headers.get('range'), '0-99');
    assert.equal(await errorCode(gap), 'RANGE_INVALID');
    const overlap = await patch(location, content.subarray(50, 150), 50);
    assert.equal(overlap.status, 416);
    await overlap.arrayBuffer();
    const status = await client.request(location);
    assert.equal(status.headers.get('range'), '0-99', 'a refused chunk stores nothing');
  });

  it('a retried chunk that was already received → 416, upload unchanged and completable', async () => {
    const content = randomBytes(300);
    const { location } = await startSession();
    assert.equal((await patch(location, content.subarray(0, 100), 0)).status, 202);
    assert.equal((await patch(location, content.subarray(100, 200), 100)).status, 202);
    const retry = await patch(location, content.subarray(100, 200), 100);
    assert.equal(retry.status, 416);
    assert.equal(retry.headers.get('range'), '0-199');
    assert.equal(await errorCode(retry), 'RANGE_INVALID');
    assert.equal((await patch(location, content.subarray(200), 200)).status, 202);
    const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT' });
    assert.equal(put.status, 201);
  });

  it('the first chunk must start at 0', async () => {
    const { location } = await startSession();
    const res = await patch(location, randomBytes(10), 5);
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('range'), '0-0');
    assert.equal(await errorCode(res), 'RANGE_INVALID');
  });

  it('Content-Length ≠ range length → 400 SIZE_INVALID, nothing stored', async () => {
    const { location } = await startSession();
    const short = await patch(location, randomBytes(50), 0, 99);
    assert.equal(short.status, 400);
    assert.equal(await errorCode(short), 'SIZE_INVALID');
    const long = await patch(location, randomBytes(150), 0, 99);
    assert.equal(long.status, 400);
    assert.equal(await errorCode(long), 'SIZE_INVALID');
    const status = await client.request(location);
    assert.equal(status.headers.get('range'), '0-0');
  });

  it('a malformed or reversed Content-Range → 416 RANGE_INVALID (never 500)', async () => {
    const { location } = await startSession();
    for (const header of ['10-5', 'bytes', 'abc-def', '-5', '1-2-3', `0-${'9'.repeat(30)}`]) {
      const res = await client.request(location, { method: 'PATCH', body: randomBytes(6), headers: { 'Content-Range': header } });
      assert.equal(res.status, 416, header);
      assert.equal(await errorCode(res), 'RANGE_INVALID', header);
    }
  });

  it('tolerates the `bytes ` prefix and a /total suffix clients send', async () => {
    const content = randomBytes(20);
    const { location } = await startSession();
    const res = await client.request(location, { method: 'PATCH', body: content, headers: { 'Content-Range': 'bytes 0-19/20' } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('range'), '0-19');
  });

  it('PATCH to an unknown session → 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const res = await patch(`/v2/${NAME}/blobs/uploads/5f0c2b8e-1111-4222-8333-444455556666`, randomBytes(4), 0);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('sha512: chunks then PUT ?digest=sha512:… → 201', async () => {
    const content = randomBytes(2000);
    const { location } = await startSession();
    await patch(location, content.subarray(0, 700), 0);
    await patch(location, content.subarray(700), 700);
    const put = await client.request(`${location}?digest=${sha512(content)}`, { method: 'PUT' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), sha512(content));
  });
});

describe('closing PUT with the last chunk (end-6)', () => {
  it('PUT with Content-Range and the last bytes → 201', async () => {
    const content = randomBytes(1500);
    const { location } = await startSession();
    await patch(location, content.subarray(0, 1000), 0);
    const put = await client.request(`${location}?digest=${sha256(content)}`, {
      method: 'PUT',
      body: content.subarray(1000),
      headers: { 'Content-Range': '1000-1499', 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201);
    const get = await client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('PUT whose last chunk starts at the wrong offset → 416', async () => {
    const content = randomBytes(1500);
    const { location } = await startSession();
    await patch(location, content.subarray(0, 1000), 0);
    const put = await client.request(`${location}?digest=${sha256(content)}`, {
      method: 'PUT',
      body: content.subarray(900),
      headers: { 'Content-Range': '900-1499' },
    });
    assert.equal(put.status, 416);
    assert.equal(await errorCode(put), 'RANGE_INVALID');
  });

  it('PUT without a body after streamed chunks but with a wrong digest → 400 DIGEST_INVALID; session gone', async () => {
    const content = randomBytes(100);
    const { location } = await startSession();
    await patch(location, content, 0);
    const put = await client.request(`${location}?digest=${sha256('nope')}`, { method: 'PUT' });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
    const blob = await client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
    assert.equal(blob.status, 404);
    await blob.arrayBuffer();
  });
});

describe('cancel (DELETE <location>)', () => {
  it('→ 204; then status, PATCH and DELETE → 404 BLOB_UPLOAD_UNKNOWN; the data is gone', async () => {
    const { location, uuid } = await startSession();
    await patch(location, randomBytes(10), 0);
    const del = await client.request(location, { method: 'DELETE' });
    assert.equal(del.status, 204);
    const status = await client.request(location);
    assert.equal(status.status, 404);
    assert.equal(await errorCode(status), 'BLOB_UPLOAD_UNKNOWN');
    const again = await client.request(location, { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), 'BLOB_UPLOAD_UNKNOWN');
    const more = await patch(location, randomBytes(4), 10);
    assert.equal(more.status, 404);
    await assert.rejects(wharf.driver.stat(paths.uploadDir(NAME, uuid)));
  });

  it('GET status of an unknown session → 404 BLOB_UPLOAD_UNKNOWN (end-13)', async () => {
    const res = await client.request(`/v2/${NAME}/blobs/uploads/2d9a6a3c-aaaa-4bbb-8ccc-dddddddddddd`);
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  });
});

/** The upload's Range once it stops changing (the server finishes the cut-off request on its own time). */
async function settledRange(location: string): Promise<string | null> {
  let previous: string | null | undefined;
  for (let i = 0; i < 40; i++) {
    const res = await client.request(location);
    assert.equal(res.status, 204);
    const range = res.headers.get('range');
    if (range === previous) return range;
    previous = range;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return previous ?? null;
}

describe('a body cut off mid-PATCH', () => {
  for (const withRange of [false, true]) {
    it(`leaves the session resumable at the stored size (${withRange ? 'chunked' : 'streamed'})`, async () => {
      const content = randomBytes(300_000);
      const { location, uuid } = await startSession();
      assert.equal((await patch(location, content.subarray(0, 50_000), 0)).status, 202);
      const sent = content.subarray(50_000, 170_000);
      await cutOffPatch(wharf, NAME, location, 250_000, sent, 50_000 + sent.length, withRange ? '50000-299999' : undefined);

      const range = await settledRange(location);
      const stored = 50_000 + sent.length;
      assert.equal(range, `0-${stored - 1}`, 'GET status reports every byte that was received');
      const data = await wharf.driver.getContent(paths.uploadData(NAME, uuid));
      assert.equal(data.length, stored, 'storage holds what the status reports');
      assert.deepEqual(data, content.subarray(0, stored), 'and exactly those bytes');

      const resume = await patch(location, content.subarray(stored), stored);
      assert.equal(resume.status, 202);
      assert.equal(resume.headers.get('range'), `0-${content.length - 1}`);
      const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      const get = await client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
    });
  }

  it('a cut-off body then a retry of the whole chunk → 416 naming the stored size', async () => {
    const content = randomBytes(100_000);
    const { location } = await startSession();
    await cutOffPatch(wharf, NAME, location, 100_000, content.subarray(0, 40_000), 40_000, '0-99999');
    const range = await settledRange(location);
    assert.equal(range, '0-39999');
    const retry = await patch(location, content, 0);
    assert.equal(retry.status, 416);
    assert.equal(retry.headers.get('range'), '0-39999');
    await retry.arrayBuffer();
  });
});
