/** Unit tests of src/registry/reference.ts: repository names, tags, references. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_NAME_LENGTH, isValidName, isValidTag, nameProblem, parseReference, validateName, validateTag } from '../../src/registry/reference.js';
import { RegistryError } from '../../src/registry/errors.js';

const HEX64 = 'a'.repeat(64);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof RegistryError ? err.code : 'not a RegistryError';
  }
}

describe('repository names', () => {
  const valid = [
    'a', 'library/alpine', 'a/b/c/d/e', 'a.b', 'a_b', 'a__b', 'a-b', 'a--b', 'a---b', '0', '9a/b9', 'x/manifests', 'x/blobs/uploads',
    'a'.repeat(255), `${'a'.repeat(127)}/${'b'.repeat(127)}`,
  ];
  for (const name of valid) {
    it(`accepts ${name.length > 30 ? `${name.slice(0, 20)}…(${name.length})` : name}`, () => {
      assert.equal(isValidName(name), true);
      assert.equal(nameProblem(name), undefined);
      assert.equal(validateName(name), name);
    });
  }

  const invalid = [
    '', 'A', 'library/Alpine', '..', '.', 'a/..', 'a/../b', '%2e%2e', 'a%2fb', 'a//b', 'a/', '/a', '_a', 'a/_manifests', 'a___b', 'a.', '.a',
    '-a', 'a-', 'a.-b', 'a-.b', 'a..b', 'a._b', 'a b', 'a\\b', 'café', 'a\0b', 'a'.repeat(256), `${'a'.repeat(128)}/${'b'.repeat(127)}`,
  ];
  for (const name of invalid) {
    it(`refuses ${JSON.stringify(name.length > 30 ? `${name.slice(0, 20)}…(${name.length})` : name)} with NAME_INVALID`, () => {
      assert.equal(isValidName(name), false);
      assert.equal(typeof nameProblem(name), 'string');
      assert.equal(code(() => validateName(name)), 'NAME_INVALID');
    });
  }

  it('says why: empty, too long, or the grammar', () => {
    assert.match(nameProblem('') ?? '', /empty/);
    assert.match(nameProblem('a'.repeat(MAX_NAME_LENGTH + 1)) ?? '', /255/);
    assert.match(nameProblem('A') ?? '', /lower-case/);
  });

  it('property: a valid name never holds `..`, `//`, a leading or trailing `/`, or upper case', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', '0', '.', '_', '-', '/', 'A', '%') }), (name) => {
      if (!isValidName(name)) return;
      assert.ok(!name.includes('..') && !name.includes('//') && !name.startsWith('/') && !name.endsWith('/'));
      assert.ok(!/[A-Z%]/.test(name));
      assert.ok(name.split('/').every((c) => /^[a-z0-9]/.test(c) && /[a-z0-9]$/.test(c)));
    }));
  });
});

describe('tags', () => {
  for (const tag of ['latest', 'v1.0.0', '_x', '0', 'A-b_c.D', 'a'.repeat(128), 'a--b', 'a..b']) {
    it(`accepts ${tag.length > 30 ? `${tag.slice(0, 10)}…(${tag.length})` : tag}`, () => {
      assert.equal(isValidTag(tag), true);
      assert.equal(validateTag(tag), tag);
    });
  }
  for (const tag of ['', '.x', '-x', '..', '.', 'a'.repeat(129), 'a/b', 'a:b', 'a+b', 'a b', '%2e%2e', 'tag\n']) {
    it(`refuses ${JSON.stringify(tag.length > 30 ? `${tag.slice(0, 10)}…(${tag.length})` : tag)} with TAG_INVALID`, () => {
      assert.equal(isValidTag(tag), false);
      assert.equal(code(() => validateTag(tag)), 'TAG_INVALID');
    });
  }
});

describe('references', () => {
  it('a digest when it holds a colon', () => {
    const ref = parseReference(`sha256:${HEX64}`);
    assert.equal(ref.kind, 'digest');
    assert.equal(ref.kind === 'digest' && ref.digest.value, `sha256:${HEX64}`);
  });

  it('a tag otherwise', () => {
    assert.deepEqual(parseReference('latest'), { kind: 'tag', tag: 'latest' });
  });

  it('a bad digest is DIGEST_INVALID, a bad tag TAG_INVALID — nothing else', () => {
    assert.equal(code(() => parseReference('sha256:abc')), 'DIGEST_INVALID');
    assert.equal(code(() => parseReference(`md5:${'a'.repeat(32)}`)), 'DIGEST_INVALID');
    assert.equal(code(() => parseReference('a:b')), 'DIGEST_INVALID');
    assert.equal(code(() => parseReference('.hidden')), 'TAG_INVALID');
    assert.equal(code(() => parseReference('')), 'TAG_INVALID');
  });
});
