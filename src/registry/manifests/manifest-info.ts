import type { Descriptor } from './descriptor.js';
import type { ManifestMediaType } from './media-types.js';

/** What a validator learns from a manifest: its type, what it references, and its referrer facts. */
export interface ManifestInfo {
  readonly mediaType: ManifestMediaType;
  /** Blobs the repository must hold for the manifest to be accepted (config, layers). */
  readonly blobs: readonly Descriptor[];
  /** Every layer, including those whose content lives at `urls` elsewhere. */
  readonly layers: readonly Descriptor[];
  /** Manifests the repository must hold (the children of an index or manifest list). */
  readonly manifests: readonly Descriptor[];
  /** OCI 1.1 `subject`: the manifest this one refers to. It need not exist yet. */
  readonly subject?: Descriptor;
  /** The artifact type a referrers listing shows: `artifactType`, else the config's media type. */
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type ManifestValidator = (manifest: { readonly [key: string]: unknown }) => ManifestInfo;
