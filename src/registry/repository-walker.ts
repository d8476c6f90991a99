/**
 * Walks `repositories/` depth first in component order (distribution's catalog order: `a`, `a/b`,
 * `a-c`), yielding each directory that has `_`-prefixed children (`_manifests`, `_layers`,
 * `_uploads`, ...) with those children's names. It never descends into `_` directories.
 */
import type { StorageDriver } from '../storage/driver.js';
import { REPOSITORIES_ROOT } from './paths.js';
import { listNames } from './links.js';

export interface WalkedRepository {
  readonly name: string;
  /** The `_`-prefixed children of the repository directory. */
  readonly special: readonly string[];
}

export interface WalkOptions {
  /** Skip repositories up to and including this name (component order). */
  readonly after?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Compares repository names component by component, as the walk orders them. */
export function compareNames(a: string, b: string): number {
  const ac = a.split('/');
  const bc = b.split('/');
  for (let i = 0; i < Math.min(ac.length, bc.length); i++) {
    const x = ac[i] as string;
    const y = bc[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ac.length - bc.length;
}

/** Directories listed ahead of the one being walked: listing is I/O-bound, so overlap it. */
const LOOKAHEAD = 16;

export async function* walkRepositories(driver: StorageDriver, options: WalkOptions = {}): AsyncGenerator<WalkedRepository> {
  const after = options.after === undefined || options.after === '' ? undefined : options.after.split('/');
  const names = await listNames(driver, REPOSITORIES_ROOT, { signal: options.signal });
  if (names !== undefined) yield* walk(driver, REPOSITORIES_ROOT, [], names, after, options.signal);
}

async function* walk(
  driver: StorageDriver,
  dir: string,
  prefix: readonly string[],
  names: readonly string[],
  after: readonly string[] | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<WalkedRepository> {
  signal?.throwIfAborted();
  if (prefix.length > 0) {
    const special = names.filter((n) => n.startsWith('_'));
    const name = prefix.join('/');
    if (special.length > 0 && (after === undefined || compareNames(name, after.join('/')) > 0)) yield { name, special };
  }
  // `after` prunes only while this directory lies on its path.
  const onPath = after !== undefined && prefix.length < after.length && prefix.every((c, i) => after[i] === c);
  const bound = onPath ? after[prefix.length] : undefined;
  const children = names.filter((child) => !child.startsWith('_') && !(bound !== undefined && child < bound));
  const listings: Promise<string[] | undefined>[] = [];
  for (let i = 0; i < children.length; i++) {
    while (listings.length < Math.min(children.length, i + LOOKAHEAD)) {
      const listing = listNames(driver, `${dir}/${children[listings.length] as string}`, { signal });
      // A listing started ahead may fail after the walk stopped: that must not go unhandled.
      listing.catch(() => undefined);
      listings.push(listing);
    }
    const childNames = await listings[i];
    if (childNames === undefined) continue;
    const child = children[i] as string;
    yield* walk(driver, `${dir}/${child}`, [...prefix, child], childNames, after, signal);
  }
}
