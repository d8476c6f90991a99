/** Wharf's version, read once from package.json. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'wharf' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // try the next location (dist/src/ when built, src/ when run from source)
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
