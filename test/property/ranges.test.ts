/**
 * Property-based tests of the byte-range parsers (src/http/ranges.ts): the `Content-Range` of an
 * upload chunk and the `Range` of a blob GET. Valid generated headers give the range they say;
 * arbitrary strings never throw, and whatever is returned is well-formed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseContentRange, parseRange } from '../../src/http/ranges.js';

const RUNS = { numRuns: 3000 };
const MAX15 = 999_999_999_999_999;

const rangeChars = fc.string({ unit: fc.constantFrom(...'0123456789-/=*, ', 'b', 'y', 't', 'e', 's', '\t', 'x', '+', '.', 'e'), maxLength: 40 });
const anyHeader = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), rangeChars);
const bound = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: MAX15 }));

describe('Content-Range (upload chunks)', () => {
  it('parses <start>-<end> with every tolerated prefix and suffix', () => {
    fc.assert(fc.property(
      bound, bound,
      fc.constantFrom('', 'bytes ', 'bytes='),
      fc.oneof(fc.constant(''), fc.constant('/*'), bound.map((n) => `/${n}`)),
      fc.constantFrom('', ' ', '  '),
      (a, b, prefix, suffix, pad) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        assert.deepEqual(parseContentRange(`${pad}${prefix}${start}-${end}${suffix}${pad}`), { start, end });
      },
    ), RUNS);
  });

  it('a reversed range is invalid', () => {
    fc.assert(fc.property(bound, bound, (a, b) => {
      fc.pre(a !== b);
      assert.equal(parseContentRange(`${Math.max(a, b)}-${Math.min(a, b)}`), 'invalid');
    }), RUNS);
  });

  it('numbers longer than 15 digits and signs are invalid', () => {
    fc.assert(fc.property(fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n }), bound, (big, n) => {
      assert.equal(parseContentRange(`0-${big}`), 'invalid');
      assert.equal(parseContentRange(`-${n}-${n}`), 'invalid');
      assert.equal(parseContentRange(`+${n}-${n}`), 'invalid');
      assert.equal(parseContentRange(`${n}`), 'invalid');
    }), RUNS);
  });

  it('absent is undefined; arbitrary strings never throw and give invalid or an ordered pair of safe integers', () => {
    assert.equal(parseContentRange(undefined), undefined);
    fc.assert(fc.property(anyHeader, (header) => {
      const result = parseContentRange(header);
      if (result === 'invalid') return;
      assert.ok(result !== undefined);
      assert.ok(Number.isSafeInteger(result.start) && Number.isSafeInteger(result.end), JSON.stringify(result));
      assert.ok(result.start >= 0 && result.start <= result.end, JSON.stringify(result));
    }), RUNS);
  });
});

/** A reference model of RFC 9110 single byte ranges, on BigInt so that big numbers are exact. */
function model(first: string, last: string, size: number): { offset: number; length: number } | 'unsatisfiable' | 'none' {
  if (first === '' && last === '') return 'none';
  const total = BigInt(size);
  if (first === '') {
    const suffix = BigInt(last);
    if (suffix === 0n || total === 0n) return 'unsatisfiable';
    const length = suffix < total ? suffix : total;
    return { offset: Number(total - length), length: Number(length) };
  }
  const start = BigInt(first);
  if (start >= total) return 'unsatisfiable';
  if (last === '') return { offset: Number(start), length: Number(total - start) };
  const end = BigInt(last);
  if (end < start) return 'unsatisfiable';
  const stop = end < total - 1n ? end : total - 1n;
  return { offset: Number(start), length: Number(stop - start + 1n) };
}

describe('Range (blob GET)', () => {
  const size = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 40 }));
  const num = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 200 }).map(String), fc.integer({ min: 0, max: 2 ** 41 }).map(String));

  it('agrees with a reference model for bytes=<first>-<last>', () => {
    fc.assert(fc.property(num, num, size, (first, last, total) => {
      const got = parseRange(`bytes=${first}-${last}`, total);
      const want = model(first, last, total);
      if (want === 'none') assert.deepEqual(got, { kind: 'none' });
      else if (want === 'unsatisfiable') assert.deepEqual(got, { kind: 'unsatisfiable' });
      else assert.deepEqual(got, { kind: 'satisfiable', ...want });
    }), RUNS);
  });

  it('absent is none; arbitrary headers never throw, and a satisfiable range lies inside the blob', () => {
    assert.deepEqual(parseRange(undefined, 10), { kind: 'none' });
    fc.assert(fc.property(fc.oneof(anyHeader, anyHeader.map((h) => `bytes=${h}`)), size, (header, total) => {
      const got = parseRange(header, total);
      assert.ok(['none', 'satisfiable', 'unsatisfiable'].includes(got.kind));
      if (got.kind === 'satisfiable') {
        assert.ok(Number.isSafeInteger(got.offset) && Number.isSafeInteger(got.length));
        assert.ok(got.offset >= 0 && got.length >= 1 && got.offset + got.length <= total, `${header} of ${total}: ${JSON.stringify(got)}`);
      }
    }), RUNS);
  });

  it('a huge first byte position is unsatisfiable, never a wrong range', () => {
    fc.assert(fc.property(fc.bigInt({ min: 2n ** 53n, max: 10n ** 40n }), size, (big, total) => {
      assert.deepEqual(parseRange(`bytes=${big}-`, total), { kind: 'unsatisfiable' });
    }), RUNS);
  });
});
