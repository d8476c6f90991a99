#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304:${GLIBC_TUNABLES} node --max-semi-space-size=4 --heap-growing-percent=30
/**
 * Process entry: hands the command line to the CLI. This line's settings are the way Wharf runs
 * (`npm start` runs this file, and the bench reads them from here):
 * - Two V8 flags keep memory flat: the young generation is capped at 4 MiB per semi-space, and the
 *   old generation may grow by 30 % over its live size before a full collection instead of up to
 *   4x, which under 64 connections keeps peak RSS about 35 MiB lower at the same request rate.
 * - Two glibc malloc settings stop the page faults that streaming cost: glibc's default gives the
 *   top of the heap back to the kernel once 128 KiB of it is free, and every request body chunk
 *   freed after its write let it do so, so the next chunks faulted fresh pages in (10,000-20,000
 *   faults and 0.4-0.6 s more CPU per 512 MiB upload). Keeping up to 8 MiB makes a 512 MiB PUT
 *   1.3-1.5x faster. Fixing that threshold also stops glibc from raising its mmap threshold on its
 *   own, so it is set to 4 MiB: at the default 128 KiB every 1 MiB download buffer was a fresh mmap
 *   (130,000 faults per 512 MiB, download 3x slower). A GLIBC_TUNABLES of your own comes after and
 *   wins. docs/benchmarks.md, "Fifth pass", has the numbers.
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
