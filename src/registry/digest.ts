/**
 * Content digests: `<algorithm>:<encoded>`. Wharf supports sha256 and sha512 (lower-case hex of
 * 64 and 128 characters). Anything else, including a well-formed digest of an unknown algorithm,
 * is DIGEST_INVALID.
 */
import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex` */
  readonly value: string;
}

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
/** The general grammar of the OCI image spec (algorithm separators and encoded charset). */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const LOWER_HEX = /^[a-f0-9]+$/;

export function isSupportedAlgorithm(alg: string): alg is DigestAlgorithm {
  return alg === 'sha256' || alg === 'sha512';
}

/** Parses a digest or returns a reason it is not one Wharf accepts. */
export function tryParseDigest(input: string): Digest | string {
  if (input.length > 200 || !DIGEST_GRAMMAR.test(input)) return `malformed digest ${JSON.stringify(input.slice(0, 200))}`;
  const colon = input.indexOf(':');
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (!isSupportedAlgorithm(algorithm)) return `unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256 and sha512 are supported)`;
  if (hex.length !== ENCODED_LENGTH[algorithm] || !LOWER_HEX.test(hex)) {
    return `a ${algorithm} digest has ${ENCODED_LENGTH[algorithm]} lower-case hex characters`;
  }
  return { algorithm, hex, value: input };
}

/** Parses a digest, throwing DIGEST_INVALID with the reason. */
export function parseDigest(input: string): Digest {
  const parsed = tryParseDigest(input);
  if (typeof parsed === 'string') throw new RegistryError('DIGEST_INVALID', { digest: input.slice(0, 200), reason: parsed }, { message: parsed });
  return parsed;
}

export function isDigest(input: string): boolean {
  return typeof tryParseDigest(input) !== 'string';
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(content: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const hex = createHash(algorithm).update(content).digest('hex');
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

export function digestFromHash(algorithm: DigestAlgorithm, hash: Hash): Digest {
  const hex = hash.digest('hex');
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}
