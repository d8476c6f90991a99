/**
 * `wharf gc [config.yml] [--dry-run] [--delete-untagged] [--quiet] [--force]`: distribution's
 * `registry garbage-collect`, run against the storage a config.yml names (the embedded default,
 * ./data, without one). Like distribution's, it must run while no registry writes to that storage:
 * stop the registry or switch it to read-only first. It refuses when it sees uploads written to in
 * the last ten minutes, unless `--force`.
 *
 * Exit codes: 0 done (or dry run done), 1 failure (configuration, storage, an unreadable manifest),
 * 2 refused as unsafe.
 */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { createStorageDriver } from '../storage/drivers.js';
import { collectGarbage } from '../gc/collector.js';
import { ProgressReporter, formatSummary, type ProgressMode } from '../gc/progress.js';
import { ACTIVE_UPLOAD_WINDOW_MS, GcRefusedError } from '../gc/safety.js';
import { UnreadableManifestError } from '../gc/references.js';
import { driverParameters } from './serve.js';

export interface GcCommandOptions {
  readonly dryRun?: boolean;
  readonly deleteUntagged?: boolean;
  readonly quiet?: boolean;
  readonly force?: boolean;
}

export interface GcCommandIO {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (a progress bar) or not (plain lines). */
  readonly isTTY: boolean;
  readonly columns?: number | undefined;
}

const processIO = (): GcCommandIO => ({
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: process.stderr.isTTY === true,
  columns: process.stderr.columns,
});

export const GC_EXIT = { ok: 0, failed: 1, refused: 2 } as const;

/** Runs one collection; returns the exit code. */
export async function runGc(file: string | undefined, options: GcCommandOptions, io: GcCommandIO): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig(file === undefined ? { env: io.env, defaults: 'embedded' } : { file, env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return GC_EXIT.failed;
    }
    throw err;
  }
  const { storage } = loaded.config;
  const driverName: string = storage.driver;
  if (driverName === 'inmemory') {
    io.stderr('wharf gc: the inmemory storage driver keeps nothing outside a running registry; there is nothing to collect\n');
    return GC_EXIT.failed;
  }
  const mode: ProgressMode = options.quiet === true ? 'quiet' : io.isTTY ? 'tty' : 'plain';
  const reporter = new ProgressReporter(mode, { stdout: io.stdout, stderr: io.stderr, columns: io.columns });
  try {
    const driver = await createStorageDriver(storage.driver, driverParameters(storage, loaded.config.wharf.s3));
    if (mode !== 'quiet') {
      const where = storage.driver === 'filesystem' ? `filesystem ${storage.filesystem.rootdirectory}` : driverName;
      io.stderr(`wharf gc: ${where}${options.dryRun === true ? ' (dry run)' : ''}${options.deleteUntagged === true ? ' --delete-untagged' : ''}\n`);
    }
    const report = await collectGarbage({
      driver,
      deleteUntagged: options.deleteUntagged === true,
      dryRun: options.dryRun === true,
      refuseActiveUploadsWithinMs: options.force === true ? undefined : ACTIVE_UPLOAD_WINDOW_MS,
      onEvent: reporter.listener,
    });
    io.stdout(formatSummary(report));
    return GC_EXIT.ok;
  } catch (err) {
    if (err instanceof GcRefusedError) {
      io.stderr(`wharf gc: ${err.message}\n`);
      return GC_EXIT.refused;
    }
    if (err instanceof UnreadableManifestError) {
      io.stderr(`wharf gc: ${err.message}\n`);
      return GC_EXIT.failed;
    }
    io.stderr(`wharf gc: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return GC_EXIT.failed;
  }
}

export function registerGcCommand(program: Command, io?: Partial<GcCommandIO>): void {
  program
    .command('gc')
    .description('collect garbage: delete blobs no manifest references (run with the registry stopped or read-only)')
    .argument('[config]', 'a distribution-style config.yml naming the storage; without it, the embedded default (./data)')
    .option('--dry-run', 'delete nothing; print what would be deleted')
    .option('--delete-untagged', 'also delete manifests no tag reaches (keeping index children and referrers of what stays)')
    .option('-q, --quiet', 'print only the summary (and warnings and errors)')
    .option('--force', 'run even when uploads written to in the last ten minutes show a registry may be writing')
    .action(async (file: string | undefined, options: GcCommandOptions) => {
      const code = await runGc(file, options, { ...processIO(), ...io });
      if (code !== 0) process.exitCode = code;
    });
}
