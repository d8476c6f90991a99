#!/usr/bin/env node
/** Process entry: hands the command line to the CLI. */
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
