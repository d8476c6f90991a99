/**
 * The reads of the pull-through cache for one routed repository: manifests by tag (freshness),
 * manifests and blobs by digest (TTL), stale serving when the upstream fails. ProxyRegistry
 * decides which repositories come here; this file decides what to fetch and when.
 *
 * - A tag is served from storage while it was checked upstream less than `freshness` ago;
 *   otherwise one HEAD asks the upstream what it points at now (and only a changed digest is
 *   fetched). A digest is never re-checked until its TTL runs out.
 * - Content whose TTL ran out is checked with one HEAD: still there upstream → kept for another
 *   TTL (content-addressed bytes cannot have changed); gone → removed here too.
 * - When the upstream cannot answer (down, 5xx, 429, refused) and a copy is stored, the copy is
 *   served with a `stale` notice (a `Warning` header); without a copy the client gets UNAVAILABLE,
 *   TOOMANYREQUESTS (with the upstream's Retry-After) or DENIED.
 * Concurrent identical refreshes share one upstream round trip (per process).
 */
import type { Logger } from '../log/logger.js';
import { tryParseDigest, type Digest } from '../registry/digest.js';
import { RegistryError } from '../registry/errors.js';
import type { BlobHandle, OpContext, Registry, StoredManifest } from '../registry/registry.js';
import type { CacheState, ContentKind } from './cache-state.js';
import { BlobFetcher, type FetchRequest } from './blob-fetcher.js';
import type { ProxyListener } from './events.js';
import type { Route } from './routing.js';
import { UpstreamError, type UpstreamClient } from './upstream-client.js';

/** What a shared operation produced, and whether it is a stale copy. */
interface Outcome<T> {
  readonly value: T;
  readonly stale?: string | undefined;
}

/** The error a client gets when the upstream failed and nothing is stored. */
export function upstreamFailure(err: UpstreamError): RegistryError {
  const detail = { upstream: err.upstream };
  if (err.failure === 'toomanyrequests') {
    return new RegistryError('TOOMANYREQUESTS', detail, { message: err.message, ...(err.retryAfter !== undefined && { headers: { 'Retry-After': err.retryAfter } }) });
  }
  if (err.failure === 'denied') return new RegistryError('DENIED', detail, { message: err.message });
  return new RegistryError('UNAVAILABLE', detail, { message: err.message });
}

function isUnknown(err: unknown): boolean {
  return err instanceof RegistryError && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'BLOB_UNKNOWN' || err.code === 'NAME_UNKNOWN');
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isUnknown(err)) return undefined;
    throw err;
  }
}

/** Shared operations run without the asking request's signal: others may be waiting on them. */
const BACKGROUND: OpContext = {};

export interface PullThroughDeps {
  /** The registry below the proxy (reads of what is stored). */
  readonly inner: Registry;
  /** Where fetched content is written: a storage registry that checks no references. */
  readonly store: Registry;
  readonly state: CacheState;
  readonly clientOf: (route: Route) => UpstreamClient;
  readonly listener?: ProxyListener | undefined;
  readonly log?: Logger | undefined;
}

export class PullThrough {
  private readonly shared = new Map<string, Promise<Outcome<unknown>>>();
  private readonly fetcher: BlobFetcher;

  constructor(private readonly deps: PullThroughDeps) {
    this.fetcher = new BlobFetcher(deps.store, (request, size) => this.blobStored(request.route, request.digest, size));
  }

  private async once<T>(key: string, route: Route, ctx: OpContext, work: () => Promise<Outcome<T>>): Promise<T> {
    let pending = this.shared.get(key) as Promise<Outcome<T>> | undefined;
    if (pending === undefined) {
      pending = work().finally(() => this.shared.delete(key));
      this.shared.set(key, pending);
    }
    const outcome = await pending;
    if (outcome.stale !== undefined) ctx.notice?.({ kind: 'stale', upstream: route.upstream.name, reason: outcome.stale });
    return outcome.value;
  }

  /** Serves `value` as stale after an upstream failure, or rethrows when there is nothing to serve. */
  private staleOr<T>(route: Route, err: unknown, value: T | undefined): Outcome<T> {
    if (!(err instanceof UpstreamError)) throw err;
    if (value === undefined) throw upstreamFailure(err);
    this.deps.log?.warn({ upstream: route.upstream.name, repository: route.localName, failure: err.failure, error: err.message }, 'serving a stale copy: the upstream failed');
    return { value, stale: err.message };
  }

  private localManifest(route: Route, digestOrTag: Digest | string, ctx: OpContext): Promise<StoredManifest | undefined> {
    const reference = typeof digestOrTag === 'string' ? { kind: 'tag' as const, tag: digestOrTag } : { kind: 'digest' as const, digest: digestOrTag };
    return orUndefined(this.deps.inner.getManifest(route.localName, reference, ctx));
  }

  async manifestByTag(route: Route, tag: string, ctx: OpContext): Promise<StoredManifest> {
    const { state } = this.deps;
    const local = await this.localManifest(route, tag, ctx);
    if (local !== undefined) {
      const [checked, entry] = await Promise.all([
        state.tag(route.localName, tag, ctx),
        state.content('manifest', route.localName, local.digest, ctx),
      ]);
      if (state.fresh(checked, route.upstream.freshnessMs) && !state.expired(entry)) return local;
    }
    return this.once(`tag ${route.localName}:${tag}`, route, ctx, () => this.refreshTag(route, tag, local));
  }

  private async refreshTag(route: Route, tag: string, local: StoredManifest | undefined): Promise<Outcome<StoredManifest>> {
    const { state, store } = this.deps;
    const upstream = route.upstream.name;
    try {
      const head = await this.deps.clientOf(route).headManifest(route.remoteName, tag);
      if (head === undefined) {
        // Not (or no longer) upstream: a tag pushed here, in a writable cache, is still served.
        if (local === undefined) throw new RegistryError('MANIFEST_UNKNOWN', { name: route.localName, tag }, { message: `manifest unknown: no tag ${JSON.stringify(tag)} in ${route.remoteName} upstream (${upstream})` });
        await state.recordTag(route.localName, tag, upstream, undefined, BACKGROUND);
        return { value: local };
      }
      const parsed = head.digest === undefined ? undefined : tryParseDigest(head.digest);
      const digest = typeof parsed === 'object' ? parsed : undefined;
      if (digest !== undefined) {
        const have = local?.digest.value === digest.value ? local : await this.localManifest(route, digest, BACKGROUND);
        if (have !== undefined) {
          if (have !== local) await store.putManifest({ name: route.localName, reference: { kind: 'tag', tag }, bytes: have.bytes, contentType: have.mediaType, tags: [] }, BACKGROUND);
          await state.recordTag(route.localName, tag, upstream, digest, BACKGROUND);
          await state.recordContent('manifest', route.localName, digest, upstream, route.upstream.ttlMs, BACKGROUND);
          return { value: have };
        }
      }
      const fetched = await this.fetchManifest(route, digest?.value ?? tag, tag);
      await state.recordTag(route.localName, tag, upstream, fetched.digest, BACKGROUND);
      return { value: fetched };
    } catch (err) {
      return this.staleOr(route, err, local);
    }
  }

  async manifestByDigest(route: Route, digest: Digest, ctx: OpContext): Promise<StoredManifest> {
    const local = await this.localManifest(route, digest, ctx);
    if (local !== undefined) {
      const entry = await this.deps.state.content('manifest', route.localName, digest, ctx);
      if (!this.deps.state.expired(entry)) return local;
      return this.once(`revalidate manifest ${route.localName}@${digest.value}`, route, ctx, () => this.revalidate('manifest', route, digest, local));
    }
    return this.once(`manifest ${route.localName}@${digest.value}`, route, ctx, async () => {
      try {
        return { value: await this.fetchManifest(route, digest.value, undefined) };
      } catch (err) {
        return this.staleOr<StoredManifest>(route, err, undefined);
      }
    });
  }

  /** Fetches a manifest, stores it (verified against the digest asked for or announced), tags it. */
  private async fetchManifest(route: Route, reference: string, tag: string | undefined): Promise<StoredManifest> {
    const { store, state, inner } = this.deps;
    const client = this.deps.clientOf(route);
    const got = await client.getManifest(route.remoteName, reference);
    if (got === undefined) throw new RegistryError('MANIFEST_UNKNOWN', { name: route.localName, reference }, { message: `manifest ${reference} is unknown to the upstream ${client.name}` });
    const announced = tryParseDigest(reference.includes(':') ? reference : (got.digest ?? ''));
    const expected = typeof announced === 'object' ? announced : undefined;
    const result = await store.putManifest({
      name: route.localName,
      reference: expected !== undefined ? { kind: 'digest', digest: expected } : { kind: 'tag', tag: tag ?? reference },
      bytes: got.bytes,
      contentType: got.mediaType,
      tags: tag !== undefined && expected !== undefined ? [tag] : [],
    }, BACKGROUND);
    await state.recordContent('manifest', route.localName, result.digest, route.upstream.name, route.upstream.ttlMs, BACKGROUND);
    const stored = await inner.getManifest(route.localName, { kind: 'digest', digest: result.digest }, BACKGROUND);
    this.emit(route, 'manifest', result.digest, stored.bytes.length, stored.mediaType, tag);
    return stored;
  }

  /** Content past its TTL: kept when the upstream still has it, removed when it does not. */
  private async revalidate<T>(kind: ContentKind, route: Route, digest: Digest, value: T): Promise<Outcome<T>> {
    const { state, store } = this.deps;
    const client = this.deps.clientOf(route);
    try {
      const present = kind === 'blob'
        ? (await client.headBlob(route.remoteName, digest.value)) !== undefined
        : (await client.headManifest(route.remoteName, digest.value)) !== undefined;
      if (present) {
        await state.recordContent(kind, route.localName, digest, route.upstream.name, route.upstream.ttlMs, BACKGROUND);
        return { value };
      }
      if (kind === 'blob') await orUndefined(store.deleteBlob(route.localName, digest, BACKGROUND));
      else await orUndefined(store.deleteManifest(route.localName, { kind: 'digest', digest }, BACKGROUND));
      await state.forgetContent(kind, route.localName, digest, BACKGROUND);
      throw new RegistryError(kind === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', { digest: digest.value }, { message: `${kind} ${digest.value} expired here and is gone from the upstream ${client.name}` });
    } catch (err) {
      return this.staleOr(route, err, value);
    }
  }

  async blob(route: Route, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    const { inner, state, store } = this.deps;
    const fetcher = this.fetcher;
    const local = await orUndefined(inner.blob(route.localName, digest, ctx));
    if (local !== undefined) {
      const entry = await state.content('blob', route.localName, digest, ctx);
      if (!state.expired(entry)) return local;
      return this.once(`revalidate blob ${route.localName}@${digest.value}`, route, ctx, () => this.revalidate('blob', route, digest, local));
    }
    const request: FetchRequest = { route, client: this.deps.clientOf(route), localName: route.localName, remoteName: route.remoteName, digest };
    let size = fetcher.inFlightSize(request);
    if (size === undefined) {
      try {
        size = await request.client.headBlob(route.remoteName, digest.value);
      } catch (err) {
        if (err instanceof UpstreamError) throw upstreamFailure(err);
        throw err;
      }
      if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value }, { message: `blob ${digest.value} is unknown to the upstream ${request.client.name}` });
      // Stored already for another repository: the upstream confirmed this one may have it.
      if (!fetcher.inFlight(request) && (await store.mountBlob(route.localName, digest, undefined, BACKGROUND)) !== undefined) {
        await state.recordContent('blob', route.localName, digest, route.upstream.name, route.upstream.ttlMs, BACKGROUND);
        return inner.blob(route.localName, digest, ctx);
      }
    }
    return {
      digest,
      size,
      open: async (range, openCtx) => {
        const stored = await orUndefined(inner.blob(route.localName, digest, openCtx));
        if (stored !== undefined) return stored.open(range, openCtx);
        const stream = await fetcher.join(request, range === undefined, openCtx).catch((err: unknown) => {
          throw err instanceof UpstreamError ? upstreamFailure(err) : err;
        });
        if (stream !== undefined) return stream;
        return (await inner.blob(route.localName, digest, openCtx)).open(range, openCtx);
      },
      redirectURL: async () => undefined,
    };
  }

  /** Called by the fetcher after a blob was committed. */
  private async blobStored(route: Route, digest: Digest, size: number): Promise<void> {
    await this.deps.state.recordContent('blob', route.localName, digest, route.upstream.name, route.upstream.ttlMs, BACKGROUND);
    this.emit(route, 'blob', digest, size, undefined, undefined);
  }

  private emit(route: Route, kind: 'blob' | 'manifest', digest: Digest, size: number, mediaType: string | undefined, tag: string | undefined): void {
    this.deps.listener?.pulledThrough({
      kind,
      repository: route.localName,
      digest: digest.value,
      size,
      mediaType,
      tag,
      upstream: { name: route.upstream.name, url: route.upstream.url.origin, repository: route.remoteName },
    });
  }
}
