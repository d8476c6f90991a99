/** Unit tests of src/registry/digest.ts: the digest grammar, supported algorithms, hashing helpers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { digestFromHash, digestOf, isDigest, isSupportedAlgorithm, newHash, parseDigest, tryParseDigest } from '../../src/registry/digest.js';
import { RegistryError } from '../../src/registry/errors.js';

const HEX64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HEX128 = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

describe('tryParseDigest / parseDigest', () => {
  it('accepts sha256 with 64 and sha512 with 128 lower-case hex', () => {
    assert.deepEqual(tryParseDigest(`sha256:${HEX64}`), { algorithm: 'sha256', hex: HEX64, value: `sha256:${HEX64}` });
    assert.deepEqual(parseDigest(`sha512:${HEX128}`), { algorithm: 'sha512', hex: HEX128, value: `sha512:${HEX128}` });
  });

  const bad: [string, RegExp][] = [
    ['', /malformed/],
    ['sha256', /malformed/],
    ['sha256:', /malformed/],
    [`:${HEX64}`, /malformed/],
    [`sha256:${HEX64.slice(1)}`, /64 lower-case hex/],
    [`sha256:${HEX64}0`, /64 lower-case hex/],
    [`sha256:${HEX64.toUpperCase()}`, /64 lower-case hex/],
    [`sha256:${'g'.repeat(64)}`, /64 lower-case hex/],
    [`sha512:${HEX64}`, /128 lower-case hex/],
    [`md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    [`sha384:${'a'.repeat(96)}`, /unsupported/],
    [`SHA256:${HEX64}`, /malformed/],
    [`sha256:${HEX64}:x`, /malformed/],
    [`sha256:../${HEX64}`, /malformed/],
    [`sha256:${HEX64}/..`, /malformed/],
    [` sha256:${HEX64}`, /malformed/],
    [`sha256:${'a'.repeat(300)}`, /malformed/],
    [`sha256+b64u:${HEX64}`, /unsupported/],
  ];
  for (const [input, reason] of bad) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      const result = tryParseDigest(input);
      assert.equal(typeof result, 'string');
      assert.match(result as string, reason);
      assert.equal(isDigest(input), false);
      assert.throws(() => parseDigest(input), (err: unknown) => err instanceof RegistryError && err.code === 'DIGEST_INVALID' && err.status === 400);
    });
  }

  it('parseDigest’s error carries the input (truncated) and the reason', () => {
    try {
      parseDigest(`md5:${'a'.repeat(500)}`);
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof RegistryError);
      const detail = err.detail as { digest: string; reason: string };
      assert.ok(detail.digest.length <= 200);
      assert.equal(typeof detail.reason, 'string');
    }
  });

  it('property: every sha256/sha512 of any content parses to itself', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), fc.constantFrom('sha256' as const, 'sha512' as const), (bytes, alg) => {
      const d = digestOf(bytes, alg);
      const parsed = tryParseDigest(d.value);
      assert.notEqual(typeof parsed, 'string');
      assert.deepEqual(parsed, d);
    }));
  });

  it('property: no string with a character outside the grammar parses', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
      const input = `sha256:${HEX64.slice(0, 32)}${s}`;
      if (/^[a-f0-9]*$/.test(s) && s.length === 32) return;
      assert.equal(isDigest(input), false);
    }));
  });
});

describe('algorithms and hashing', () => {
  it('isSupportedAlgorithm knows sha256 and sha512 only', () => {
    assert.equal(isSupportedAlgorithm('sha256'), true);
    assert.equal(isSupportedAlgorithm('sha512'), true);
    for (const alg of ['sha384', 'md5', 'SHA256', '', 'sha1']) assert.equal(isSupportedAlgorithm(alg), false);
  });

  it('digestOf matches node:crypto for both algorithms, sha256 by default', () => {
    assert.equal(digestOf('').value, `sha256:${HEX64}`);
    assert.equal(digestOf('', 'sha512').value, `sha512:${HEX128}`);
    const content = Buffer.from('hello');
    assert.equal(digestOf(content).hex, createHash('sha256').update(content).digest('hex'));
  });

  it('newHash + digestFromHash agree with digestOf when fed in pieces', () => {
    for (const alg of ['sha256', 'sha512'] as const) {
      const hash = newHash(alg);
      hash.update('hel');
      hash.update('lo');
      assert.deepEqual(digestFromHash(alg, hash), digestOf('hello', alg));
    }
  });
});
