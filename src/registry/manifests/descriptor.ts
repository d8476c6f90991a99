/**
 * Descriptors (OCI image spec) and the small JSON-shape checks every manifest validator shares.
 * A failed check throws MANIFEST_INVALID naming the JSON path of the problem.
 */
import { RegistryError } from '../errors.js';
import { tryParseDigest, type Digest } from '../digest.js';
import { isValidMediaType } from './media-types.js';

export type JsonObject = { readonly [key: string]: unknown };

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
  readonly 'os.features'?: readonly string[];
  readonly features?: readonly string[];
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly platform?: Platform;
}

export function invalid(path: string, problem: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', { path, reason: problem }, { message: `manifest invalid: ${path}: ${problem}` });
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw invalid(path, 'must be an object');
  return value;
}

export function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${path}.${key}`, 'must be a string');
  return value;
}

export function optionalMediaType(obj: JsonObject, key: string, path: string): string | undefined {
  const value = optionalString(obj, key, path);
  if (value !== undefined && !isValidMediaType(value)) throw invalid(`${path}.${key}`, `${JSON.stringify(value)} is not a media type`);
  return value;
}

export function optionalStringArray(obj: JsonObject, key: string, path: string): readonly string[] | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(`${path}.${key}`, 'must be an array of strings');
  return value as string[];
}

export function optionalAnnotations(obj: JsonObject, key: string, path: string): Readonly<Record<string, string>> | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${path}.${key}`, 'must be a map of strings to strings');
  }
  return value as Record<string, string>;
}

export function requireSchemaVersion2(manifest: JsonObject): void {
  if (manifest['schemaVersion'] !== 2) throw invalid('schemaVersion', 'must be 2');
}

export function optionalArray(obj: JsonObject, key: string, path: string): readonly unknown[] {
  const value = obj[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${path}.${key}`, 'must be an array');
  return value;
}

export function requireArray(obj: JsonObject, key: string, path: string): readonly unknown[] {
  if (obj[key] === undefined) throw invalid(`${path}.${key}`, 'is required');
  return optionalArray(obj, key, path);
}

function parsePlatform(value: unknown, path: string): Platform {
  const obj = requireObject(value, path);
  const architecture = obj['architecture'];
  const os = obj['os'];
  if (typeof architecture !== 'string' || architecture === '') throw invalid(`${path}.architecture`, 'is required');
  if (typeof os !== 'string' || os === '') throw invalid(`${path}.os`, 'is required');
  optionalString(obj, 'variant', path);
  optionalString(obj, 'os.version', path);
  optionalStringArray(obj, 'os.features', path);
  optionalStringArray(obj, 'features', path);
  return obj as unknown as Platform;
}

/** Validates a descriptor object at `path`. */
export function parseDescriptor(value: unknown, path: string, options: { requirePlatform?: boolean } = {}): Descriptor {
  const obj = requireObject(value, path);
  const mediaType = obj['mediaType'];
  if (typeof mediaType !== 'string' || !isValidMediaType(mediaType)) throw invalid(`${path}.mediaType`, 'must be a media type');
  const rawDigest = obj['digest'];
  if (typeof rawDigest !== 'string') throw invalid(`${path}.digest`, 'is required');
  const digest = tryParseDigest(rawDigest);
  if (typeof digest === 'string') throw invalid(`${path}.digest`, digest);
  const size = obj['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${path}.size`, 'must be a non-negative integer');
  const urls = optionalStringArray(obj, 'urls', path);
  const annotations = optionalAnnotations(obj, 'annotations', path);
  const artifactType = optionalMediaType(obj, 'artifactType', path);
  const data = optionalString(obj, 'data', path);
  if (data !== undefined && Buffer.byteLength(data, 'base64') !== size) throw invalid(`${path}.data`, 'does not hold `size` bytes');
  const platformValue = obj['platform'];
  let platform: Platform | undefined;
  if (platformValue !== undefined) platform = parsePlatform(platformValue, `${path}.platform`);
  else if (options.requirePlatform === true) throw invalid(`${path}.platform`, 'is required');
  return {
    mediaType,
    digest,
    size,
    ...(urls !== undefined && { urls }),
    ...(annotations !== undefined && { annotations }),
    ...(artifactType !== undefined && { artifactType }),
    ...(platform !== undefined && { platform }),
  };
}
