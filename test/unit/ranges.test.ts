/** Unit tests of src/http/ranges.ts: blob `Range` requests and upload `Content-Range` headers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseContentRange, parseRange } from '../../src/http/ranges.js';

describe('parseRange (blob GET)', () => {
  const SIZE = 1000;
  const satisfiable: [string, number, number][] = [
    ['bytes=0-99', 0, 100],
    ['bytes=0-0', 0, 1],
    ['bytes=999-999', 999, 1],
    ['bytes=900-', 900, 100],
    ['bytes=0-', 0, 1000],
    ['bytes=-100', 900, 100],
    ['bytes=-1', 999, 1],
    ['bytes=-5000', 0, 1000],
    ['bytes=990-5000', 990, 10],
    [' bytes=1-2 ', 1, 2],
  ];
  for (const [header, offset, length] of satisfiable) {
    it(`${header} → offset ${offset}, length ${length}`, () => {
      assert.deepEqual(parseRange(header, SIZE), { kind: 'satisfiable', offset, length });
    });
  }

  for (const header of ['bytes=500-0', 'bytes=1000-', 'bytes=1000-2000', 'bytes=-0', `bytes=${'9'.repeat(20)}-`]) {
    it(`${header} → unsatisfiable`, () => {
      assert.deepEqual(parseRange(header, SIZE), { kind: 'unsatisfiable' });
    });
  }

  for (const header of [undefined, '', 'bytes=', 'bytes=-', 'items=0-1', 'bytes=0-1,5-6', 'bytes=a-b', 'bytes 0-1', 'bytes=0-1-2']) {
    it(`${JSON.stringify(header)} → none (serve the whole blob)`, () => {
      assert.deepEqual(parseRange(header, SIZE), { kind: 'none' });
    });
  }

  it('an empty blob satisfies no range', () => {
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-1', 0), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  });

  it('property: a satisfiable range always lies inside the blob and is non-empty', () => {
    fc.assert(fc.property(fc.nat(10_000), fc.option(fc.nat(20_000)), fc.option(fc.nat(20_000)), (size, a, b) => {
      const header = `bytes=${a ?? ''}-${b ?? ''}`;
      const r = parseRange(header, size);
      if (r.kind !== 'satisfiable') return;
      assert.ok(r.offset >= 0 && r.length >= 1 && r.offset + r.length <= size, `${header} on ${size}: ${JSON.stringify(r)}`);
    }));
  });
});

describe('parseContentRange (upload chunk)', () => {
  const good: [string, number, number][] = [
    ['0-99', 0, 99],
    ['100-199', 100, 199],
    ['5-5', 5, 5],
    ['bytes 0-99', 0, 99],
    ['bytes=0-99', 0, 99],
    ['bytes 0-99/100', 0, 99],
    ['bytes 0-99/*', 0, 99],
    [' 0-1 ', 0, 1],
  ];
  for (const [header, start, end] of good) {
    it(`${JSON.stringify(header)} → ${start}-${end}`, () => {
      assert.deepEqual(parseContentRange(header), { start, end });
    });
  }

  it('absent → undefined', () => {
    assert.equal(parseContentRange(undefined), undefined);
  });

  for (const header of ['', '10-5', 'abc', '-5', '5-', '0-1-2', '0-99/abc', `0-${'9'.repeat(16)}`, 'bytes */100', '0x0-0x10', '1.5-2']) {
    it(`${JSON.stringify(header)} → invalid`, () => {
      assert.equal(parseContentRange(header), 'invalid');
    });
  }
});
