/**
 * The collector must not run with deletes against a root that a read-write registry is writing:
 * a blob pushed again while the mark runs, or a manifest pushed between mark and sweep, could lose
 * what it needs. It cannot see other processes, but it can see their traces: an upload written to
 * recently means a registry is (or was a moment ago) accepting pushes. `wharf gc` refuses then,
 * unless told `--force`; the in-process collector does not need this (it switches its own
 * registry to read-only and waits for writes under way).
 */
import type { StorageDriver } from '../storage/driver.js';
import { paths } from '../registry/paths.js';
import { listNames, statIfPresent } from '../registry/links.js';
import type { WalkedRepository } from '../registry/repository-walker.js';
import { forEachLimit } from './concurrency.js';

/** Uploads written to within this long before the run make `wharf gc` refuse. */
export const ACTIVE_UPLOAD_WINDOW_MS = 10 * 60_000;

export class GcRefusedError extends Error {
  override readonly name = 'GcRefusedError';
}

/** `<repository>/<upload id>` of each upload whose data changed after `since`. */
export async function recentUploads(driver: StorageDriver, repositories: readonly WalkedRepository[], since: Date, concurrency: number, signal?: AbortSignal): Promise<string[]> {
  const found: string[] = [];
  await forEachLimit(repositories.filter((r) => r.special.includes('_uploads')), concurrency, async (repo) => {
    for (const id of (await listNames(driver, paths.uploadsDir(repo.name), { signal })) ?? []) {
      const info = (await statIfPresent(driver, paths.uploadData(repo.name, id), { signal })) ?? (await statIfPresent(driver, paths.uploadDir(repo.name, id), { signal }));
      if (info !== undefined && info.modTime >= since) found.push(`${repo.name}/${id}`);
    }
  }, signal);
  return found.sort();
}
