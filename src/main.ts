#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * Process entry: hands the command line to the CLI. V8's young generation is capped at 8 MiB per
 * semi-space (here and in `npm start`): under 64 connections that keeps peak RSS about 15 MiB
 * lower at the same request rate (docs/benchmarks.md).
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
