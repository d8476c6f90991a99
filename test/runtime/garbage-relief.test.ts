import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGarbageRelief, v8Collector, type Collect } from '../../src/runtime/garbage-relief.js';

const MiB = 1024 * 1024;

describe('garbage relief', () => {
  it('asks for a scavenge each time external memory has grown by the threshold, and never while it stays put', async () => {
    let external = 100 * MiB;
    let reads = 0;
    const calls: Parameters<Collect>[0][] = [];
    const stop = startGarbageRelief({ intervalMs: 1, thresholdBytes: 4 * MiB, collect: (o) => calls.push(o), externalBytes: () => (reads++, external) });
    // Counted in checks, not in time: a loaded machine may run the timer late.
    const checks = async (n: number): Promise<void> => {
      const until = reads + n;
      while (reads < until) await sleep(1);
    };
    try {
      await checks(5);
      assert.equal(calls.length, 0, 'no growth, no collection');
      external += 3 * MiB;
      await checks(5);
      assert.equal(calls.length, 0, 'growth under the threshold');
      external += 1 * MiB;
      await checks(5);
      assert.deepEqual(calls, [{ type: 'minor', execution: 'async' }], 'one collection at 4 MiB of growth');
      external -= 6 * MiB; // collected: growth counts from the new low
      await checks(5);
      external += 4 * MiB;
      await checks(5);
      assert.equal(calls.length, 2, 'growth from the low after a collection');
    } finally {
      stop();
    }
    const before = { calls: calls.length, reads };
    external += 64 * MiB;
    await sleep(50);
    assert.deepEqual({ calls: calls.length, reads }, before, 'stopped: no more checks');
  });

  it("gets V8's collector without --expose-gc and without leaving a global gc, and a scavenge frees dead buffers", async () => {
    assert.equal((globalThis as { gc?: unknown }).gc, undefined, 'this test runs without --expose-gc');
    const collect = v8Collector();
    assert.equal(typeof collect, 'function');
    assert.equal((globalThis as { gc?: unknown }).gc, undefined, 'no global gc left behind');
    collect!({ type: 'minor', execution: 'sync' });
    await sleep(50); // freed array buffers are swept on a background thread
    const base = process.memoryUsage().arrayBuffers;
    let sum = 0;
    // 24 MiB of short-lived 64 KiB buffers, as socket reads make them; none kept.
    for (let i = 0; i < 384; i++) sum += Buffer.allocUnsafeSlow(64 * 1024).fill(i & 0xff)[0]!;
    assert.ok(sum >= 0);
    collect!({ type: 'minor', execution: 'sync' });
    // The sweep of the freed buffers finishes in the background; nothing else would free them.
    let held = process.memoryUsage().arrayBuffers - base;
    for (let i = 0; i < 100 && held >= 8 * MiB; i++) {
      await sleep(20);
      held = process.memoryUsage().arrayBuffers - base;
    }
    assert.ok(held < 8 * MiB, `after a scavenge ${(held / MiB).toFixed(1)} MiB of the 24 MiB are still held`);
  });

  it('does nothing without a collector', () => {
    const stop = startGarbageRelief({ collect: undefined, externalBytes: () => assert.fail('not checked without a collector') });
    stop();
  });
});
