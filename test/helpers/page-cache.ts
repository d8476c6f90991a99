/** What the page cache holds of a file, read with util-linux's fincore(1). */
import { execFileSync } from 'node:child_process';

/** Bytes of `file` in the page cache. */
export function cachedBytes(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}
