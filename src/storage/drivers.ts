/**
 * The drivers map: a `storage.<name>` config section becomes a driver, already behind the base
 * wrapper's checks (`base.ts`).
 */
import type { DriverParameters, StorageDriver } from './driver.js';
import { wrapDriver } from './base.js';
import { DEFAULT_ROOT_DIRECTORY, FilesystemDriver } from './filesystem/filesystem-driver.js';
import { MemoryDriver } from './memory/memory-driver.js';
import { s3Options } from './s3/s3-config.js';

type DriverFactory = (parameters: DriverParameters) => Promise<StorageDriver>;

function stringParameter(driver: string, parameters: DriverParameters, key: string, fallback: string): string {
  const value = parameters[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw new Error(`storage.${driver}.${key} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

const factories = new Map<string, DriverFactory>([
  [
    'filesystem',
    (parameters) =>
      FilesystemDriver.open({
        rootDirectory: stringParameter('filesystem', parameters, 'rootdirectory', DEFAULT_ROOT_DIRECTORY),
        directIo: parameters.directio !== false,
      }),
  ],
  ['inmemory', async () => new MemoryDriver()],
  // Object-store SDKs load only when their driver is configured (the AWS SDK alone is ~13 MiB of RSS).
  ['s3', async (parameters) => new (await import('./s3/s3-driver.js')).S3Driver(s3Options(parameters))],
  ['azure', async (parameters) => (await import('./azure/azure-driver.js')).openAzureDriver(parameters)],
]);

/** The names `createStorageDriver` knows, as in the config. */
export const storageDriverNames: readonly string[] = [...factories.keys()];

/**
 * The driver `name` configured with `parameters` (its config section), wrapped in CheckedDriver.
 * An unknown name is an Error that names the known drivers.
 */
export async function createStorageDriver(name: string, parameters: Readonly<Record<string, unknown>>): Promise<StorageDriver> {
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(`unknown storage driver ${JSON.stringify(name)}; known drivers: ${storageDriverNames.join(', ')}`);
  }
  return wrapDriver(await factory(parameters ?? {}));
}

/**
 * The smallest chunk an upload to driver `name` should be sent in (advertised as
 * `OCI-Chunk-Min-Length`), or undefined where any size is as good: S3's part size.
 */
export function preferredChunkSize(name: string, parameters: Readonly<Record<string, unknown>>): number | undefined {
  return name === 's3' ? s3Options(parameters ?? {}).chunkSize : undefined;
}
