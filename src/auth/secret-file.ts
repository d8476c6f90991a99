/**
 * Secrets Wharf writes on first start when the configuration names a file that is not there yet
 * (the token signing key, a provisioned htpasswd file): created exclusively, readable by the owner
 * alone, so that of several instances starting at once the first writer wins.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Whether `path` exists; any error but "no such file" is thrown. */
export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return false;
  }
}

/** Writes `content` to a new file at `path` (mode 0600, its directory 0700); false when another process made it first. */
export function createSecretFile(path: string, content: string | Uint8Array): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}
