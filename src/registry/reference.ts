/**
 * The grammar of repository names, tags and references (OCI Distribution Specification v1.1).
 */
import { RegistryError } from './errors.js';
import { tryParseDigest, type Digest } from './digest.js';

/** Repository name: path components of lower-case alphanumerics joined by `.`, `_`, `__` or dashes. */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;

export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'repository name is empty';
  if (name.length > MAX_NAME_LENGTH) return `repository name is longer than ${MAX_NAME_LENGTH} characters`;
  if (!NAME.test(name)) {
    return 'repository name must be lower-case path components of [a-z0-9] separated by ".", "_", "__" or "-", joined by "/"';
  }
  return undefined;
}

export function isValidName(name: string): boolean {
  return nameProblem(name) === undefined;
}

export function validateName(name: string): string {
  const problem = nameProblem(name);
  if (problem !== undefined) throw new RegistryError('NAME_INVALID', { name: name.slice(0, 300) }, { message: problem });
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function validateTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new RegistryError('TAG_INVALID', { tag: tag.slice(0, 200) }, {
      message: 'a tag is 1 to 128 characters of [a-zA-Z0-9_.-] and does not start with "." or "-"',
    });
  }
  return tag;
}

/** A manifest reference: a tag or a digest, nothing else. */
export type Reference = { readonly kind: 'tag'; readonly tag: string } | { readonly kind: 'digest'; readonly digest: Digest };

export function parseReference(input: string): Reference {
  if (input.includes(':')) {
    const parsed = tryParseDigest(input);
    if (typeof parsed === 'string') {
      throw new RegistryError('DIGEST_INVALID', { digest: input.slice(0, 200), reason: parsed }, { message: parsed });
    }
    return { kind: 'digest', digest: parsed };
  }
  return { kind: 'tag', tag: validateTag(input) };
}
