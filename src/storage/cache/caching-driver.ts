/**
 * A read cache in front of a storage driver: small files read with getContent (links, manifests,
 * small blobs) and the stat of files a predicate names immutable (blob data), held in memory, LRU
 * by bytes.
 *
 * Writes through this driver invalidate exactly what they touch (a delete or move of a directory,
 * everything below it), so a single instance never serves a stale entry. Writes by other
 * processes on the same storage (other instances, distribution, offline tools) are seen after at
 * most `ttlMs`. Only what exists is cached: a miss always asks the storage, so content another
 * instance just wrote is never hidden.
 */
import type { Readable } from 'node:stream';
import type { CallOptions, FileInfo, FileWriter, ReaderOptions, StorageDriver, WriterOptions } from '../driver.js';
import type { CacheObserver } from './observer.js';

export interface CacheOptions {
  /** How long an entry may be served without asking the storage again. */
  readonly ttlMs: number;
  /** Total bytes of cached content at most (stat entries count a nominal 128 bytes). */
  readonly maxBytes: number;
  /** Files larger than this are not cached. */
  readonly maxEntryBytes?: number;
  /** Paths whose stat may be cached (files that never change once they exist, such as blob data). */
  readonly cacheStat?: (path: string) => boolean;
  readonly now?: () => number;
  /** Told about every hit and miss (metrics). */
  readonly observer?: CacheObserver | undefined;
}

interface Entry {
  readonly content?: Buffer;
  readonly info?: FileInfo;
  readonly expires: number;
  readonly bytes: number;
}

const STAT_ENTRY_BYTES = 128;

export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export class CachingDriver implements StorageDriver {
  readonly name: string;
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Bumped by every invalidation: a read that overlapped one does not fill the cache. */
  private generation = 0;
  readonly stats: CacheStats = { hits: 0, misses: 0, entries: 0, bytes: 0 };
  private readonly now: () => number;
  private readonly maxEntryBytes: number;

  constructor(
    private readonly inner: StorageDriver,
    private readonly options: CacheOptions,
  ) {
    this.name = inner.name;
    this.now = options.now ?? Date.now;
    this.maxEntryBytes = options.maxEntryBytes ?? 256 * 1024;
  }

  private key(kind: 'c' | 's', path: string): string {
    return `${kind}${path}`;
  }

  private lookup(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.remove(key, entry);
      return undefined;
    }
    // Re-insert to mark it most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  private store(key: string, entry: Omit<Entry, 'expires'>, generation: number): void {
    if (generation !== this.generation || entry.bytes > this.maxEntryBytes || entry.bytes > this.options.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) this.remove(key, previous);
    this.entries.set(key, { ...entry, expires: this.now() + this.options.ttlMs });
    this.bytes += entry.bytes;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.remove(oldKey, old);
    }
    this.stats.entries = this.entries.size;
    this.stats.bytes = this.bytes;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    this.stats.entries = this.entries.size;
    this.stats.bytes = this.bytes;
  }

  /** Forgets `path` and, when `tree`, everything below it. */
  invalidate(path: string, tree = false): void {
    this.generation++;
    for (const kind of ['c', 's'] as const) {
      const key = this.key(kind, path);
      const entry = this.entries.get(key);
      if (entry !== undefined) this.remove(key, entry);
    }
    if (!tree) return;
    const below = `${path.replace(/\/$/, '')}/`;
    for (const [key, entry] of this.entries) {
      if (key.startsWith(below, 1)) this.remove(key, entry);
    }
  }

  /** Forgets everything (for example after a garbage collection). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
    this.stats.entries = 0;
    this.stats.bytes = 0;
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo> {
    if (this.options.cacheStat?.(path) !== true) return this.inner.stat(path, options);
    const key = this.key('s', path);
    const cached = this.lookup(key);
    if (cached?.info !== undefined) {
      this.stats.hits++;
      this.options.observer?.hit();
      return cached.info;
    }
    this.stats.misses++;
    this.options.observer?.miss();
    const generation = this.generation;
    const info = await this.inner.stat(path, options);
    this.store(key, { info, bytes: STAT_ENTRY_BYTES }, generation);
    return info;
  }

  async getContent(path: string, options?: CallOptions): Promise<Buffer> {
    const key = this.key('c', path);
    const cached = this.lookup(key);
    if (cached?.content !== undefined) {
      this.stats.hits++;
      this.options.observer?.hit();
      return cached.content;
    }
    this.stats.misses++;
    this.options.observer?.miss();
    const generation = this.generation;
    const content = await this.inner.getContent(path, options);
    this.store(key, { content, bytes: content.length + 64 }, generation);
    return content;
  }

  async putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    this.invalidate(path);
    try {
      await this.inner.putContent(path, content, options);
    } finally {
      this.invalidate(path);
    }
  }

  reader(path: string, options?: ReaderOptions): Promise<Readable> {
    return this.inner.reader(path, options);
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    this.invalidate(path);
    const writer = await this.inner.writer(path, options);
    writer.once('close', () => this.invalidate(path));
    writer.once('finish', () => this.invalidate(path));
    return writer;
  }

  list(path: string, options?: CallOptions): AsyncIterable<string> {
    return this.inner.list(path, options);
  }

  async move(from: string, to: string, options?: CallOptions): Promise<void> {
    this.invalidate(from, true);
    this.invalidate(to, true);
    try {
      await this.inner.move(from, to, options);
    } finally {
      this.invalidate(from, true);
      this.invalidate(to, true);
    }
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    this.invalidate(path, true);
    try {
      await this.inner.delete(path, options);
    } finally {
      this.invalidate(path, true);
    }
  }

  redirectURL(path: string, method: 'GET' | 'HEAD', options?: CallOptions): Promise<string | undefined> {
    return this.inner.redirectURL?.(path, method, options) ?? Promise.resolve(undefined);
  }
}
