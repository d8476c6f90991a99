import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGarbageRelief, v8Collector, type Collect } from '../../src/runtime/garbage-relief.js';

const MiB = 1024 * 1024;

describe('garbage relief', () => {
  it('asks for a scavenge each time external memory has grown by the threshold, and never while it stays put', async () => {
    let external = 100 * MiB;
    const calls: Parameters<Collect>[0][] = [];
    const stop = startGarbageRelief({ intervalMs: 2, thresholdBytes: 4 * MiB, collect: (o) => calls.push(o), externalBytes: () => external });
    try {
      await sleep(30);
      assert.equal(calls.length, 0, 'no growth, no collection');
      external += 3 * MiB;
      await sleep(30);
      assert.equal(calls.length, 0, 'growth under the threshold');
      external += 1 * MiB;
      await sleep(30);
      assert.deepEqual(calls, [{ type: 'minor', execution: 'async' }], 'one collection at 4 MiB of growth');
      external -= 6 * MiB; // collected: growth counts from the new low
      await sleep(30);
      external += 4 * MiB;
      await sleep(30);
      assert.equal(calls.length, 2, 'growth from the low after a collection');
    } finally {
      stop();
    }
    const before = calls.length;
    external += 64 * MiB;
    await sleep(30);
    assert.equal(calls.length, before, 'stopped: no more checks');
  });

  it("gets V8's collector without --expose-gc and without leaving a global gc, and a scavenge frees dead buffers", () => {
    assert.equal((globalThis as { gc?: unknown }).gc, undefined, 'this test runs without --expose-gc');
    const collect = v8Collector();
    assert.equal(typeof collect, 'function');
    assert.equal((globalThis as { gc?: unknown }).gc, undefined, 'no global gc left behind');
    collect!({ type: 'minor', execution: 'sync' });
    const base = process.memoryUsage().arrayBuffers;
    let sum = 0;
    // 24 MiB of short-lived 64 KiB buffers, as socket reads make them; none kept.
    for (let i = 0; i < 384; i++) sum += Buffer.allocUnsafeSlow(64 * 1024).fill(i & 0xff)[0]!;
    assert.ok(sum >= 0);
    collect!({ type: 'minor', execution: 'sync' });
    const after = process.memoryUsage().arrayBuffers;
    assert.ok(after - base < 8 * MiB, `after a scavenge ${((after - base) / MiB).toFixed(1)} MiB of the 24 MiB are still held`);
  });

  it('does nothing without a collector', () => {
    const stop = startGarbageRelief({ collect: undefined, externalBytes: () => assert.fail('not checked without a collector') });
    stop();
  });
});
