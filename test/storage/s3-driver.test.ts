/**
 * The shared driver suite on the S3 driver: against s3rver, and against the fake S3 client
 * (test/helpers/fake-s3.ts), which enforces S3's rules and replaces objects atomically.
 *
 * s3rver writes a replaced object in place, so a reader racing a putContent may see a mix there;
 * S3 replaces an object atomically on a single PUT. That part is checked on the fake instead: every
 * putContent is exactly one PutObject carrying the whole body and its ContentLength, and readers
 * racing 23 overwrites only ever see complete versions.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { wrapDriver } from '../../src/storage/base.js';
import { checkConcurrentPutContent, driverSuite } from '../../src/storage/testing/driver-suite.js';
import { S3Driver } from '../../src/storage/s3/s3-driver.js';
import { s3Options } from '../../src/storage/s3/s3-config.js';
import { startS3rver, type RunningS3rver } from '../helpers/s3rver.js';
import { FakeS3 } from '../helpers/fake-s3.js';

const MiB = 1024 * 1024;

let s3: RunningS3rver;
before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.close();
});

function fakeDriver(fake: FakeS3): S3Driver {
  return new S3Driver(s3Options({ bucket: 'wharf', region: 'us-east-1', rootdirectory: '/fake/root', chunksize: 5 * MiB }), fake.client);
}

/** putContent on S3 is one PutObject of the whole body: S3 swaps the object in one step. */
async function atomicPutOnFake(): Promise<void> {
  const fake = new FakeS3();
  const driver = wrapDriver(fakeDriver(fake));
  await checkConcurrentPutContent(driver, '/tags/latest/current/link');
  const puts = fake.calls.filter((c) => c.command === 'PutObject');
  assert.equal(puts.length, 24, 'one PutObject per putContent');
  for (const put of puts) {
    assert.equal(put.input['Key'], 'fake/root/tags/latest/current/link');
    assert.equal(put.input['BodyLength'], put.input['ContentLength'], 'the whole body, its length announced');
    assert.equal((Number(put.input['ContentLength']) - 200_000) % 4099, 0, 'a whole version in one request');
  }
  assert.ok(!fake.names().some((n) => /Multipart|UploadPart|Copy/.test(n)), 'no multipart call and no copy for a small file');
}

// Small parts (the S3 minimum) so the 24 MiB and 64 MiB tests cross several part boundaries.
driverSuite(
  's3 (s3rver)',
  async () => ({
    driver: await createStorageDriver('s3', s3.parameters('/suite/root', { chunksize: 5 * MiB })),
    cleanup: async () => {},
  }),
  {
    atomicOverwrite: {
      reason: 's3rver writes a replaced object in place (S3 replaces objects atomically)',
      checkedBy: 'on the fake S3 client: one PutObject of the whole body per putContent, readers see whole versions',
      instead: atomicPutOnFake,
    },
  },
);

// The same suite on the fake: S3's rules enforced (equal parts of at least 5 MiB), atomic replacement.
driverSuite('s3 (fake S3 client enforcing S3 rules)', async () => ({ driver: fakeDriver(new FakeS3()), cleanup: async () => {} }));
