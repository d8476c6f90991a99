/** Unit tests of src/registry/uploads/hasher-cache.ts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HasherCache } from '../../src/registry/uploads/hasher-cache.js';

describe('HasherCache', () => {
  it('take returns the hash put at the same offset, once', () => {
    const cache = new HasherCache();
    const hash = createHash('sha256');
    cache.put('u1', 10, hash);
    assert.equal(cache.size, 1);
    assert.equal(cache.take('u1', 10), hash);
    assert.equal(cache.take('u1', 10), undefined);
    assert.equal(cache.size, 0);
  });

  it('take at another offset returns nothing and drops the stale entry', () => {
    const cache = new HasherCache();
    cache.put('u1', 10, createHash('sha256'));
    assert.equal(cache.take('u1', 20), undefined);
    assert.equal(cache.take('u1', 10), undefined, 'the stale entry is gone');
  });

  it('unknown ids give nothing; drop removes', () => {
    const cache = new HasherCache();
    assert.equal(cache.take('nope', 0), undefined);
    cache.put('u1', 0, createHash('sha256'));
    cache.drop('u1');
    assert.equal(cache.size, 0);
    cache.drop('never');
  });

  it('put replaces an entry of the same id', () => {
    const cache = new HasherCache();
    const a = createHash('sha256');
    const b = createHash('sha256');
    cache.put('u', 1, a);
    cache.put('u', 2, b);
    assert.equal(cache.size, 1);
    assert.equal(cache.take('u', 2), b);
  });

  it('evicts entries idle past the TTL', () => {
    let now = 1_000;
    const cache = new HasherCache(100, 10, () => now);
    cache.put('old', 0, createHash('sha256'));
    now += 150;
    cache.put('new', 0, createHash('sha256'));
    assert.equal(cache.size, 1);
    assert.equal(cache.take('old', 0), undefined);
    assert.ok(cache.take('new', 0));
  });

  it('evicts the least recently put beyond maxEntries', () => {
    const cache = new HasherCache(60_000, 3, () => 0);
    for (const id of ['a', 'b', 'c']) cache.put(id, 0, createHash('sha256'));
    cache.put('a', 5, createHash('sha256')); // refreshes a
    cache.put('d', 0, createHash('sha256'));
    assert.equal(cache.size, 3);
    assert.equal(cache.take('b', 0), undefined, 'b was the oldest');
    assert.ok(cache.take('a', 5));
    assert.ok(cache.take('c', 0));
    assert.ok(cache.take('d', 0));
  });
});
