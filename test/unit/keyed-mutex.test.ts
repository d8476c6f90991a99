/** Unit tests of src/registry/keyed-mutex.ts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from '../../src/registry/keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let active = 0;
    const job = (label: string, ms: number) => mutex.run('k', async () => {
      active++;
      assert.equal(active, 1, 'never two at once');
      log.push(`start ${label}`);
      await sleep(ms);
      log.push(`end ${label}`);
      active--;
      return label;
    });
    const results = await Promise.all([job('a', 20), job('b', 1), job('c', 5)]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs different keys concurrently', async () => {
    const mutex = new KeyedMutex();
    let active = 0;
    let peak = 0;
    const job = (key: string) => mutex.run(key, async () => {
      active++;
      peak = Math.max(peak, active);
      await sleep(10);
      active--;
    });
    await Promise.all([job('a'), job('b'), job('c')]);
    assert.equal(peak, 3);
  });

  it('a failure releases the key and reaches only its caller', async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run('k', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('k', async () => 'ok');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ok');
  });

  it('forgets keys once idle', async () => {
    const mutex = new KeyedMutex();
    const a = mutex.run('a', () => sleep(5));
    const b = mutex.run('a', () => sleep(5));
    assert.equal(mutex.size, 1);
    await Promise.all([a, b]);
    assert.equal(mutex.size, 0);
    await mutex.run('x', async () => undefined).catch(() => undefined);
    await mutex.run('y', async () => {
      throw new Error('e');
    }).catch(() => undefined);
    assert.equal(mutex.size, 0);
  });
});
