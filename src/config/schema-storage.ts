/**
 * The `storage` section: exactly one driver section plus the driver-independent settings
 * (`delete`, `redirect`, `cache`, `maintenance`, `tag`), with distribution's defaults.
 */
import * as z from 'zod';
import { duration, int, nonEmptyStr } from './schema-helpers.js';
import { refused } from './support.js';
import { s3Params, type S3Params } from './schema-storage-s3.js';
import { azureParams, type AzureParams } from './schema-storage-azure.js';

/** Keys of `storage` that are settings, not drivers (distribution's `Storage.Type()` skips them). */
export const STORAGE_SETTINGS = ['delete', 'redirect', 'cache', 'maintenance', 'tag'] as const;

/** Drivers Wharf implements. */
export const STORAGE_DRIVERS = ['filesystem', 'inmemory', 's3', 'azure'] as const;
/** Drivers distribution knows that Wharf refuses for now (rows in the support table). */
export const REFUSED_STORAGE_DRIVERS = ['gcs', 'swift', 'oss'] as const;

/** distribution's filesystem driver: `defaultRootDirectory`, `defaultMaxThreads`, `minThreads`. */
const FILESYSTEM_ROOT = '/var/lib/registry';
const FILESYSTEM_MAX_THREADS = 100;
const FILESYSTEM_MIN_THREADS = 25;

const filesystemParams = z.strictObject({
  rootdirectory: nonEmptyStr().prefault(FILESYSTEM_ROOT),
  /** distribution raises values under 25 to 25. */
  maxthreads: int()
    .min(0)
    .transform((n) => Math.max(n, FILESYSTEM_MIN_THREADS))
    .prefault(FILESYSTEM_MAX_THREADS),
  /** Wharf's own: large files past the page cache with O_DIRECT (filesystem-writer.ts). */
  directio: z.boolean().default(true),
});

export type FilesystemParams = z.output<typeof filesystemParams>;

const settingsShape = {
  delete: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
  redirect: z.strictObject({ disable: z.boolean().default(false) }).prefault({}),
  cache: z
    .strictObject({
      blobdescriptor: z.enum(['inmemory', 'redis']).optional(),
      /** deprecated spelling of blobdescriptor */
      layerinfo: z.enum(['inmemory', 'redis']).optional(),
      /** entries kept by the in-memory cache; 0 means no limit */
      blobdescriptorsize: int().min(0).default(10000),
    })
    .prefault({}),
  maintenance: z
    .strictObject({
      uploadpurging: z
        .strictObject({
          enabled: z.boolean().default(true),
          age: duration('never').prefault('168h'),
          interval: duration('never').prefault('24h'),
          dryrun: z.boolean().default(false),
        })
        .prefault({}),
      readonly: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
    })
    .prefault({}),
  tag: z.strictObject({ concurrencylimit: int().min(0).optional() }).prefault({}),
};

const storageObject = z
  .strictObject({
    filesystem: filesystemParams.nullable().optional(),
    inmemory: z.strictObject({}).nullable().optional(),
    s3: s3Params.optional(),
    azure: azureParams.optional(),
    gcs: refused('storage.gcs'),
    swift: refused('storage.swift'),
    oss: refused('storage.oss'),
    ...settingsShape,
  })
  .superRefine(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null) return; // reported as a type problem
      const drivers = Object.keys(value).filter((key) => !(STORAGE_SETTINGS as readonly string[]).includes(key));
      if (drivers.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: `no storage driver configured; add one of ${STORAGE_DRIVERS.join(', ')} (e.g. "filesystem: {rootdirectory: /var/lib/registry}")`,
        });
      } else if (drivers.length > 1) {
        ctx.addIssue({
          code: 'custom',
          message: `exactly one storage driver must be configured, found ${drivers.length}: ${drivers.join(', ')}`,
        });
      }
    },
    { when: () => true },
  );

type Settings = {
  delete: { enabled: boolean };
  redirect: { disable: boolean };
  cache: {
    /** unset: no blob descriptor cache configured (Wharf still caches in-process) */
    blobdescriptor?: 'inmemory' | 'redis';
    blobdescriptorsize: number;
  };
  maintenance: {
    uploadpurging: {
      enabled: boolean;
      /** milliseconds */
      age: number;
      /** milliseconds */
      interval: number;
      dryrun: boolean;
    };
    readonly: { enabled: boolean };
  };
  tag: { concurrencylimit?: number };
};

/**
 * The storage configuration: a union tagged by `driver`, holding that driver's parameters under
 * the driver's own key (as in the YAML), plus the driver-independent settings.
 */
export type StorageConfig = (
  | { driver: 'filesystem'; filesystem: FilesystemParams }
  | { driver: 'inmemory'; inmemory: Record<string, never> }
  | { driver: 's3'; s3: S3Params }
  | { driver: 'azure'; azure: AzureParams }
) &
  Settings;

export const storageSchema = storageObject.transform((value): StorageConfig => {
  const blobdescriptor = value.cache.blobdescriptor ?? value.cache.layerinfo;
  const settings: Settings = {
    delete: value.delete,
    redirect: value.redirect,
    cache: {
      ...(blobdescriptor ? { blobdescriptor } : {}),
      blobdescriptorsize: value.cache.blobdescriptorsize,
    },
    maintenance: value.maintenance,
    tag: value.tag,
  };
  if (value.filesystem !== undefined) {
    return { driver: 'filesystem', filesystem: value.filesystem ?? filesystemParams.parse({}), ...settings };
  }
  if (value.s3 !== undefined) return { driver: 's3', s3: value.s3, ...settings };
  if (value.azure !== undefined) return { driver: 'azure', azure: value.azure, ...settings };
  return { driver: 'inmemory', inmemory: {}, ...settings };
});
