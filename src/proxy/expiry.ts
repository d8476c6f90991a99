/**
 * Removal of cached content whose TTL ran out (distribution's proxy scheduler does the same from
 * its `scheduler-state.json`). A sweep walks the repositories that have `_proxy/` state and, for
 * every blob or manifest entry past its `expiresAt` that no pull has re-checked since, unlinks the
 * blob or deletes the manifest (and the tags on it) from the repository and drops the entry; the
 * space returns at garbage collection, and the next pull fetches again. Every instance may sweep:
 * the deletes are idempotent, and a pull racing a sweep at worst fetches once more.
 */
import type { Logger } from '../log/logger.js';
import { tryParseDigest } from '../registry/digest.js';
import { listNames } from '../registry/links.js';
import { paths } from '../registry/paths.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import { walkRepositories } from '../registry/repository-walker.js';
import type { StorageDriver } from '../storage/driver.js';
import { CacheState, type ContentKind } from './cache-state.js';

export interface SweepResult {
  readonly examined: number;
  readonly removed: number;
}

const ignoreUnknown = (err: unknown): void => {
  if (!(err instanceof RegistryError)) throw err;
};

export async function sweepExpired(driver: StorageDriver, store: Registry, state: CacheState, signal?: AbortSignal): Promise<SweepResult> {
  let examined = 0;
  let removed = 0;
  const ctx = { signal };
  for await (const repo of walkRepositories(driver, { signal })) {
    if (!repo.special.includes('_proxy')) continue;
    for (const [kind, dir] of [['blob', 'blobs'], ['manifest', 'manifests']] as const satisfies readonly (readonly [ContentKind, string])[]) {
      const base = `${paths.proxyDir(repo.name)}/${dir}`;
      for (const algorithm of (await listNames(driver, base, ctx)) ?? []) {
        for (const hex of (await listNames(driver, `${base}/${algorithm}`, ctx)) ?? []) {
          const digest = tryParseDigest(`${algorithm}:${hex}`);
          if (typeof digest === 'string') continue;
          examined++;
          const entry = await state.content(kind, repo.name, digest, ctx);
          if (entry === undefined || !state.expired(entry)) continue;
          if (kind === 'blob') await store.deleteBlob(repo.name, digest, ctx).catch(ignoreUnknown);
          else await store.deleteManifest(repo.name, { kind: 'digest', digest }, ctx).catch(ignoreUnknown);
          await state.forgetContent(kind, repo.name, digest, ctx);
          removed++;
        }
      }
    }
  }
  return { examined, removed };
}

/**
 * Sweeps every `intervalMs` (first after a random part of it, so instances spread out); returns
 * a function that stops the schedule.
 */
export function startExpirySweeper(driver: StorageDriver, store: Registry, intervalMs: number, log?: Logger): () => void {
  const state = new CacheState(driver);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const run = async (): Promise<void> => {
    try {
      const result = await sweepExpired(driver, store, state, controller.signal);
      if (result.removed > 0) log?.info(result, 'pull-through cache: expired content removed');
    } catch (err) {
      if (!controller.signal.aborted) log?.warn({ error: (err as Error).message }, 'pull-through cache: expiry sweep failed');
    }
    if (!controller.signal.aborted) timer = setTimeout(() => void run(), intervalMs).unref();
  };
  timer = setTimeout(() => void run(), Math.floor(Math.random() * intervalMs)).unref();
  return () => {
    controller.abort();
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** The sweep interval for these TTLs: the shortest, but at least a minute and at most an hour. */
export function sweepInterval(ttlsMs: readonly number[]): number | undefined {
  const positive = ttlsMs.filter((t) => t > 0);
  if (positive.length === 0) return undefined;
  return Math.min(Math.max(Math.min(...positive), 60_000), 3_600_000);
}
