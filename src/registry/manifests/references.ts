/**
 * What a pushed manifest must find in the repository, under distribution's `validation` settings:
 * - `validation.disabled`: nothing is checked;
 * - `validation.manifests.urls.{allow,deny}`: a layer's `urls` must be http(s), without a fragment,
 *   match an allow pattern (when any is set) and no deny pattern;
 * - `validation.manifests.indexes.platforms`: which children of an index must exist — `all`
 *   (the default), `none`, or `list` (those whose platform is in `platformlist`).
 */
import type { Descriptor } from './descriptor.js';
import { invalid } from './descriptor.js';
import type { ManifestInfo } from './manifest-info.js';

export interface ReferencePolicy {
  readonly verify: boolean;
  /** A URL must match one of these, when there are any. */
  readonly urlAllow: readonly RegExp[];
  /** A URL must match none of these. */
  readonly urlDeny: readonly RegExp[];
  readonly indexPlatforms: 'all' | 'none' | 'list';
  readonly platformList: readonly { readonly architecture: string; readonly os: string }[];
}

export const DEFAULT_REFERENCE_POLICY: ReferencePolicy = { verify: true, urlAllow: [], urlDeny: [], indexPlatforms: 'all', platformList: [] };

function checkUrls(layer: Descriptor, index: number, policy: ReferencePolicy): void {
  for (const raw of layer.urls ?? []) {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    const ok = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === ''
      && (policy.urlAllow.length === 0 || policy.urlAllow.some((r) => r.test(raw))) && !policy.urlDeny.some((r) => r.test(raw));
    if (!ok) throw invalid(`layers[${index}].urls`, `${JSON.stringify(raw)} is not an allowed http(s) URL (validation.manifests.urls)`);
  }
}

/** The blobs and child manifests the repository must hold; MANIFEST_INVALID for refused layer URLs. */
export function requiredReferences(info: ManifestInfo, policy: ReferencePolicy): { blobs: readonly Descriptor[]; manifests: readonly Descriptor[] } {
  if (!policy.verify) return { blobs: [], manifests: [] };
  info.layers.forEach((layer, i) => checkUrls(layer, i, policy));
  let manifests = info.manifests;
  if (policy.indexPlatforms === 'none') manifests = [];
  else if (policy.indexPlatforms === 'list') {
    manifests = manifests.filter((m) =>
      m.platform === undefined || policy.platformList.some((p) => p.architecture === m.platform?.architecture && p.os === m.platform?.os));
  }
  return { blobs: info.blobs, manifests };
}
