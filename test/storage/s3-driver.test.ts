import { after, before } from 'node:test';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { driverSuite } from '../../src/storage/testing/driver-suite.js';
import { startS3rver, type RunningS3rver } from '../helpers/s3rver.js';

let s3: RunningS3rver;
before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.close();
});

// Small parts (the S3 minimum) so the 24 MiB and 64 MiB tests cross several part boundaries.
driverSuite('s3 (s3rver)', async () => ({
  driver: await createStorageDriver('s3', s3.parameters('/suite/root', { chunksize: 5 * 1024 * 1024 })),
  cleanup: async () => {},
}), { atomicOverwrite: 's3rver writes a replaced object in place (S3 itself replaces objects atomically)' });
