/**
 * The registry as the HTTP layer sees it: every operation of the distribution API on repositories,
 * blobs, uploads, manifests, tags, referrers and the catalog. It knows neither HTTP nor storage SDKs.
 *
 * Cross-cutting behaviour (read-only mode, disabled deletes, and later notifications, proxying,
 * caches) wraps this interface: extend ForwardingRegistry and override what changes.
 * Names and digests reaching these methods are already validated.
 */
import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Reference } from './reference.js';

export interface OpContext {
  /** Aborted when the request that asked is gone; reaches every storage call. */
  readonly signal?: AbortSignal | undefined;
  /** containerd's `?ns=<host>`: the registry the client means (a pull-through cache routes by it). */
  readonly namespace?: string | undefined;
  /** Where decorators tell the transport a fact about the answer (see OpNotice); ignored when absent. */
  readonly notice?: ((notice: OpNotice) => void) | undefined;
}

/**
 * A fact about an answer that the transport may pass on (the HTTP layer turns them into headers):
 * `stale`: served from a cache because its upstream could not be asked; `namespace`: the `ns`
 * the answer was routed by.
 */
export type OpNotice =
  | { readonly kind: 'stale'; readonly upstream: string; readonly reason: string }
  | { readonly kind: 'namespace'; readonly namespace: string };

export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

/** A blob the repository may serve: its facts, and a way to read it (whole or a byte range). */
export interface BlobHandle extends BlobInfo {
  open(range: { readonly offset: number; readonly length: number } | undefined, ctx: OpContext): Promise<Readable>;
  /** A URL the client may fetch the blob from directly, where the storage offers one. */
  redirectURL(method: 'GET' | 'HEAD', ctx: OpContext): Promise<string | undefined>;
}

/** An inclusive byte range from a `Content-Range` header. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface UploadBody {
  readonly stream: Readable;
  /** From `Content-Range`: where the client says these bytes go. */
  readonly range?: ByteRange | undefined;
  /** From `Content-Length`, when the client sent one. */
  readonly contentLength?: number | undefined;
  /**
   * The stream's chunks belong to nobody else (a request body), so storage may take their memory
   * (see WriterOptions.handOverChunks). Not for a stream whose chunks also go elsewhere.
   */
  readonly chunksHandedOver?: boolean;
}

export interface UploadStatus {
  readonly name: string;
  readonly id: string;
  /** Bytes received so far. */
  readonly size: number;
}

export interface StoredManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface PutManifestRequest {
  readonly name: string;
  readonly reference: Reference;
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
  /** More tags to point at the manifest (`?tag=` on a push by digest). */
  readonly tags: readonly string[];
}

export interface PutManifestResult {
  readonly digest: Digest;
  readonly tags: readonly string[];
  readonly subject?: Digest;
}

/**
 * Where a mount takes its blob from: that repository; for a mount without `from`, any repository
 * holding the blob that the filter accepts (the caller's readable ones), or any at all when undefined.
 */
export type MountSource = string | ((repository: string) => boolean) | undefined;

export interface Page {
  /** Entries at most; all when undefined. */
  readonly n?: number | undefined;
  /** Start strictly after this entry. */
  readonly last?: string | undefined;
  /** Only entries this accepts count (the catalog of a caller who may not pull everything). */
  readonly accept?: ((entry: string) => boolean) | undefined;
}

export interface TagPage {
  readonly tags: readonly string[];
  readonly more: boolean;
}

export interface CatalogPage {
  readonly repositories: readonly string[];
  readonly more: boolean;
}

export interface ReferrerDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ReferrersQuery {
  readonly artifactType?: string | undefined;
  readonly n?: number | undefined;
  /** Digest of the last descriptor of the previous page. */
  readonly last?: string | undefined;
}

export interface ReferrersPage {
  readonly descriptors: readonly ReferrerDescriptor[];
  readonly more: boolean;
  readonly filtersApplied: readonly string[];
}

export interface Registry {
  blob(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle>;
  deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void>;
  /** Links a blob into `name` from `from` (or, without `from`, from wherever it exists); undefined when it cannot. */
  mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined>;

  startUpload(name: string, ctx: OpContext): Promise<UploadStatus>;
  uploadStatus(name: string, id: string, ctx: OpContext): Promise<UploadStatus>;
  appendUpload(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus>;
  completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo>;
  cancelUpload(name: string, id: string, ctx: OpContext): Promise<void>;

  getManifest(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest>;
  putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult>;
  /** Resolves with the tags the delete removed: the one named, or every tag on the digest. */
  deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]>;

  listTags(name: string, page: Page, ctx: OpContext): Promise<TagPage>;
  listReferrers(name: string, subject: Digest, query: ReferrersQuery, ctx: OpContext): Promise<ReferrersPage>;
  catalog(page: Page, ctx: OpContext): Promise<CatalogPage>;
}

/** A decorator base: forwards every call to the registry it wraps. */
export class ForwardingRegistry implements Registry {
  constructor(protected readonly inner: Registry) {}
  blob(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    return this.inner.blob(name, digest, ctx);
  }
  deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    return this.inner.deleteBlob(name, digest, ctx);
  }
  mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined> {
    return this.inner.mountBlob(name, digest, from, ctx);
  }
  startUpload(name: string, ctx: OpContext): Promise<UploadStatus> {
    return this.inner.startUpload(name, ctx);
  }
  uploadStatus(name: string, id: string, ctx: OpContext): Promise<UploadStatus> {
    return this.inner.uploadStatus(name, id, ctx);
  }
  appendUpload(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus> {
    return this.inner.appendUpload(name, id, body, ctx);
  }
  completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    return this.inner.completeUpload(name, id, digest, body, ctx);
  }
  cancelUpload(name: string, id: string, ctx: OpContext): Promise<void> {
    return this.inner.cancelUpload(name, id, ctx);
  }
  getManifest(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest> {
    return this.inner.getManifest(name, reference, ctx);
  }
  putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    return this.inner.putManifest(request, ctx);
  }
  deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    return this.inner.deleteManifest(name, reference, ctx);
  }
  listTags(name: string, page: Page, ctx: OpContext): Promise<TagPage> {
    return this.inner.listTags(name, page, ctx);
  }
  listReferrers(name: string, subject: Digest, query: ReferrersQuery, ctx: OpContext): Promise<ReferrersPage> {
    return this.inner.listReferrers(name, subject, query, ctx);
  }
  catalog(page: Page, ctx: OpContext): Promise<CatalogPage> {
    return this.inner.catalog(page, ctx);
  }
}
