/** Every file below a driver path (for before/after comparisons in tests). */
import type { StorageDriver } from '../../src/storage/driver.js';
import { isPathNotFound } from '../../src/storage/driver.js';

export async function listFiles(driver: StorageDriver, dir = '/'): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string): Promise<void> => {
    let children: string[] = [];
    try {
      for await (const child of driver.list(path)) children.push(child);
    } catch (err) {
      if (isPathNotFound(err)) return;
      throw err;
    }
    for (const child of children) {
      const info = await driver.stat(child);
      if (info.isDirectory) await walk(child);
      else out.push(child);
    }
  };
  await walk(dir);
  return out.sort();
}

/** The digests of the blobs stored under `blobs/`. */
export async function storedBlobs(driver: StorageDriver): Promise<Set<string>> {
  const files = await listFiles(driver, '/docker/registry/v2/blobs');
  return new Set(files.map((f) => /\/blobs\/([a-z0-9]+)\/[0-9a-f]{2}\/([0-9a-f]+)\/data$/.exec(f)).filter((m) => m !== null).map((m) => `${m[1]}:${m[2]}`));
}
