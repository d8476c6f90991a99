/**
 * Running SHA-256 state of uploads in progress, kept in this process (Node's hashes cannot export
 * their state). An entry is valid only at the offset it was left at: a request that finds the
 * stored size elsewhere (another instance took a chunk, a restart, a cut-off body) gets nothing,
 * and the upload is hashed from storage once, at commit. Entries idle past `ttlMs` are dropped.
 */
import type { Hash } from 'node:crypto';

interface Entry {
  readonly hash: Hash;
  readonly offset: number;
  lastUsed: number;
}

export class HasherCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number = 24 * 3600 * 1000,
    private readonly maxEntries: number = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the hash of upload `id` if it stands at `offset`; the entry is removed either way. */
  take(id: string, offset: number): Hash | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    return entry.offset === offset ? entry.hash : undefined;
  }

  put(id: string, offset: number, hash: Hash): void {
    this.entries.delete(id);
    this.entries.set(id, { hash, offset, lastUsed: this.now() });
    this.evict();
  }

  drop(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    const cutoff = this.now() - this.ttlMs;
    // Map keeps insertion order and put() re-inserts, so the oldest entries come first.
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.lastUsed >= cutoff) break;
      this.entries.delete(id);
    }
  }
}
