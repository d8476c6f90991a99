/**
 * Upload purging (distribution's `storage.maintenance.uploadpurging`): deletes uploads started
 * longer ago than `age`. The scheduler first runs after a random delay (so that several instances
 * on one storage spread out), then every `interval`.
 */
import type { StorageDriver } from '../../storage/driver.js';
import type { Logger } from '../../log/logger.js';
import { paths } from '../paths.js';
import { deleteIfPresent, listNames, statIfPresent } from '../links.js';
import { walkRepositories } from '../repository-walker.js';

export interface PurgeResult {
  readonly examined: number;
  readonly purged: readonly string[];
}

async function startedAt(driver: StorageDriver, name: string, id: string, signal?: AbortSignal): Promise<Date | undefined> {
  try {
    const text = (await driver.getContent(paths.uploadStartedAt(name, id), { signal })).toString('utf8').trim();
    const time = new Date(text);
    if (!Number.isNaN(time.getTime())) return time;
  } catch {
    // no readable start time: fall back to the directory's own time
  }
  return (await statIfPresent(driver, paths.uploadDir(name, id), { signal }))?.modTime;
}

/** Deletes (or with dryRun, only lists) uploads started before `olderThan`. */
export async function purgeUploads(
  driver: StorageDriver,
  options: { olderThan: Date; dryRun: boolean; signal?: AbortSignal },
): Promise<PurgeResult> {
  let examined = 0;
  const purged: string[] = [];
  for await (const repo of walkRepositories(driver, { signal: options.signal })) {
    if (!repo.special.includes('_uploads')) continue;
    for (const id of (await listNames(driver, paths.uploadsDir(repo.name), { signal: options.signal })) ?? []) {
      examined++;
      const started = await startedAt(driver, repo.name, id, options.signal);
      if (started !== undefined && started >= options.olderThan) continue;
      purged.push(`${repo.name}/${id}`);
      if (!options.dryRun) await deleteIfPresent(driver, paths.uploadDir(repo.name, id), { signal: options.signal });
    }
  }
  return { examined, purged };
}

export interface PurgeSchedule {
  readonly ageMs: number;
  readonly intervalMs: number;
  readonly dryRun: boolean;
  /** The first run waits a random time up to this (default: the smaller of the interval and one hour). */
  readonly maxJitterMs?: number;
}

/** Runs purgeUploads on a schedule until the returned stop() is called. */
export function startUploadPurger(driver: StorageDriver, schedule: PurgeSchedule, log: Logger): () => void {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const run = async (): Promise<void> => {
    try {
      const result = await purgeUploads(driver, {
        olderThan: new Date(Date.now() - schedule.ageMs),
        dryRun: schedule.dryRun,
        signal: controller.signal,
      });
      log.info({ examined: result.examined, purged: result.purged.length, dryRun: schedule.dryRun }, 'upload purge done');
      if (schedule.dryRun && result.purged.length > 0) log.info({ uploads: result.purged }, 'upload purge (dry run) would delete');
    } catch (err) {
      if (!controller.signal.aborted) log.error({ err }, 'upload purge failed');
    }
    if (!controller.signal.aborted) timer = setTimeout(() => void run(), schedule.intervalMs).unref();
  };
  const maxJitter = schedule.maxJitterMs ?? Math.min(schedule.intervalMs, 3600_000);
  const delay = Math.floor(Math.random() * maxJitter);
  log.info({ inMs: delay }, 'upload purging scheduled');
  timer = setTimeout(() => void run(), delay).unref();
  return () => {
    controller.abort();
    if (timer !== undefined) clearTimeout(timer);
  };
}
