/**
 * Three Wharf processes on one S3 bucket (s3rver): see test/helpers/many-instances.ts.
 */
import { createStorageDriver } from '../../src/storage/drivers.js';
import { manyInstancesSuite } from '../helpers/many-instances.js';
import { startS3rver } from '../helpers/s3rver.js';

const PART = 5 * 1024 * 1024;

manyInstancesSuite({
  name: 'S3 bucket (s3rver)',
  part: PART,
  chunkMinLength: String(PART),
  signature: /X-Amz-Signature=/,
  start: async () => {
    const s3 = await startS3rver();
    const env: Record<string, string> = { REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_DELETE_ENABLED: 'true', REGISTRY_WHARF_S3_DELIMITERLISTING: 'false' };
    for (const [key, value] of Object.entries(s3.parameters('/many', { chunksize: PART }))) {
      if (key !== 'delimiterlisting') env[`REGISTRY_STORAGE_S3_${key.toUpperCase()}`] = String(value);
    }
    return { env, driver: () => createStorageDriver('s3', s3.parameters('/many')), close: () => s3.close() };
  },
});
