/** Tags: `_manifests/tags/<tag>/current/link` and the tag's `index/` of every digest it held. */
import type { StorageDriver } from '../../storage/driver.js';
import type { CacheObserver } from '../../storage/cache/observer.js';
import { paths } from '../paths.js';
import { RegistryError } from '../errors.js';
import type { Digest } from '../digest.js';
import { deleteIfPresent, listNames, readLink, statIfPresent, writeLink } from '../links.js';
import type { OpContext, Page, TagPage } from '../registry.js';

/**
 * Tag lists, cached per repository: a write through this instance forgets the repository's list
 * at once; other processes' tag writes are seen within `listTtlMs` (0: no caching).
 */
interface CachedList {
  readonly tags: readonly string[] | undefined;
  readonly expires: number;
}

const LISTS_KEPT = 1_000;

export class TagStore {
  private readonly lists = new Map<string, CachedList>();
  /** Bumped by every change: a listing that overlapped one is not cached. */
  private generation = 0;

  constructor(
    private readonly driver: StorageDriver,
    private readonly listTtlMs: number = 0,
    private readonly observer?: CacheObserver,
  ) {}

  private changed(name: string): void {
    this.generation++;
    this.lists.delete(name);
  }

  /** Forgets every cached list (after a garbage collection, which works past this store). */
  forgetAll(): void {
    this.generation++;
    this.lists.clear();
  }

  /** The digest a tag points at; MANIFEST_UNKNOWN when the tag does not exist. */
  async resolve(name: string, tag: string, ctx: OpContext): Promise<Digest> {
    const digest = await readLink(this.driver, paths.tagCurrentLink(name, tag), ctx);
    if (digest === undefined) throw new RegistryError('MANIFEST_UNKNOWN', { name, tag }, { message: `manifest unknown: no tag ${JSON.stringify(tag)} in ${name}` });
    return digest;
  }

  /** Points a tag at a digest: first the index entry, then `current` (as distribution does). */
  async tag(name: string, tag: string, digest: Digest, ctx: OpContext): Promise<void> {
    this.changed(name);
    try {
      await writeLink(this.driver, paths.tagIndexLink(name, tag, digest), digest, ctx);
      await writeLink(this.driver, paths.tagCurrentLink(name, tag), digest, ctx);
    } finally {
      this.changed(name);
    }
  }

  /** Removes a tag; MANIFEST_UNKNOWN when there was none. */
  async untag(name: string, tag: string, ctx: OpContext): Promise<void> {
    this.changed(name);
    const deleted = await deleteIfPresent(this.driver, paths.tagDir(name, tag), ctx).finally(() => this.changed(name));
    if (!deleted) {
      throw new RegistryError('MANIFEST_UNKNOWN', { name, tag }, { message: `manifest unknown: no tag ${JSON.stringify(tag)} in ${name}` });
    }
  }

  /** Every tag name of the repository in byte order, or undefined when it has no tags directory. */
  async all(name: string, ctx: OpContext): Promise<readonly string[] | undefined> {
    const cached = this.lists.get(name);
    if (cached !== undefined && cached.expires > Date.now()) {
      this.observer?.hit();
      return cached.tags;
    }
    if (this.listTtlMs > 0) this.observer?.miss();
    const generation = this.generation;
    const tags = await listNames(this.driver, paths.tagsDir(name), ctx);
    if (this.listTtlMs > 0 && generation === this.generation) {
      if (this.lists.size >= LISTS_KEPT) this.lists.delete(this.lists.keys().next().value as string);
      this.lists.set(name, { tags, expires: Date.now() + this.listTtlMs });
    }
    return tags;
  }

  /** Removes every tag that points at `digest`. */
  async untagDigest(name: string, digest: Digest, ctx: OpContext): Promise<string[]> {
    const removed: string[] = [];
    for (const tag of (await this.all(name, ctx)) ?? []) {
      const current = await readLink(this.driver, paths.tagCurrentLink(name, tag), ctx);
      if (current?.value === digest.value) {
        this.changed(name);
        await deleteIfPresent(this.driver, paths.tagDir(name, tag), ctx).finally(() => this.changed(name));
        removed.push(tag);
      }
    }
    return removed;
  }

  async list(name: string, page: Page, ctx: OpContext): Promise<TagPage> {
    const all = await this.all(name, ctx);
    if (all === undefined) {
      if (!(await repositoryExists(this.driver, name, ctx))) throw new RegistryError('NAME_UNKNOWN', { name });
      return { tags: [], more: false };
    }
    const last = page.last;
    const start = last === undefined || last === '' ? 0 : firstAfter(all, last);
    const n = page.n ?? all.length - start;
    return { tags: all.slice(start, start + n), more: all.length - start > n };
  }
}

/** The index of the first entry of a sorted list greater than `last`. */
function firstAfter(sorted: readonly string[], last: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) <= last) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A repository exists when its directory holds `_manifests` or `_layers`. */
export async function repositoryExists(driver: StorageDriver, name: string, ctx: OpContext): Promise<boolean> {
  const [manifests, layers] = await Promise.all([
    statIfPresent(driver, paths.manifestsDir(name), ctx),
    statIfPresent(driver, `${paths.repository(name)}/_layers`, ctx),
  ]);
  return manifests !== undefined || layers !== undefined;
}
