/**
 * Picks the validator for a pushed manifest by media type, and tells the media type of a stored one.
 * One validator per accepted type; schema 1 is refused with a clear message.
 */
import { isUtf8 } from 'node:buffer';
import { invalid, isObject, type JsonObject } from './descriptor.js';
import type { ManifestInfo, ManifestValidator } from './manifest-info.js';
import {
  DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, OCI_INDEX, OCI_MANIFEST, SCHEMA1_TYPES,
  isManifestMediaType, mediaTypeOf, type ManifestMediaType,
} from './media-types.js';
import { validateOciManifest } from './oci-manifest.js';
import { validateOciIndex } from './oci-index.js';
import { validateDockerSchema2 } from './docker-schema2.js';
import { validateDockerManifestList } from './docker-manifest-list.js';
import { RegistryError } from '../errors.js';

const VALIDATORS: Record<ManifestMediaType, ManifestValidator> = {
  [OCI_MANIFEST]: validateOciManifest,
  [OCI_INDEX]: validateOciIndex,
  [DOCKER_MANIFEST]: validateDockerSchema2,
  [DOCKER_MANIFEST_LIST]: validateDockerManifestList,
};

/** Content-Types that say nothing about the manifest: the body's `mediaType` decides. */
const GENERIC_TYPES = new Set(['', 'application/json', 'application/octet-stream']);

export function parseJsonObject(bytes: Uint8Array): JsonObject {
  let value: unknown;
  try {
    if (!isUtf8(bytes)) throw new Error('not UTF-8');
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new RegistryError('MANIFEST_INVALID', { reason: (err as Error).message }, { message: 'manifest invalid: the body is not valid UTF-8 JSON' });
  }
  if (!isObject(value)) throw invalid('$', 'a manifest is a JSON object');
  return value;
}

/** OCI manifests may omit `mediaType`: an index has `manifests`, an image manifest has not. */
function inferOciType(m: JsonObject): ManifestMediaType {
  return Array.isArray(m['manifests']) ? OCI_INDEX : OCI_MANIFEST;
}

const schema1Refused = (): RegistryError =>
  new RegistryError('MANIFEST_INVALID', { reason: 'schema1' }, {
    message: 'manifest invalid: Docker schema 1 manifests are not supported; push Docker schema 2 or OCI manifests',
  });

/** Validates a pushed manifest against the Content-Type it came with. */
export function validateManifest(bytes: Uint8Array, contentType: string | undefined): ManifestInfo {
  const manifest = parseJsonObject(bytes);
  const headerType = mediaTypeOf(contentType);
  const bodyType = manifest['mediaType'];
  if (bodyType !== undefined && typeof bodyType !== 'string') throw invalid('mediaType', 'must be a string');
  if (SCHEMA1_TYPES.includes(headerType) || (bodyType !== undefined && SCHEMA1_TYPES.includes(bodyType)) || manifest['schemaVersion'] === 1) {
    throw schema1Refused();
  }
  let type: ManifestMediaType;
  if (isManifestMediaType(headerType)) {
    if (bodyType !== undefined && bodyType !== headerType) {
      throw invalid('mediaType', `${JSON.stringify(bodyType)} does not match the Content-Type ${JSON.stringify(headerType)}`);
    }
    type = headerType;
  } else if (GENERIC_TYPES.has(headerType)) {
    if (bodyType === undefined) type = inferOciType(manifest);
    else if (isManifestMediaType(bodyType)) type = bodyType;
    else throw unsupported(bodyType);
  } else {
    throw unsupported(headerType);
  }
  return VALIDATORS[type](manifest);
}

function unsupported(type: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', { mediaType: type }, {
    message: `manifest invalid: unsupported manifest media type ${JSON.stringify(type)}; accepted: ${Object.keys(VALIDATORS).join(', ')}`,
  });
}

/**
 * The media type to serve stored manifest bytes with: its `mediaType`, or for an OCI manifest that
 * omits it, the type its shape tells (validation guarantees the two OCI shapes are distinct).
 * Schema 1 manifests written by distribution are served as what they are.
 */
export function storedMediaType(bytes: Uint8Array): string {
  let manifest: JsonObject;
  try {
    manifest = parseJsonObject(bytes);
  } catch {
    return 'application/octet-stream';
  }
  const bodyType = manifest['mediaType'];
  if (typeof bodyType === 'string' && bodyType !== '') return bodyType;
  if (manifest['schemaVersion'] === 1) return manifest['signatures'] === undefined ? DOCKER_SCHEMA1 : DOCKER_SCHEMA1_SIGNED;
  return inferOciType(manifest);
}
