import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BufferPool, RECYCLE, recyclerOf } from '../../src/runtime/buffer-recycling.js';

describe('buffer pool', () => {
  it('lends a recycled buffer again instead of allocating one', () => {
    const pool = new BufferPool(1024, 2);
    const first = pool.lend();
    assert.equal(first.length, 1024);
    assert.equal(pool.idle, 0);
    pool.recycle(first.subarray(0, 10)); // a view on it gives the whole buffer back
    assert.equal(pool.idle, 1);
    const again = pool.lend();
    assert.equal(again.buffer, first.buffer);
    assert.equal(again.length, 1024);
    assert.notEqual(pool.lend().buffer, first.buffer, 'a buffer still lent is not lent twice');
  });

  it('ignores a buffer recycled twice and one it never lent', () => {
    const pool = new BufferPool(64, 4);
    const lent = pool.lend();
    pool.recycle(lent);
    pool.recycle(lent);
    pool.recycle(Buffer.alloc(64));
    assert.equal(pool.idle, 1);
    const a = pool.lend();
    const b = pool.lend();
    assert.notEqual(a.buffer, b.buffer, 'the buffer recycled twice was queued once');
  });

  it('keeps at most maxIdle buffers', () => {
    const pool = new BufferPool(16, 2);
    const lent = [pool.lend(), pool.lend(), pool.lend()];
    for (const b of lent) pool.recycle(b);
    assert.equal(pool.idle, 2);
  });
});

describe('recyclerOf', () => {
  it('finds the recycle method of a stream that has one, bound to it', () => {
    const got: Buffer[] = [];
    const stream = Object.assign(Readable.from([]), {
      [RECYCLE](this: { seen: Buffer[] }, chunk: Buffer) {
        this.seen.push(chunk);
      },
      seen: got,
    });
    const recycle = recyclerOf(stream);
    assert.ok(recycle);
    const chunk = Buffer.from('x');
    recycle(chunk);
    assert.deepEqual(got, [chunk]);
  });

  it('finds none on a plain stream', () => {
    assert.equal(recyclerOf(Readable.from([Buffer.from('x')])), undefined);
  });
});
