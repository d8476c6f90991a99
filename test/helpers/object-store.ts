/**
 * `WHARF_TEST_STORAGE=s3` or `=azure` runs the in-process HTTP tests (startTestWharf) on the S3
 * driver against one s3rver, or on the azure driver against one azurite, per test process, each
 * server under its own root directory.
 */
import { randomBytes } from 'node:crypto';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createStorageDriver, preferredChunkSize } from '../../src/storage/drivers.js';
import { startS3rver, type RunningS3rver } from './s3rver.js';
import { startAzurite, type RunningAzurite } from './azurite.js';

let s3: Promise<RunningS3rver> | undefined;
let azurite: Promise<RunningAzurite> | undefined;

export interface ObjectStoreDriver {
  readonly driver: StorageDriver;
  readonly chunkMinLength: number | undefined;
}

async function parametersFor(wanted: string, root: string): Promise<Record<string, unknown>> {
  if (wanted === 's3') {
    s3 ??= startS3rver({ unref: true });
    return (await s3).parameters(root, { chunksize: 5 * 1024 * 1024 });
  }
  if (wanted === 'azure') {
    azurite ??= startAzurite({ unref: true });
    return (await azurite).parameters(root);
  }
  throw new Error(`WHARF_TEST_STORAGE=${wanted}: the tests know inmemory, s3 and azure`);
}

/** The driver WHARF_TEST_STORAGE asks for, or undefined for the default (inmemory). */
export async function objectStoreDriver(): Promise<ObjectStoreDriver | undefined> {
  const wanted = process.env['WHARF_TEST_STORAGE'];
  if (wanted === undefined || wanted === '' || wanted === 'inmemory') return undefined;
  const parameters = await parametersFor(wanted, `/http-${randomBytes(6).toString('hex')}`);
  return { driver: await createStorageDriver(wanted, parameters), chunkMinLength: preferredChunkSize(wanted, parameters) };
}

/** The `OCI-Chunk-Min-Length` the tests' storage makes Wharf advertise ('' for none: inmemory, azure). */
export function expectedChunkMinLength(): string {
  return process.env['WHARF_TEST_STORAGE'] === 's3' ? String(5 * 1024 * 1024) : '';
}
