/**
 * THE path mapper: the only place that knows where things live in storage. Paths are driver paths
 * (absolute, `/`-separated, relative to the driver's root directory).
 *
 * The layout is distribution's, byte for byte, so that distribution's registry serves a root that
 * Wharf wrote and the other way round:
 *
 *   /docker/registry/v2/
 *     blobs/<alg>/<first 2 hex>/<hex>/data                              content, global
 *     repositories/<name>/
 *       _layers/<alg>/<hex>/link                                        "this repo may serve blob <digest>"
 *       _manifests/revisions/<alg>/<hex>/link                           a manifest of this repo
 *       _manifests/tags/<tag>/current/link                              what the tag points at now
 *       _manifests/tags/<tag>/index/<alg>/<hex>/link                    every digest the tag has pointed at
 *       _uploads/<id>/data                                              upload in progress
 *       _uploads/<id>/startedat                                         RFC 3339 start time
 *
 * (On S3 only, an upload past 5 GiB also has keys `_uploads/<id>/data~<segment id>-<n>` beside its
 * data, no driver path: the S3 driver's segments, see src/storage/s3/s3-segments.ts.)
 *
 * A link file holds the digest string (`sha256:<hex>`) and nothing else. Manifests are blobs too.
 *
 * What Wharf adds lives where distribution never reads (it skips every `_`-prefixed directory of a
 * repository other than the three above) and can be rebuilt from the manifests:
 *
 *       _referrers/<subject alg>/<subject hex>/<alg>-<hex>.json         descriptor of a manifest whose
 *                                                                       `subject` is that digest
 *
 * The pull-through cache (src/proxy/) keeps its state per cached repository, as small JSON files
 * (distribution's proxy keeps one `scheduler-state.json` at the root instead; Wharf neither reads
 * nor writes that file, and one file per entry lets several instances update it without losing
 * each other's writes). Deleting `_proxy/` only makes the cache ask its upstream again:
 *
 *       _proxy/blobs/<alg>/<hex>        {"upstream","cachedAt","expiresAt"}  when a pulled-through
 *       _proxy/manifests/<alg>/<hex>    same                                 blob/manifest is due
 *                                                                            for a check upstream
 *       _proxy/tags/<tag>               {"upstream","checkedAt","digest"}    when the tag was last
 *                                                                            checked upstream
 */
import type { Digest } from './digest.js';

export const ROOT = '/docker/registry/v2';
export const BLOBS_ROOT = `${ROOT}/blobs`;
export const REPOSITORIES_ROOT = `${ROOT}/repositories`;

/** Directories directly below a repository that mark it as one (distribution's catalog uses `_layers`). */
export const REPOSITORY_MARKERS: readonly string[] = ['_manifests', '_layers'];

export const paths = {
  blobData: (d: Digest): string => `${BLOBS_ROOT}/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`,
  blobDir: (d: Digest): string => `${BLOBS_ROOT}/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`,
  /** `blobs/`, `blobs/<alg>` or `blobs/<alg>/<first 2 hex>`: for walking every blob (garbage collection). */
  blobsDir: (algorithm?: string, prefix?: string): string =>
    [BLOBS_ROOT, ...(algorithm === undefined ? [] : [algorithm]), ...(prefix === undefined ? [] : [prefix])].join('/'),

  repository: (name: string): string => `${REPOSITORIES_ROOT}/${name}`,
  layerLink: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_layers/${d.algorithm}/${d.hex}/link`,
  layerLinkDir: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_layers/${d.algorithm}/${d.hex}`,
  /** `_layers` or `_layers/<alg>`: for walking a repository's blob links. */
  layersDir: (name: string, algorithm?: string): string => `${REPOSITORIES_ROOT}/${name}/_layers${algorithm === undefined ? '' : `/${algorithm}`}`,

  manifestsDir: (name: string): string => `${REPOSITORIES_ROOT}/${name}/_manifests`,
  revisionLink: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_manifests/revisions/${d.algorithm}/${d.hex}/link`,
  revisionDir: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_manifests/revisions/${d.algorithm}/${d.hex}`,
  /** `_manifests/revisions` or `_manifests/revisions/<alg>`: for walking a repository's manifests. */
  revisionsDir: (name: string, algorithm?: string): string =>
    `${REPOSITORIES_ROOT}/${name}/_manifests/revisions${algorithm === undefined ? '' : `/${algorithm}`}`,
  tagsDir: (name: string): string => `${REPOSITORIES_ROOT}/${name}/_manifests/tags`,
  tagDir: (name: string, tag: string): string => `${REPOSITORIES_ROOT}/${name}/_manifests/tags/${tag}`,
  tagCurrentLink: (name: string, tag: string): string => `${REPOSITORIES_ROOT}/${name}/_manifests/tags/${tag}/current/link`,
  /** `_manifests/tags/<tag>/index` or `.../index/<alg>`: for walking a tag's history. */
  tagIndexesDir: (name: string, tag: string, algorithm?: string): string =>
    `${REPOSITORIES_ROOT}/${name}/_manifests/tags/${tag}/index${algorithm === undefined ? '' : `/${algorithm}`}`,
  tagIndexDir: (name: string, tag: string, d: Digest): string =>
    `${REPOSITORIES_ROOT}/${name}/_manifests/tags/${tag}/index/${d.algorithm}/${d.hex}`,
  tagIndexLink: (name: string, tag: string, d: Digest): string =>
    `${REPOSITORIES_ROOT}/${name}/_manifests/tags/${tag}/index/${d.algorithm}/${d.hex}/link`,

  uploadsDir: (name: string): string => `${REPOSITORIES_ROOT}/${name}/_uploads`,
  uploadDir: (name: string, id: string): string => `${REPOSITORIES_ROOT}/${name}/_uploads/${id}`,
  uploadData: (name: string, id: string): string => `${REPOSITORIES_ROOT}/${name}/_uploads/${id}/data`,
  uploadStartedAt: (name: string, id: string): string => `${REPOSITORIES_ROOT}/${name}/_uploads/${id}/startedat`,

  /** `_referrers`, `_referrers/<alg>`: for walking a repository's referrers index. */
  referrersRoot: (name: string, algorithm?: string): string => `${REPOSITORIES_ROOT}/${name}/_referrers${algorithm === undefined ? '' : `/${algorithm}`}`,
  referrersDir: (name: string, subject: Digest): string =>
    `${REPOSITORIES_ROOT}/${name}/_referrers/${subject.algorithm}/${subject.hex}`,
  referrerEntry: (name: string, subject: Digest, referrer: Digest): string =>
    `${REPOSITORIES_ROOT}/${name}/_referrers/${subject.algorithm}/${subject.hex}/${referrer.algorithm}-${referrer.hex}.json`,

  proxyDir: (name: string): string => `${REPOSITORIES_ROOT}/${name}/_proxy`,
  proxyBlobEntry: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_proxy/blobs/${d.algorithm}/${d.hex}`,
  proxyManifestEntry: (name: string, d: Digest): string => `${REPOSITORIES_ROOT}/${name}/_proxy/manifests/${d.algorithm}/${d.hex}`,
  proxyTagEntry: (name: string, tag: string): string => `${REPOSITORIES_ROOT}/${name}/_proxy/tags/${tag}`,
} as const;
