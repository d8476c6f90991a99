/**
 * The pull-through cache's state, in storage beside each cached repository (`_proxy/`, see
 * paths.ts), so that it survives restarts and is shared by every instance on the same storage:
 * when each cached blob and manifest is due for a check upstream (its TTL), and when each tag was
 * last checked upstream (its freshness). Every entry is its own small file written atomically, so
 * concurrent instances never lose each other's updates; the worst a race does is one extra check.
 */
import type { StorageDriver } from '../storage/driver.js';
import { isPathNotFound } from '../storage/driver.js';
import { paths } from '../registry/paths.js';
import type { Digest } from '../registry/digest.js';
import { tryParseDigest } from '../registry/digest.js';
import { deleteIfPresent } from '../registry/links.js';
import type { OpContext } from '../registry/registry.js';

export interface ContentEntry {
  readonly upstream: string;
  readonly cachedAt: number;
  /** Epoch ms after which the content is checked upstream again; undefined: never. */
  readonly expiresAt: number | undefined;
}

export interface TagEntry {
  readonly upstream: string;
  readonly checkedAt: number;
  /** What the upstream said the tag pointed at; undefined when it did not have the tag. */
  readonly digest: Digest | undefined;
}

export type ContentKind = 'blob' | 'manifest';

function entryPath(kind: ContentKind, name: string, digest: Digest): string {
  return kind === 'blob' ? paths.proxyBlobEntry(name, digest) : paths.proxyManifestEntry(name, digest);
}

async function readJson(driver: StorageDriver, path: string, ctx: OpContext): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse((await driver.getContent(path, ctx)).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch (err) {
    if (isPathNotFound(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

const time = (value: unknown): number | undefined => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : undefined);

export class CacheState {
  constructor(
    private readonly driver: StorageDriver,
    private readonly now: () => number = Date.now,
  ) {}

  async content(kind: ContentKind, name: string, digest: Digest, ctx: OpContext): Promise<ContentEntry | undefined> {
    const raw = await readJson(this.driver, entryPath(kind, name, digest), ctx);
    const cachedAt = time(raw?.['cachedAt']);
    if (raw === undefined || cachedAt === undefined) return undefined;
    return { upstream: String(raw['upstream'] ?? ''), cachedAt, expiresAt: time(raw['expiresAt']) };
  }

  /** Whether content cached under `entry` is due for a check upstream. */
  expired(entry: ContentEntry | undefined): boolean {
    return entry?.expiresAt !== undefined && entry.expiresAt <= this.now();
  }

  async recordContent(kind: ContentKind, name: string, digest: Digest, upstream: string, ttlMs: number, ctx: OpContext): Promise<void> {
    const now = this.now();
    const body = { upstream, cachedAt: new Date(now).toISOString(), expiresAt: ttlMs > 0 ? new Date(now + ttlMs).toISOString() : undefined };
    await this.driver.putContent(entryPath(kind, name, digest), Buffer.from(JSON.stringify(body)), ctx);
  }

  async forgetContent(kind: ContentKind, name: string, digest: Digest, ctx: OpContext): Promise<void> {
    await deleteIfPresent(this.driver, entryPath(kind, name, digest), ctx);
  }

  async tag(name: string, tag: string, ctx: OpContext): Promise<TagEntry | undefined> {
    const raw = await readJson(this.driver, paths.proxyTagEntry(name, tag), ctx);
    const checkedAt = time(raw?.['checkedAt']);
    if (raw === undefined || checkedAt === undefined) return undefined;
    const digest = typeof raw['digest'] === 'string' ? tryParseDigest(raw['digest']) : undefined;
    return { upstream: String(raw['upstream'] ?? ''), checkedAt, digest: typeof digest === 'object' ? digest : undefined };
  }

  /** Whether a tag checked under `entry` may be served without asking the upstream. */
  fresh(entry: TagEntry | undefined, freshnessMs: number): boolean {
    return entry !== undefined && freshnessMs > 0 && this.now() - entry.checkedAt < freshnessMs;
  }

  async recordTag(name: string, tag: string, upstream: string, digest: Digest | undefined, ctx: OpContext): Promise<void> {
    const body = { upstream, checkedAt: new Date(this.now()).toISOString(), digest: digest?.value };
    await this.driver.putContent(paths.proxyTagEntry(name, tag), Buffer.from(JSON.stringify(body)), ctx);
  }
}
