/**
 * Manifests: exact bytes stored as blobs, `_manifests/revisions` links, tags and the referrers
 * index. A push is validated by media type and refused while anything it references is missing.
 */
import type { StorageDriver } from '../../storage/driver.js';
import { paths } from '../paths.js';
import { RegistryError } from '../errors.js';
import { digestOf, type Digest } from '../digest.js';
import { validateTag, type Reference } from '../reference.js';
import { deleteIfPresent, linkHolds, writeLink } from '../links.js';
import type { OpContext, PutManifestRequest, PutManifestResult, StoredManifest } from '../registry.js';
import type { BlobStore, RepositoryBlobs } from '../blobs/blob-store.js';
import type { TagStore } from '../tags/tag-store.js';
import type { ReferrersIndex } from '../referrers/referrers-index.js';
import type { Descriptor } from './descriptor.js';
import { storedMediaType, validateManifest } from './validate.js';
import type { ManifestInfo } from './manifest-info.js';
import { DEFAULT_REFERENCE_POLICY, requiredReferences, type ReferencePolicy } from './references.js';

/** Media types of stored manifests by digest: content-addressed, so an entry never goes stale. */
const MEDIA_TYPES_KEPT = 10_000;

export class ManifestStore {
  private readonly mediaTypes = new Map<string, string>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly store: BlobStore,
    private readonly blobs: RepositoryBlobs,
    private readonly tags: TagStore,
    private readonly referrers: ReferrersIndex,
    private readonly policy: ReferencePolicy = DEFAULT_REFERENCE_POLICY,
  ) {}

  /**
   * Whether the repository holds the manifest. distribution 2.1.0 linked some manifests into
   * `_layers` by mistake, so that place counts too (as in distribution's own lookup).
   */
  async exists(name: string, digest: Digest, ctx: OpContext): Promise<boolean> {
    return (await linkHolds(this.driver, paths.revisionLink(name, digest), digest, ctx)) || (await this.blobs.isLinked(name, digest, ctx));
  }

  async get(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest> {
    const digest = reference.kind === 'tag' ? await this.tags.resolve(name, reference.tag, ctx) : reference.digest;
    const unknown = (): RegistryError => new RegistryError('MANIFEST_UNKNOWN', { name, reference: reference.kind === 'tag' ? reference.tag : digest.value });
    if (!(await this.exists(name, digest, ctx))) throw unknown();
    const bytes = await this.store.getContent(digest, ctx);
    if (bytes === undefined) throw unknown();
    return { digest, bytes, mediaType: this.mediaTypeOf(digest, bytes) };
  }

  private mediaTypeOf(digest: Digest, bytes: Buffer): string {
    let type = this.mediaTypes.get(digest.value);
    if (type === undefined) {
      type = storedMediaType(bytes);
      if (this.mediaTypes.size >= MEDIA_TYPES_KEPT) this.mediaTypes.delete(this.mediaTypes.keys().next().value as string);
      this.mediaTypes.set(digest.value, type);
    }
    return type;
  }

  async put(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    const { name, reference, bytes } = request;
    const digest = digestOf(bytes, reference.kind === 'digest' ? reference.digest.algorithm : 'sha256');
    if (reference.kind === 'digest' && digest.value !== reference.digest.value) {
      throw new RegistryError('DIGEST_INVALID', { digest: reference.digest.value }, {
        message: `the manifest's content has digest ${digest.value}, not ${reference.digest.value}`,
      });
    }
    const tags = [...new Set([...(reference.kind === 'tag' ? [reference.tag] : []), ...request.tags.map(validateTag)])];
    const info = validateManifest(bytes, request.contentType);
    await this.checkReferences(name, info, ctx);

    await this.store.putContent(digest, bytes, ctx);
    await writeLink(this.driver, paths.revisionLink(name, digest), digest, ctx);
    if (info.subject !== undefined) {
      await this.referrers.record(name, info.subject.digest, {
        mediaType: info.mediaType,
        digest: digest.value,
        size: bytes.length,
        ...(info.artifactType !== undefined && { artifactType: info.artifactType }),
        ...(info.annotations !== undefined && { annotations: info.annotations }),
      }, digest, ctx);
    }
    for (const tag of tags) await this.tags.tag(name, tag, digest, ctx);
    return { digest, tags, ...(info.subject !== undefined && { subject: info.subject.digest }) };
  }

  /** Every referenced blob must be linked in the repository, every child manifest held by it. */
  private async checkReferences(name: string, info: ManifestInfo, ctx: OpContext): Promise<void> {
    const required = requiredReferences(info, this.policy);
    const missingBlobs = await this.missing(required.blobs, async (d) => (await this.blobs.info(name, d.digest, ctx)) !== undefined);
    const missingManifests = await this.missing(required.manifests, (d) => this.exists(name, d.digest, ctx));
    const missing = [...missingBlobs, ...missingManifests];
    if (missing.length === 0) return;
    throw new RegistryError('MANIFEST_BLOB_UNKNOWN', missing.map((d) => ({ digest: d })), {
      message: `manifest references ${missing.length === 1 ? 'a blob or manifest' : `${missing.length} blobs or manifests`} unknown to the repository: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
    });
  }

  private async missing(descriptors: readonly Descriptor[], present: (d: Descriptor) => Promise<boolean>): Promise<string[]> {
    const unique = [...new Map(descriptors.map((d) => [d.digest.value, d])).values()];
    const found = await Promise.all(unique.map(present));
    return unique.filter((_, i) => !found[i]).map((d) => d.digest.value);
  }

  /**
   * By tag: removes the tag. By digest: removes the revision, every tag on it and its referrers
   * entry. Resolves with the tags removed.
   */
  async delete(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    if (reference.kind === 'tag') {
      await this.tags.untag(name, reference.tag, ctx);
      return [reference.tag];
    }
    const digest = reference.digest;
    if (!(await linkHolds(this.driver, paths.revisionLink(name, digest), digest, ctx))) {
      throw new RegistryError('MANIFEST_UNKNOWN', { name, reference: digest.value });
    }
    const bytes = await this.store.getContent(digest, ctx);
    const subject = bytes === undefined ? undefined : subjectOf(bytes);
    const untagged = await this.tags.untagDigest(name, digest, ctx);
    await deleteIfPresent(this.driver, paths.revisionDir(name, digest), ctx);
    if (subject !== undefined) await this.referrers.remove(name, subject, digest, ctx);
    return untagged;
  }
}

function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    return validateManifest(bytes, undefined).subject?.digest;
  } catch {
    return undefined;
  }
}
