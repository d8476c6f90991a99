/**
 * The S3 writer's stored state between requests: equal parts, the tail kept in the object at the
 * file's key, another driver instance resuming from it, and a plain object once committed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { CheckedDriver } from '../../src/storage/base.js';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { S3Driver } from '../../src/storage/s3/s3-driver.js';
import { pendingState } from '../../src/storage/s3/s3-pending.js';
import { endWriter, readAll, write } from '../../src/storage/testing/driver-suite.js';
import { startS3rver, type RunningS3rver } from '../helpers/s3rver.js';

const MiB = 1024 * 1024;

describe('S3 writer state across instances', () => {
  let s3: RunningS3rver;
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3.close();
  });

  const open = async (): Promise<{ driver: CheckedDriver; inner: S3Driver }> => {
    const driver = (await createStorageDriver('s3', s3.parameters('/w', { chunksize: 5 * MiB }))) as CheckedDriver;
    return { driver, inner: driver.inner as S3Driver };
  };

  it('keeps equal parts and the tail at the key, resumes on another instance, commits to a plain object', async () => {
    const a = await open();
    const b = await open();
    const path = '/_uploads/u/data';
    const first = randomBytes(12 * MiB + 1);
    const w1 = await a.driver.writer(path, { append: true });
    await write(w1, first.subarray(0, 3 * MiB)); // smaller than a part
    await write(w1, first.subarray(3 * MiB));
    await endWriter(w1);
    const head = await a.inner.client.send(new HeadObjectCommand({ Bucket: a.inner.options.bucket, Key: a.inner.key(path) }));
    const state = pendingState(head.Metadata);
    assert.ok(state, 'the object at the key describes a multipart upload in progress');
    assert.equal(state.partSize, 5 * MiB);
    assert.equal(state.parts, 2);
    assert.equal(state.tail, 2 * MiB + 1);
    assert.equal((await b.driver.stat(path)).size, first.length, 'another instance sees every acknowledged byte');

    const second = randomBytes(4 * MiB);
    const w2 = await b.driver.writer(path, { append: true });
    assert.equal(w2.size, first.length);
    await write(w2, second);
    await w2.commit();
    const whole = Buffer.concat([first, second]);
    const after = await a.inner.client.send(new HeadObjectCommand({ Bucket: a.inner.options.bucket, Key: a.inner.key(path) }));
    assert.equal(pendingState(after.Metadata), undefined, 'a committed file is a plain object');
    assert.equal(after.ContentLength, whole.length);
    const read = await readAll(await a.driver.reader(path));
    assert.equal(createHash('sha256').update(read).digest('hex'), createHash('sha256').update(whole).digest('hex'));
    await a.driver.delete('/_uploads');
  });

  it('refuses to read a file still being written in parts, and cancel removes it', async () => {
    const { driver } = await open();
    const w = await driver.writer('/_uploads/v/data');
    await write(w, randomBytes(6 * MiB));
    await endWriter(w);
    await assert.rejects(driver.reader('/_uploads/v/data'), /being written in parts/);
    const again = await driver.writer('/_uploads/v/data', { append: true });
    await again.cancel();
    await assert.rejects(driver.stat('/_uploads/v/data'), { name: 'PathNotFoundError' });
  });
});
