/**
 * Wharf over the S3 driver on the fake S3 client (test/helpers/fake-s3.ts: S3's rules enforced,
 * UploadPartCopy present, which s3rver lacks), with the segment shrunk: a chunked push across
 * several segments is served back byte-exact, and a push past the largest file is answered 400
 * BLOB_UPLOAD_INVALID naming the limit, not 500.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { wrapDriver } from '../../src/storage/base.js';
import { S3Driver } from '../../src/storage/s3/s3-driver.js';
import { s3Options } from '../../src/storage/s3/s3-config.js';
import { DEFAULT_LIMITS } from '../../src/startup.js';
import { createLogger } from '../../src/log/logger.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { sha256, TestClient } from '../helpers/client.js';
import { FakeS3 } from '../helpers/fake-s3.js';

const PART = 64 * 1024;
const SEGMENT = 3 * PART;
const LIMIT = 8 * SEGMENT;

describe('Wharf on S3 with blobs of several segments (fake S3 client)', () => {
  const fake = new FakeS3({ minPartSize: PART, maxCopyRange: SEGMENT });
  let wharf: TestWharf;
  let client: TestClient;
  before(async () => {
    const options = { ...s3Options({ bucket: 'b', region: 'r', rootdirectory: '/r' }), chunkSize: PART, segmentBytes: SEGMENT, maxObjectSize: LIMIT };
    // Moves by multipart copy, as a blob over 5 GiB is moved on S3 (CopyObject stops at 5 GiB).
    Object.assign(options, { multipartCopyThresholdSize: SEGMENT, multipartCopyChunkSize: PART });
    wharf = await startTestWharf({ ...(process.env['DEBUG_S3'] ? { log: createLogger({ level: 'error', formatter: 'json' }) } : {}), driver: wrapDriver(new S3Driver(options, fake.client)), limits: { ...DEFAULT_LIMITS, redirect: false } });
    client = new TestClient(wharf.url);
  });
  after(async () => {
    await wharf.stop();
  });

  it('takes a chunked push across several segments and serves it back byte-exact', async () => {
    const content = randomBytes(5 * SEGMENT + 4321);
    const digest = sha256(content);
    const start = await client.request('/v2/big/blob/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    let location = start.headers.get('location') ?? '';
    for (let at = 0; at < content.length; ) {
      const chunk = content.subarray(at, at + 150_001);
      const res = await client.request(location, {
        method: 'PATCH',
        body: chunk,
        headers: { 'Content-Range': `${at}-${at + chunk.length - 1}`, 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(res.status, 202, await res.text());
      at += chunk.length;
      location = res.headers.get('location') ?? '';
    }
    const put = await client.request(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const got = await client.request(`/v2/big/blob/blobs/${digest}`);
    assert.equal(got.status, 200);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), digest);
    const final = fake.completed.filter((c) => c.key.includes('/_uploads/') && c.key.endsWith('/data')).at(-1);
    assert.ok(final, 'the upload completed as one multipart upload of its segments');
    assert.deepEqual(final.partSizes, [SEGMENT, SEGMENT, SEGMENT, SEGMENT, SEGMENT, 4321]);
    assert.deepEqual([...fake.objects.keys()].filter((k) => k.includes('~')), [], 'no segment left');
  });

  it('answers a push past the largest file 400 BLOB_UPLOAD_INVALID naming the limit', async () => {
    const content = randomBytes(LIMIT + 1);
    const start = await client.request('/v2/big/toolarge/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const put = await client.request(`${location}${location.includes('?') ? '&' : '?'}digest=${sha256(content)}`, {
      method: 'PUT',
      body: content,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(put.status, 400);
    const body = (await put.json()) as { errors: { code: string; message: string; detail: { limit: number } }[] };
    assert.equal(body.errors[0]?.code, 'BLOB_UPLOAD_INVALID');
    assert.match(body.errors[0]?.message ?? '', new RegExp(`larger than ${LIMIT} bytes`));
    assert.equal(body.errors[0]?.detail.limit, LIMIT);
  });
});
