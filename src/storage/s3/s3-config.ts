/**
 * `storage.s3` parameters (distribution's keys, names and defaults) and the AWS SDK v3 client
 * they configure. Keys absent: credentials come from the SDK's standard chain (environment,
 * shared profile, web identity, container and instance metadata).
 */
// Types only: the SDK loads with the driver (s3-client.ts), so `storage.s3` is parsed without it.
import type { ServerSideEncryption, ObjectCannedACL, StorageClass } from '@aws-sdk/client-s3';
import type { DriverParameters } from '../driver.js';

const MiB = 1024 * 1024;
/** S3's smallest part (but the last) and largest part. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's largest object (and the largest source range of one UploadPartCopy is MAX_PART_SIZE). */
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;

export interface S3DriverOptions {
  readonly bucket: string;
  readonly region: string;
  readonly regionEndpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly accessKey: string | undefined;
  readonly secretKey: string | undefined;
  readonly sessionToken: string | undefined;
  /** Key prefix, no leading or trailing slash ('' for the bucket's root). */
  readonly rootDirectory: string;
  readonly encrypt: boolean;
  readonly keyId: string | undefined;
  readonly secure: boolean;
  readonly skipVerify: boolean;
  /** The size of every part of an upload but the last. */
  readonly chunkSize: number;
  readonly multipartCopyChunkSize: number;
  readonly multipartCopyMaxConcurrency: number;
  readonly multipartCopyThresholdSize: number;
  /** undefined for `NONE`: no storage class is sent. */
  readonly storageClass: StorageClass | undefined;
  readonly objectAcl: ObjectCannedACL | undefined;
  /** List with the `/` delimiter (false: walk keys, for stores whose delimiter listing is incomplete). */
  readonly delimiterListing: boolean;
  /**
   * Internal, not a config key (tests shrink them): the most bytes in one segment of a large upload
   * (default MAX_PART_SIZE, the UploadPartCopy source range limit) and the largest file (default
   * MAX_OBJECT_SIZE). See s3-segments.ts.
   */
  readonly segmentBytes?: number;
  readonly maxObjectSize?: number;
}

function fail(key: string, message: string): never {
  throw new Error(`storage.s3.${key} ${message}`);
}

function stringOf(p: DriverParameters, key: string, required: boolean): string | undefined {
  const value = p[key];
  if (value === undefined || value === null || value === '') {
    if (required) fail(key, 'is required');
    return undefined;
  }
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return fail(key, `must be a string, got ${JSON.stringify(value)}`);
}

function boolOf(p: DriverParameters, key: string, fallback: boolean): boolean {
  const value = p[key];
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return fail(key, `must be true or false, got ${JSON.stringify(value)}`);
}

function intOf(p: DriverParameters, key: string, fallback: number, min: number, max: number): number {
  const value = p[key];
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) return fail(key, `must be an integer, got ${JSON.stringify(value)}`);
  if (n < min || n > max) return fail(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'OUTPOSTS', 'GLACIER_IR', 'NONE'];
const OBJECT_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'];

/** The driver options from a `storage.s3` section (strings are accepted for numbers and booleans, as env overrides give them). */
export function s3Options(p: DriverParameters): S3DriverOptions {
  const storageClass = (stringOf(p, 'storageclass', false) ?? 'STANDARD').toUpperCase();
  if (!STORAGE_CLASSES.includes(storageClass)) fail('storageclass', `must be one of ${STORAGE_CLASSES.join(', ')}`);
  const objectAcl = stringOf(p, 'objectacl', false) ?? 'private';
  if (!OBJECT_ACLS.includes(objectAcl)) fail('objectacl', `must be one of ${OBJECT_ACLS.join(', ')}`);
  const root = (stringOf(p, 'rootdirectory', false) ?? '').replace(/^\/+|\/+$/g, '');
  return {
    bucket: stringOf(p, 'bucket', true)!,
    region: stringOf(p, 'region', true)!,
    regionEndpoint: stringOf(p, 'regionendpoint', false),
    forcePathStyle: boolOf(p, 'forcepathstyle', false),
    accessKey: stringOf(p, 'accesskey', false),
    secretKey: stringOf(p, 'secretkey', false),
    sessionToken: stringOf(p, 'sessiontoken', false),
    rootDirectory: root,
    encrypt: boolOf(p, 'encrypt', false),
    keyId: stringOf(p, 'keyid', false),
    secure: boolOf(p, 'secure', true),
    skipVerify: boolOf(p, 'skipverify', false),
    chunkSize: intOf(p, 'chunksize', 10 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    multipartCopyChunkSize: intOf(p, 'multipartcopychunksize', 32 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    multipartCopyMaxConcurrency: intOf(p, 'multipartcopymaxconcurrency', 100, 1, 10_000),
    multipartCopyThresholdSize: intOf(p, 'multipartcopythresholdsize', 32 * MiB, 0, MAX_PART_SIZE),
    storageClass: storageClass === 'NONE' ? undefined : (storageClass as StorageClass),
    objectAcl: objectAcl as ObjectCannedACL,
    // not a distribution key: `wharf.s3.delimiterlisting`, passed along by `wharf serve`
    delimiterListing: boolOf(p, 'delimiterlisting', true),
  };
}

/** Headers every new object gets: encryption, storage class, ACL. */
export function writeOptions(o: S3DriverOptions): {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
  StorageClass?: StorageClass;
  ACL?: ObjectCannedACL;
  ContentType: string;
} {
  return {
    ContentType: 'application/octet-stream',
    ...(o.encrypt ? { ServerSideEncryption: o.keyId ? 'aws:kms' : 'AES256' } : {}),
    ...(o.encrypt && o.keyId ? { SSEKMSKeyId: o.keyId } : {}),
    ...(o.storageClass ? { StorageClass: o.storageClass } : {}),
    ...(o.objectAcl ? { ACL: o.objectAcl } : {}),
  };
}
