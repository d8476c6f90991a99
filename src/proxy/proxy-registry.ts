/**
 * The pull-through cache as a Registry decorator. Each request's repository (and containerd's
 * `?ns=`, from OpContext.namespace) is routed (routing.ts): a repository no upstream serves goes
 * to the wrapped registry untouched, so private repositories take pushes beside the cache. A
 * cached repository reads through PullThrough; writes to it are refused with UNSUPPORTED, as
 * distribution's proxy does, unless its upstream is `writable` (then they go to local storage
 * under the routed name).
 *
 * Tags lists and referrers of cached repositories are asked of the upstream (local storage when
 * the upstream fails, with a stale notice); the catalog lists what is stored.
 */
import type { Digest } from '../registry/digest.js';
import { RegistryError } from '../registry/errors.js';
import type { Reference } from '../registry/reference.js';
import {
  ForwardingRegistry, type BlobHandle, type BlobInfo, type MountSource, type OpContext, type Page, type PutManifestRequest, type PutManifestResult,
  type ReferrerDescriptor, type ReferrersPage, type ReferrersQuery, type Registry, type StoredManifest, type TagPage, type UploadBody, type UploadStatus,
} from '../registry/registry.js';
import type { Logger } from '../log/logger.js';
import { CacheState } from './cache-state.js';
import type { ProxyListener } from './events.js';
import { PullThrough } from './pull-through.js';
import type { Route, UpstreamRouter } from './routing.js';
import { UpstreamError, type UpstreamClient } from './upstream-client.js';
import type { StorageDriver } from '../storage/driver.js';

export interface ProxyRegistryOptions {
  readonly router: UpstreamRouter;
  readonly clients: ReadonlyMap<string, UpstreamClient>;
  /** The storage registry fetched content is written through (one that checks no references). */
  readonly store: Registry;
  readonly driver: StorageDriver;
  readonly listener?: ProxyListener | undefined;
  readonly log?: Logger | undefined;
}

export class ProxyRegistry extends ForwardingRegistry {
  private readonly pull: PullThrough;

  constructor(inner: Registry, private readonly options: ProxyRegistryOptions) {
    super(inner);
    this.pull = new PullThrough({
      inner,
      store: options.store,
      state: new CacheState(options.driver),
      clientOf: (route) => this.client(route),
      listener: options.listener,
      log: options.log,
    });
  }

  private client(route: Route): UpstreamClient {
    const client = this.options.clients.get(route.upstream.name);
    if (client === undefined) throw new Error(`no client for upstream ${route.upstream.name}`);
    return client;
  }

  /** The route of a repository, telling the transport when `ns` chose it. */
  private route(name: string, ctx: OpContext): Route | undefined {
    const route = this.options.router.route(name, ctx.namespace);
    if (route?.namespace !== undefined) ctx.notice?.({ kind: 'namespace', namespace: route.namespace });
    return route;
  }

  /** The local name to write to; UNSUPPORTED for a cached repository that is not writable. */
  private writeName(name: string, ctx: OpContext): string {
    const route = this.route(name, ctx);
    if (route === undefined) return name;
    if (!route.upstream.writable) {
      throw new RegistryError('UNSUPPORTED', { name, upstream: route.upstream.name }, {
        message: `${name} is a pull-through cache of ${route.upstream.url.origin} (upstream ${route.upstream.name}); pushes and deletes are refused there`,
      });
    }
    return route.localName;
  }

  override blob(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    const route = this.route(name, ctx);
    return route === undefined ? this.inner.blob(name, digest, ctx) : this.pull.blob(route, digest, ctx);
  }

  override getManifest(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest> {
    const route = this.route(name, ctx);
    if (route === undefined) return this.inner.getManifest(name, reference, ctx);
    return reference.kind === 'tag' ? this.pull.manifestByTag(route, reference.tag, ctx) : this.pull.manifestByDigest(route, reference.digest, ctx);
  }

  override async listTags(name: string, page: Page, ctx: OpContext): Promise<TagPage> {
    const route = this.route(name, ctx);
    if (route === undefined) return this.inner.listTags(name, page, ctx);
    const local = (): Promise<TagPage> => this.inner.listTags(route.localName, page, ctx);
    try {
      if (route.upstream.writable) {
        // Tags pushed here and tags upstream, as one list, paged here.
        const [upstream, stored] = await Promise.all([
          this.client(route).listTags(route.remoteName, {}),
          this.inner.listTags(route.localName, {}, ctx).catch(() => ({ tags: [], more: false })),
        ]);
        const all = [...new Set([...(upstream?.tags ?? []), ...stored.tags])].sort();
        if (upstream === undefined && stored.tags.length === 0) return await local();
        const start = page.last === undefined || page.last === '' ? 0 : all.findIndex((t) => t > (page.last as string));
        const from = start === -1 ? all.length : start;
        const n = page.n ?? all.length - from;
        return { tags: all.slice(from, from + n), more: all.length - from > n };
      }
      const upstream = await this.client(route).listTags(route.remoteName, page);
      return upstream ?? (await local());
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      ctx.notice?.({ kind: 'stale', upstream: route.upstream.name, reason: err.message });
      return local();
    }
  }

  override async listReferrers(name: string, subject: Digest, query: ReferrersQuery, ctx: OpContext): Promise<ReferrersPage> {
    const route = this.route(name, ctx);
    if (route === undefined) return this.inner.listReferrers(name, subject, query, ctx);
    const local = (): Promise<ReferrersPage> => this.inner.listReferrers(route.localName, subject, query, ctx);
    let index: unknown;
    try {
      index = await this.client(route).referrers(route.remoteName, subject.value, query.artifactType);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      ctx.notice?.({ kind: 'stale', upstream: route.upstream.name, reason: err.message });
      return local();
    }
    const manifests = (index as { manifests?: unknown } | undefined)?.manifests;
    if (!Array.isArray(manifests)) return local();
    let descriptors = manifests.filter(isDescriptor);
    if (query.artifactType !== undefined) descriptors = descriptors.filter((d) => d.artifactType === query.artifactType);
    const after = query.last === undefined ? 0 : descriptors.findIndex((d) => d.digest === query.last) + 1;
    const n = query.n ?? descriptors.length;
    return {
      descriptors: descriptors.slice(after, after + n),
      more: descriptors.length - after > n,
      filtersApplied: query.artifactType !== undefined ? ['artifactType'] : [],
    };
  }

  // Writes: private repositories as usual, cached ones only when writable.
  override async deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    return this.inner.deleteBlob(this.writeName(name, ctx), digest, ctx);
  }
  override async mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined> {
    const target = this.writeName(name, ctx);
    return this.inner.mountBlob(target, digest, typeof from === 'string' ? (this.options.router.route(from, ctx.namespace)?.localName ?? from) : from, ctx);
  }
  override async startUpload(name: string, ctx: OpContext): Promise<UploadStatus> {
    return { ...(await this.inner.startUpload(this.writeName(name, ctx), ctx)), name };
  }
  override async uploadStatus(name: string, id: string, ctx: OpContext): Promise<UploadStatus> {
    return { ...(await this.inner.uploadStatus(this.writeName(name, ctx), id, ctx)), name };
  }
  override async appendUpload(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus> {
    return { ...(await this.inner.appendUpload(this.writeName(name, ctx), id, body, ctx)), name };
  }
  override async completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    return this.inner.completeUpload(this.writeName(name, ctx), id, digest, body, ctx);
  }
  override async cancelUpload(name: string, id: string, ctx: OpContext): Promise<void> {
    return this.inner.cancelUpload(this.writeName(name, ctx), id, ctx);
  }
  override async putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    return this.inner.putManifest({ ...request, name: this.writeName(request.name, ctx) }, ctx);
  }
  override async deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    return this.inner.deleteManifest(this.writeName(name, ctx), reference, ctx);
  }
}

function isDescriptor(value: unknown): value is ReferrerDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d['mediaType'] === 'string' && typeof d['digest'] === 'string' && typeof d['size'] === 'number';
}
