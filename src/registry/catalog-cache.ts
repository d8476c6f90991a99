/**
 * The `_catalog`, cached: the full list of repository names, kept for `ttlMs` and forgotten at
 * once when a write through this instance could change it. A repository appears when a marker
 * directory (`_manifests`, `_layers`) is written below a name the list does not hold; it can
 * vanish only by a delete or move at or below a marker (on object stores a directory goes away with
 * its last file). Upload data (`_uploads`) and Wharf's `_referrers` never change the catalog.
 * Writes by other processes on the same storage are seen within `ttlMs`.
 *
 * CatalogWatchDriver reports the writes: StorageRegistry hands it, not the bare driver, to every
 * store, so no write of the registry bypasses the cache.
 */
import type { Readable } from 'node:stream';
import type { CallOptions, FileInfo, FileWriter, ReaderOptions, StorageDriver, WriterOptions } from '../storage/driver.js';
import { REPOSITORIES_ROOT, REPOSITORY_MARKERS } from './paths.js';
import { compareNames } from './repository-walker.js';

/** Registries with more repositories than this are listed from storage every time. */
export const CATALOG_CACHE_MAX_NAMES = 50_000;

const PREFIX = `${REPOSITORIES_ROOT}/`;

/** Where a driver path lies relative to the catalog. */
type Touch =
  | { readonly kind: 'none' }
  /** At or above a repository directory (or the repositories root itself). */
  | { readonly kind: 'above' }
  /** At or below a marker directory of repository `name`; `marker` when it is the marker itself. */
  | { readonly kind: 'marker'; readonly name: string; readonly atMarker: boolean };

export function catalogTouch(path: string): Touch {
  if (path === REPOSITORIES_ROOT || REPOSITORIES_ROOT.startsWith(`${path}/`) || path === '/') return { kind: 'above' };
  if (!path.startsWith(PREFIX)) return { kind: 'none' };
  const components = path.slice(PREFIX.length).split('/');
  const special = components.findIndex((c) => c.startsWith('_'));
  if (special < 0) return { kind: 'above' };
  if (special === 0 || !REPOSITORY_MARKERS.includes(components[special] as string)) return { kind: 'none' };
  return { kind: 'marker', name: components.slice(0, special).join('/'), atMarker: special === components.length - 1 };
}

interface Cached {
  readonly names: readonly string[];
  readonly members: ReadonlySet<string>;
  readonly expires: number;
}

export class CatalogCache {
  private cached: Cached | undefined;
  /** Bumped by every change: a walk that overlapped one is not kept. */
  private generation = 0;

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forgets the list (a change made behind this instance's back, such as a garbage collection). */
  forget(): void {
    this.generation++;
    this.cached = undefined;
  }

  /** A write of `path` through this instance (before it starts and after it ends). */
  written(path: string): void {
    const touch = catalogTouch(path);
    if (touch.kind === 'none') return;
    // A write adds, never removes: a name already listed stays listed.
    if (touch.kind === 'marker' && this.cached?.members.has(touch.name) === true) return;
    this.forget();
  }

  /** A delete of `path`, or a move away from it, through this instance. */
  removed(path: string): void {
    if (catalogTouch(path).kind !== 'none') this.forget();
  }

  /**
   * Every repository name in catalog order: from the cache while it is fresh, else from `walk`
   * (kept when no change overlapped it and it holds at most CATALOG_CACHE_MAX_NAMES names).
   * Undefined when the walk would exceed that bound: the caller pages through storage instead.
   */
  async all(walk: (limit: number) => Promise<string[] | undefined>): Promise<readonly string[] | undefined> {
    const cached = this.cached;
    if (cached !== undefined && cached.expires > this.now()) return cached.names;
    if (this.ttlMs <= 0) return undefined;
    const generation = this.generation;
    const names = await walk(CATALOG_CACHE_MAX_NAMES);
    if (names !== undefined && generation === this.generation) {
      this.cached = { names, members: new Set(names), expires: this.now() + this.ttlMs };
    }
    return names;
  }
}

/** The index of the first name after `last` in catalog order (binary search). */
export function firstAfter(names: readonly string[], last: string | undefined): number {
  if (last === undefined || last === '') return 0;
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNames(names[mid] as string, last) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A driver that tells a CatalogCache about every write, delete and move it passes on. */
export class CatalogWatchDriver implements StorageDriver {
  readonly name: string;

  constructor(
    private readonly inner: StorageDriver,
    private readonly cache: CatalogCache,
  ) {
    this.name = inner.name;
  }

  stat(path: string, options?: CallOptions): Promise<FileInfo> {
    return this.inner.stat(path, options);
  }

  getContent(path: string, options?: CallOptions): Promise<Buffer> {
    return this.inner.getContent(path, options);
  }

  async putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    this.cache.written(path);
    try {
      await this.inner.putContent(path, content, options);
    } finally {
      this.cache.written(path);
    }
  }

  reader(path: string, options?: ReaderOptions): Promise<Readable> {
    return this.inner.reader(path, options);
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    this.cache.written(path);
    const writer = await this.inner.writer(path, options);
    writer.once('close', () => this.cache.written(path));
    return writer;
  }

  list(path: string, options?: CallOptions): AsyncIterable<string> {
    return this.inner.list(path, options);
  }

  async move(from: string, to: string, options?: CallOptions): Promise<void> {
    this.cache.removed(from);
    this.cache.written(to);
    try {
      await this.inner.move(from, to, options);
    } finally {
      this.cache.removed(from);
      this.cache.written(to);
    }
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    this.cache.removed(path);
    try {
      await this.inner.delete(path, options);
    } finally {
      this.cache.removed(path);
    }
  }

  redirectURL(path: string, method: 'GET' | 'HEAD', options?: CallOptions): Promise<string | undefined> {
    return this.inner.redirectURL?.(path, method, options) ?? Promise.resolve(undefined);
  }
}
