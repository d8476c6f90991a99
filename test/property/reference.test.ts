/**
 * Property-based tests of the name, tag, reference and digest grammar (src/registry/reference.ts,
 * src/registry/digest.ts): generated valid inputs are accepted and round-trip; arbitrary strings are
 * either accepted or refused with a RegistryError of the right code, never anything else.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { RegistryError, type ErrorCode } from '../../src/registry/errors.js';
import { isValidName, isValidTag, MAX_NAME_LENGTH, nameProblem, parseReference, validateName, validateTag } from '../../src/registry/reference.js';
import { digestOf, isDigest, parseDigest, tryParseDigest } from '../../src/registry/digest.js';

const RUNS = { numRuns: 2000 };

const LOWER_ALNUM = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
const HEX = [...'0123456789abcdef'];
const TAG_FIRST = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'];
const TAG_REST = [...TAG_FIRST, '.', '-'];

const alnumRun = fc.string({ unit: fc.constantFrom(...LOWER_ALNUM), minLength: 1, maxLength: 8 });
const separator = fc.oneof(fc.constant('.'), fc.constant('_'), fc.constant('__'), fc.string({ unit: fc.constant('-'), minLength: 1, maxLength: 3 }));
/** One path component: alnum runs joined by separators. */
const component = fc.tuple(alnumRun, fc.array(fc.tuple(separator, alnumRun), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([s, r]) => s + r).join(''));
/** A valid repository name (the OCI grammar, at most 255 characters). */
const validName = fc.array(component, { minLength: 1, maxLength: 5 }).map((c) => c.join('/')).filter((n) => n.length <= MAX_NAME_LENGTH);
const validTag = fc.tuple(fc.constantFrom(...TAG_FIRST), fc.string({ unit: fc.constantFrom(...TAG_REST), maxLength: 127 })).map(([a, b]) => a + b);
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const validDigest = fc.oneof(hex(64).map((h) => `sha256:${h}`), hex(128).map((h) => `sha512:${h}`));

/** Strings that are likely to hit the interesting corners of the grammar. */
const nearName = fc.string({ unit: fc.constantFrom(...LOWER_ALNUM.slice(0, 4), '.', '_', '-', '/', 'A', ':', '%', ' ', '\u00e9', '\0'), maxLength: 40 });
const nearDigest = fc.tuple(
  fc.constantFrom('sha256', 'sha512', 'SHA256', 'sha384', 'md5', 'sha256+b64u', 'a.b', '', 'sha256 '),
  fc.constantFrom(':', '', '::', ' :'),
  fc.string({ unit: fc.constantFrom(...HEX, 'A', 'F', 'g', '=', '_', '-', ' '), maxLength: 140 }),
).map(([a, s, h]) => a + s + h);
const anyString = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), nearName, nearDigest);

/** Calls fn; returns the RegistryError code it threw, or undefined. Anything else thrown fails. */
function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof RegistryError, `threw ${String(err)}, not a RegistryError`);
    return err.code;
  }
}

describe('repository names', () => {
  it('accepts every generated valid name', () => {
    fc.assert(fc.property(validName, (name) => {
      assert.equal(isValidName(name), true, name);
      assert.equal(validateName(name), name);
      assert.equal(nameProblem(name), undefined);
    }), RUNS);
  });

  it('refuses anything else with NAME_INVALID only, agreeing with isValidName', () => {
    fc.assert(fc.property(fc.oneof(anyString, validName.map((n) => `${n}/`), validName.map((n) => `/${n}`), validName.map((n) => n.toUpperCase())), (input) => {
      const code = codeOf(() => validateName(input));
      assert.ok(code === undefined || code === 'NAME_INVALID', `code ${code}`);
      assert.equal(code === undefined, isValidName(input));
      if (code === undefined) assert.equal(nameProblem(input), undefined);
      else assert.equal(typeof nameProblem(input), 'string');
    }), RUNS);
  });

  it('refuses names with empty, dot or upper-case components and names over 255 characters', () => {
    fc.assert(fc.property(validName, fc.constantFrom('a//b', '../x', 'x/..', './x', 'A', 'a_-b', 'a..b', '-a', 'a-', '_a', 'a___b'), (name, bad) => {
      assert.equal(isValidName(`${name}/${bad}`), false, `${name}/${bad}`);
    }), RUNS);
    fc.assert(fc.property(fc.integer({ min: MAX_NAME_LENGTH + 1, max: 2000 }), (length) => {
      assert.equal(codeOf(() => validateName('a'.repeat(length))), 'NAME_INVALID');
    }));
    assert.equal(isValidName('a'.repeat(MAX_NAME_LENGTH)), true);
  });
});

describe('tags', () => {
  it('accepts every generated valid tag', () => {
    fc.assert(fc.property(validTag, (tag) => {
      assert.equal(isValidTag(tag), true, tag);
      assert.equal(validateTag(tag), tag);
      assert.deepEqual(parseReference(tag), { kind: 'tag', tag });
    }), RUNS);
  });

  it('refuses anything else with TAG_INVALID only', () => {
    fc.assert(fc.property(fc.oneof(anyString, validTag.map((t) => `.${t}`), validTag.map((t) => `-${t}`), validTag.map((t) => t + 'x'.repeat(128))), (input) => {
      const code = codeOf(() => validateTag(input));
      assert.ok(code === undefined || code === 'TAG_INVALID', `code ${code}`);
      assert.equal(code === undefined, isValidTag(input));
      if (code === undefined) assert.ok(input.length >= 1 && input.length <= 128);
    }), RUNS);
  });
});

describe('digests', () => {
  it('parses every generated sha256/sha512 digest and round-trips it', () => {
    fc.assert(fc.property(validDigest, (digest) => {
      const parsed = parseDigest(digest);
      assert.equal(parsed.value, digest);
      assert.equal(`${parsed.algorithm}:${parsed.hex}`, digest);
      assert.equal(isDigest(digest), true);
      assert.deepEqual(parseReference(digest), { kind: 'digest', digest: parsed });
    }), RUNS);
  });

  it('digestOf gives what parseDigest accepts, equal to node:crypto', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom('sha256' as const, 'sha512' as const), (bytes, algorithm) => {
      const digest = digestOf(bytes, algorithm);
      assert.equal(digest.value, `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`);
      assert.deepEqual(parseDigest(digest.value), digest);
    }), RUNS);
  });

  it('refuses upper-case hex, wrong lengths and unknown algorithms with DIGEST_INVALID', () => {
    fc.assert(fc.property(validDigest, fc.nat(), (digest, n) => {
      const colon = digest.indexOf(':');
      const hexPart = digest.slice(colon + 1);
      const i = n % hexPart.length;
      const upper = hexPart.replace(/[a-f]/, (c) => c.toUpperCase());
      if (upper !== hexPart) assert.equal(codeOf(() => parseDigest(digest.slice(0, colon + 1) + upper)), 'DIGEST_INVALID');
      assert.equal(codeOf(() => parseDigest(digest.slice(0, colon + 1 + i))), 'DIGEST_INVALID');
      assert.equal(codeOf(() => parseDigest(digest + 'a')), 'DIGEST_INVALID');
      assert.equal(codeOf(() => parseDigest(`sha384${digest.slice(colon)}`)), 'DIGEST_INVALID');
    }), RUNS);
  });

  it('arbitrary strings: DIGEST_INVALID or a digest whose value is the input', () => {
    fc.assert(fc.property(anyString, (input) => {
      const code = codeOf(() => parseDigest(input));
      assert.ok(code === undefined || code === 'DIGEST_INVALID', `code ${code}`);
      const tried = tryParseDigest(input);
      assert.equal(typeof tried === 'string', code !== undefined);
      if (typeof tried !== 'string') {
        assert.equal(tried.value, input);
        assert.match(input, /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/);
      }
    }), RUNS);
  });
});

describe('references', () => {
  it('arbitrary strings: a tag, a digest, or TAG_INVALID / DIGEST_INVALID by whether a colon is present', () => {
    fc.assert(fc.property(fc.oneof(anyString, validTag, validDigest), (input) => {
      let ref;
      try {
        ref = parseReference(input);
      } catch (err) {
        assert.ok(err instanceof RegistryError, `threw ${String(err)}`);
        assert.equal(err.code, input.includes(':') ? 'DIGEST_INVALID' : 'TAG_INVALID');
        return;
      }
      if (ref.kind === 'tag') {
        assert.equal(ref.tag, input);
        assert.equal(isValidTag(input), true);
      } else {
        assert.equal(ref.digest.value, input);
      }
    }), RUNS);
  });
});
