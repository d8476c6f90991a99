/**
 * `storage.s3`: distribution's S3 driver keys. Values are checked for type here (numbers and
 * booleans also as strings, as REGISTRY_STORAGE_S3_* variables give them); the driver applies
 * distribution's defaults and ranges (`src/storage/s3/s3-config.ts`).
 */
import * as z from 'zod';
import { str } from './schema-helpers.js';

const flag = () => z.union([z.boolean(), z.enum(['true', 'false'])]).optional();
const count = () => z.union([z.int().min(0), z.string().regex(/^\d+$/, 'must be a whole number')]).optional();

export const s3Params = z.strictObject({
  accesskey: str().optional(),
  secretkey: str().optional(),
  sessiontoken: str().optional(),
  region: str(),
  regionendpoint: str().optional(),
  forcepathstyle: flag(),
  bucket: str(),
  rootdirectory: str().optional(),
  encrypt: flag(),
  keyid: str().optional(),
  secure: flag(),
  skipverify: flag(),
  chunksize: count(),
  multipartcopychunksize: count(),
  multipartcopymaxconcurrency: count(),
  multipartcopythresholdsize: count(),
  storageclass: str().optional(),
  objectacl: str().optional(),
  /** Always on in Wharf (signature v4 is what S3 accepts); accepted so that existing files load. */
  v4auth: flag(),
  /** Accepted and ignored: distribution's SDK logging and endpoint variants Wharf does not use. */
  loglevel: str().optional(),
  useragent: str().optional(),
  usedualstack: flag(),
  accelerate: flag(),
});

export type S3Params = z.output<typeof s3Params>;

/** Wharf's own S3 settings (`wharf.s3`). */
export const wharfS3Schema = z
  .strictObject({
    /** false for stores whose `/`-delimited listing misses deep prefixes (s3rver) */
    delimiterlisting: z.boolean().default(true),
  })
  .prefault({});
