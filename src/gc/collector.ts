/**
 * Garbage collection with distribution's semantics (see mark.ts and sweep.ts): walk every
 * repository, mark what manifests reach, sweep the rest. The same function serves `wharf gc` and
 * the in-process schedule; neither knows how progress is shown (events go to `onEvent`).
 */
import type { StorageDriver } from '../storage/driver.js';
import { walkRepositories, type WalkedRepository } from '../registry/repository-walker.js';
import { mark } from './mark.js';
import { sweep, type SweepResult } from './sweep.js';
import { ACTIVE_UPLOAD_WINDOW_MS, GcRefusedError, recentUploads } from './safety.js';
import type { GcListener } from './events.js';

export interface GcOptions {
  /** Where the collector reads (the storage itself, not a cache in front of it). */
  readonly driver: StorageDriver;
  /** Where it deletes; the running registry's caching driver, so its cache forgets exactly what goes. */
  readonly sweepDriver?: StorageDriver | undefined;
  /** Keep only manifests a tag reaches (with their index children and referrers). */
  readonly deleteUntagged: boolean;
  readonly dryRun: boolean;
  /** Storage calls under way at once, per level of the walk (default 8). */
  readonly concurrency?: number | undefined;
  /** Refuse (GcRefusedError) when an upload was written to within this long: a registry is writing. */
  readonly refuseActiveUploadsWithinMs?: number | undefined;
  /** Files modified less than this long before the run are never swept (covers coarse file times; default 2 s). */
  readonly protectMarginMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: GcListener | undefined;
}

export interface GcReport extends SweepResult {
  readonly dryRun: boolean;
  readonly deleteUntagged: boolean;
  readonly repositories: number;
  readonly manifestsExamined: number;
  readonly warnings: number;
  readonly markMs: number;
  readonly sweepMs: number;
  readonly totalMs: number;
}

export const DEFAULT_GC_CONCURRENCY = 8;
export const DEFAULT_PROTECT_MARGIN_MS = 2_000;

export async function collectGarbage(options: GcOptions): Promise<GcReport> {
  const started = Date.now();
  const protectFrom = new Date(started - (options.protectMarginMs ?? DEFAULT_PROTECT_MARGIN_MS));
  const concurrency = options.concurrency ?? DEFAULT_GC_CONCURRENCY;
  const signal = options.signal;
  let warnings = 0;
  const emit: GcListener = (event) => {
    if (event.type === 'warning') warnings++;
    options.onEvent?.(event);
  };

  emit({ type: 'phase', phase: 'repositories' });
  const repositories: WalkedRepository[] = [];
  for await (const repo of walkRepositories(options.driver, { signal })) {
    repositories.push(repo);
    if (repositories.length % 100 === 0) emit({ type: 'progress', phase: 'repositories', done: repositories.length });
  }
  emit({ type: 'phase-end', phase: 'repositories', done: repositories.length });

  if (options.refuseActiveUploadsWithinMs !== undefined && !options.dryRun) {
    const since = new Date(started - options.refuseActiveUploadsWithinMs);
    const active = await recentUploads(options.driver, repositories, since, concurrency, signal);
    if (active.length > 0) {
      const minutes = Math.round((options.refuseActiveUploadsWithinMs ?? ACTIVE_UPLOAD_WINDOW_MS) / 60_000);
      throw new GcRefusedError(
        `refusing to collect garbage: ${active.length} upload(s) written to in the last ${minutes} minutes (${active.slice(0, 3).join(', ')}${active.length > 3 ? ', ...' : ''}), `
        + 'so a registry may be writing to this storage. Stop it or switch it to read-only (storage.maintenance.readonly.enabled), '
        + 'then run gc again; --force runs anyway, --dry-run only reports.',
      );
    }
  }

  const marked = await mark(options.driver, repositories, { deleteUntagged: options.deleteUntagged, concurrency, signal, emit });
  const markDone = Date.now();
  const swept = await sweep(options.driver, options.sweepDriver ?? options.driver, marked.plans, marked.marked, {
    dryRun: options.dryRun,
    protectFrom,
    concurrency,
    signal,
    emit,
  });
  const finished = Date.now();
  return {
    ...swept,
    dryRun: options.dryRun,
    deleteUntagged: options.deleteUntagged,
    repositories: repositories.length,
    manifestsExamined: marked.manifestsExamined,
    warnings,
    markMs: markDone - started,
    sweepMs: finished - markDone,
    totalMs: finished - started,
  };
}
