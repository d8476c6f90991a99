/**
 * `WHARF_TEST_STORAGE=s3` runs the in-process HTTP tests (startTestWharf) on the S3 driver against
 * one s3rver per test process, each server under its own root directory.
 */
import { randomBytes } from 'node:crypto';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createStorageDriver, preferredChunkSize } from '../../src/storage/drivers.js';
import { startS3rver, type RunningS3rver } from './s3rver.js';

let s3: Promise<RunningS3rver> | undefined;

export interface ObjectStoreDriver {
  readonly driver: StorageDriver;
  readonly chunkMinLength: number | undefined;
}

/** The driver WHARF_TEST_STORAGE asks for, or undefined for the default (inmemory). */
export async function objectStoreDriver(): Promise<ObjectStoreDriver | undefined> {
  const wanted = process.env['WHARF_TEST_STORAGE'];
  if (wanted === undefined || wanted === '' || wanted === 'inmemory') return undefined;
  if (wanted !== 's3') throw new Error(`WHARF_TEST_STORAGE=${wanted}: the tests know inmemory and s3`);
  s3 ??= startS3rver({ unref: true });
  const parameters = (await s3).parameters(`/http-${randomBytes(6).toString('hex')}`, { chunksize: 5 * 1024 * 1024 });
  return { driver: await createStorageDriver('s3', parameters), chunkMinLength: preferredChunkSize('s3', parameters) };
}

/** The `OCI-Chunk-Min-Length` the tests' storage makes Wharf advertise ('' for none: inmemory). */
export function expectedChunkMinLength(): string {
  return process.env['WHARF_TEST_STORAGE'] === 's3' ? String(5 * 1024 * 1024) : '';
}
