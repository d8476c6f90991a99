#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
/**
 * Process entry: hands the command line to the CLI. Two V8 flags (here, in `npm start` and in the
 * bench) keep memory flat: the young generation is capped at 4 MiB per semi-space, and the old
 * generation may grow by 30 % over its live size before a full collection instead of up to 4x,
 * which under 64 connections keeps peak RSS about 35 MiB lower at the same request rate
 * (docs/benchmarks.md).
 */
import { runCli } from './cli/index.js';

runCli(process.argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
