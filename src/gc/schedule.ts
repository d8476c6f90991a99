/**
 * The collector inside the server (`gc` section): every `interval`, switch this registry to
 * read-only (refuse new writes, wait for those under way), mark and sweep, forget every cache, and
 * accept writes again. A dry run only reports, so it leaves writes open. Runs never overlap; the
 * first waits `interval` (or `firstRunMs`). One instance only: other instances' writes are not
 * stopped, so with several instances on one storage run `wharf gc` with all of them read-only.
 */
import type { StorageDriver } from '../storage/driver.js';
import type { Logger } from '../log/logger.js';
import { collectGarbage, type GcReport } from './collector.js';
import type { WriteGate } from './write-gate.js';

export interface GcSchedule {
  readonly intervalMs: number;
  readonly deleteUntagged: boolean;
  readonly dryRun: boolean;
  /** How long to wait for writes under way before a run gives up. */
  readonly drainTimeoutMs: number;
  /** The first run waits this long (default: the interval). */
  readonly firstRunMs?: number | undefined;
}

export interface GcSchedulerDeps {
  /** The storage itself (the collector reads it past any cache). */
  readonly driver: StorageDriver;
  /** The driver the registry uses (its cache forgets exactly what the sweep deletes). */
  readonly sweepDriver: StorageDriver;
  readonly gate: WriteGate | undefined;
  /** Forgets every cache the registry keeps (read cache, tag lists). */
  readonly clearCaches: () => void;
  readonly log: Logger;
}

export interface GcScheduler {
  /** Runs a collection now (or joins the one under way). */
  runNow(): Promise<GcReport>;
  stop(): void;
}

export function startGcSchedule(deps: GcSchedulerDeps, schedule: GcSchedule): GcScheduler {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<GcReport> | undefined;

  const collect = async (): Promise<GcReport> => {
    const closeGate = !schedule.dryRun && deps.gate !== undefined;
    if (closeGate) await deps.gate?.close(schedule.drainTimeoutMs);
    if (closeGate) deps.log.info('garbage collection: read-only until it finishes');
    try {
      return await collectGarbage({
        driver: deps.driver,
        sweepDriver: deps.sweepDriver,
        deleteUntagged: schedule.deleteUntagged,
        dryRun: schedule.dryRun,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'warning') deps.log.warn(event.message);
          else if (event.type === 'delete' && schedule.dryRun) deps.log.info({ kind: event.kind, repository: event.repository, digest: event.digest }, 'garbage collection (dry run) would delete');
        },
      });
    } finally {
      if (!schedule.dryRun) deps.clearCaches();
      if (closeGate) deps.gate?.open();
    }
  };

  const runNow = (): Promise<GcReport> => {
    running ??= collect().finally(() => {
      running = undefined;
    });
    return running;
  };

  const tick = async (): Promise<void> => {
    try {
      const report = await runNow();
      deps.log.info({ ...report }, 'garbage collection done');
    } catch (err) {
      if (!controller.signal.aborted) deps.log.error({ err }, 'garbage collection failed');
    }
    if (!controller.signal.aborted) timer = setTimeout(() => void tick(), schedule.intervalMs).unref();
  };

  const first = schedule.firstRunMs ?? schedule.intervalMs;
  deps.log.info({ inMs: first, intervalMs: schedule.intervalMs, deleteUntagged: schedule.deleteUntagged, dryRun: schedule.dryRun }, 'garbage collection scheduled');
  timer = setTimeout(() => void tick(), first).unref();
  return {
    runNow,
    stop: () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
