/**
 * What a stored manifest references, read leniently for garbage collection: every media type
 * distribution ever stored (OCI and Docker schema 2 manifests and indexes, OCI artifact manifests,
 * Docker schema 1 `fsLayers`), whatever its validation said at push time. Unknown fields are
 * ignored; a document that is not a JSON object is an error, because the collector must not
 * sweep blobs a manifest it cannot read might need.
 */
import { tryParseDigest } from '../registry/digest.js';

export interface ManifestReferences {
  /** Config, layers (and schema 1 `fsLayers` blobs, OCI artifact `blobs`): digest strings. */
  readonly blobs: readonly string[];
  /** Child manifests of an index or manifest list. */
  readonly children: readonly string[];
  /** OCI 1.1 `subject`: the manifest this one refers to. */
  readonly subject?: string | undefined;
}

export class UnreadableManifestError extends Error {
  override readonly name = 'UnreadableManifestError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The digest of a descriptor-like object's `key`, when it holds a valid one. */
function digestAt(value: unknown, key = 'digest'): string | undefined {
  if (!isObject(value) || typeof value[key] !== 'string') return undefined;
  const parsed = tryParseDigest(value[key] as string);
  return typeof parsed === 'string' ? undefined : parsed.value;
}

function digestsOf(list: unknown, key = 'digest'): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => digestAt(item, key)).filter((d): d is string => d !== undefined);
}

export function manifestReferences(bytes: Buffer, where: string): ManifestReferences {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new UnreadableManifestError(`${where}: the manifest is not JSON (${(err as Error).message}); refusing to collect garbage without knowing what it references`);
  }
  if (!isObject(doc)) throw new UnreadableManifestError(`${where}: the manifest is not a JSON object; refusing to collect garbage without knowing what it references`);
  const config = digestAt(doc['config']);
  const blobs = [
    ...(config === undefined ? [] : [config]),
    ...digestsOf(doc['layers']),
    ...digestsOf(doc['blobs']),
    ...digestsOf(doc['fsLayers'], 'blobSum'),
  ];
  return { blobs, children: digestsOf(doc['manifests']), subject: digestAt(doc['subject']) };
}
