/** Link files: a small file holding one digest string, as distribution writes them. */
import type { CallOptions, StorageDriver } from '../storage/driver.js';
import { isPathNotFound } from '../storage/driver.js';
import { tryParseDigest, type Digest } from './digest.js';

/** The digest a link holds; undefined when the link is absent or does not hold a digest. */
export async function readLink(driver: StorageDriver, path: string, options?: CallOptions): Promise<Digest | undefined> {
  let content: Buffer;
  try {
    content = await driver.getContent(path, options);
  } catch (err) {
    if (isPathNotFound(err)) return undefined;
    throw err;
  }
  const parsed = tryParseDigest(content.toString('utf8').trim());
  return typeof parsed === 'string' ? undefined : parsed;
}

export async function writeLink(driver: StorageDriver, path: string, digest: Digest, options?: CallOptions): Promise<void> {
  await driver.putContent(path, Buffer.from(digest.value, 'utf8'), options);
}

/** Whether a link at `path` holds exactly `digest`. */
export async function linkHolds(driver: StorageDriver, path: string, digest: Digest, options?: CallOptions): Promise<boolean> {
  const target = await readLink(driver, path, options);
  return target !== undefined && target.value === digest.value;
}

/** Deletes a path, ignoring that it was already gone. */
export async function deleteIfPresent(driver: StorageDriver, path: string, options?: CallOptions): Promise<boolean> {
  try {
    await driver.delete(path, options);
    return true;
  } catch (err) {
    if (isPathNotFound(err)) return false;
    throw err;
  }
}

/** Stats a path, undefined when absent. */
export async function statIfPresent(driver: StorageDriver, path: string, options?: CallOptions) {
  try {
    return await driver.stat(path, options);
  } catch (err) {
    if (isPathNotFound(err)) return undefined;
    throw err;
  }
}

/** The names (last components) of a directory's children; empty when it does not exist. */
export async function listNames(driver: StorageDriver, path: string, options?: CallOptions): Promise<string[] | undefined> {
  const names: string[] = [];
  try {
    for await (const child of driver.list(path, options)) names.push(child.slice(child.lastIndexOf('/') + 1));
  } catch (err) {
    if (isPathNotFound(err)) return undefined;
    throw err;
  }
  return names;
}
