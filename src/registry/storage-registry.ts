/** The registry over a storage driver: composes the stores that implement each part of the API. */
import type { StorageDriver } from '../storage/driver.js';
import type { Digest } from './digest.js';
import type { Reference } from './reference.js';
import type {
  BlobHandle, BlobInfo, CatalogPage, MountSource, OpContext, Page, PutManifestRequest, PutManifestResult, ReferrersPage,
  ReferrersQuery, Registry, StoredManifest, TagPage, UploadBody, UploadStatus,
} from './registry.js';
import { BlobStore, RepositoryBlobs } from './blobs/blob-store.js';
import { UploadStore } from './uploads/upload-store.js';
import { HasherCache } from './uploads/hasher-cache.js';
import { TagStore } from './tags/tag-store.js';
import { ReferrersIndex } from './referrers/referrers-index.js';
import { ManifestStore } from './manifests/manifest-store.js';
import { listRepositories } from './catalog.js';
import { CatalogCache, CatalogWatchDriver } from './catalog-cache.js';
import type { ReferencePolicy } from './manifests/references.js';
import type { CacheObserver } from '../storage/cache/observer.js';

export interface StorageRegistryOptions {
  /** Descriptors per referrers response at most. */
  readonly referrersPageSize?: number;
  readonly hashers?: HasherCache;
  /** What pushed manifests must find in the repository (distribution's `validation` section). */
  readonly referencePolicy?: ReferencePolicy;
  /** How long a repository's tag list may be served from memory (0: always listed). */
  readonly tagListTtlMs?: number;
  /** How long the `_catalog` may be served from memory (0: always walked). */
  readonly catalogTtlMs?: number;
  /** Told about hits and misses of the tag-list cache (metrics). */
  readonly tagCacheObserver?: CacheObserver | undefined;
}

export class StorageRegistry implements Registry {
  private readonly store: BlobStore;
  private readonly blobs: RepositoryBlobs;
  private readonly uploads: UploadStore;
  private readonly tags: TagStore;
  private readonly referrers: ReferrersIndex;
  private readonly manifests: ManifestStore;
  private readonly driver: StorageDriver;
  private readonly catalogCache: CatalogCache | undefined;

  constructor(storage: StorageDriver, options: StorageRegistryOptions = {}) {
    const catalogTtlMs = options.catalogTtlMs ?? 0;
    this.catalogCache = catalogTtlMs > 0 ? new CatalogCache(catalogTtlMs) : undefined;
    // Every store writes through the watch driver, so the cached catalog sees each change.
    const driver = this.catalogCache === undefined ? storage : new CatalogWatchDriver(storage, this.catalogCache);
    this.driver = driver;
    const store = new BlobStore(driver);
    this.store = store;
    this.blobs = new RepositoryBlobs(driver, store);
    this.uploads = new UploadStore(driver, store, this.blobs, options.hashers);
    this.tags = new TagStore(driver, options.tagListTtlMs ?? 0, options.tagCacheObserver);
    this.referrers = new ReferrersIndex(driver, options.referrersPageSize ?? 500);
    this.manifests = new ManifestStore(driver, store, this.blobs, this.tags, this.referrers, options.referencePolicy);
  }

  /** Forgets what this registry keeps in memory about the storage (tag lists, the catalog), after a garbage collection. */
  clearCaches(): void {
    this.tags.forgetAll();
    this.catalogCache?.forget();
  }

  blob(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    return this.blobs.handle(name, digest, ctx);
  }
  deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    return this.blobs.unlink(name, digest, ctx);
  }
  async mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined> {
    if (typeof from !== 'function') return this.blobs.mount(name, digest, from, ctx);
    const holder = await this.holderAccepted(digest, from, ctx);
    return holder === undefined ? undefined : this.blobs.mount(name, digest, holder, ctx);
  }

  /**
   * The first repository, in catalog order, that `accept` takes and that links the blob. A blob
   * stored nowhere is known from one lookup; otherwise the walk reads one link per repository taken.
   */
  private async holderAccepted(digest: Digest, accept: (repository: string) => boolean, ctx: OpContext): Promise<string | undefined> {
    if ((await this.store.size(digest, ctx)) === undefined) return undefined;
    for (let last: string | undefined; ;) {
      const page = await this.catalog({ n: 1000, last, accept }, ctx);
      for (const repository of page.repositories) if (await this.blobs.isLinked(repository, digest, ctx)) return repository;
      last = page.repositories.at(-1);
      if (!page.more || last === undefined) return undefined;
    }
  }
  startUpload(name: string, ctx: OpContext): Promise<UploadStatus> {
    return this.uploads.start(name, ctx);
  }
  uploadStatus(name: string, id: string, ctx: OpContext): Promise<UploadStatus> {
    return this.uploads.status(name, id, ctx);
  }
  appendUpload(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus> {
    return this.uploads.append(name, id, body, ctx);
  }
  completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    return this.uploads.complete(name, id, digest, body, ctx);
  }
  cancelUpload(name: string, id: string, ctx: OpContext): Promise<void> {
    return this.uploads.cancel(name, id, ctx);
  }
  getManifest(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest> {
    return this.manifests.get(name, reference, ctx);
  }
  putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    return this.manifests.put(request, ctx);
  }
  deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    return this.manifests.delete(name, reference, ctx);
  }
  listTags(name: string, page: Page, ctx: OpContext): Promise<TagPage> {
    return this.tags.list(name, page, ctx);
  }
  listReferrers(name: string, subject: Digest, query: ReferrersQuery, ctx: OpContext): Promise<ReferrersPage> {
    return this.referrers.list(name, subject, query, ctx);
  }
  catalog(page: Page, ctx: OpContext): Promise<CatalogPage> {
    return listRepositories(this.driver, page, ctx, this.catalogCache);
  }
}
