import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wrapDriver } from '../../src/storage/base.js';
import { CachingDriver } from '../../src/storage/cache/caching-driver.js';
import { PathNotFoundError } from '../../src/storage/driver.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { driverSuite } from '../../src/storage/testing/driver-suite.js';

// The cache must keep the whole driver contract.
driverSuite('inmemory behind the read cache', async () => ({
  driver: wrapDriver(new CachingDriver(new MemoryDriver(), { ttlMs: 60_000, maxBytes: 1 << 20, cacheStat: () => true })),
  cleanup: async () => {},
}));

function setup(options: { ttlMs?: number; maxBytes?: number } = {}) {
  let now = 1_000;
  const backing = new MemoryDriver();
  const cache = new CachingDriver(backing, { ttlMs: options.ttlMs ?? 10_000, maxBytes: options.maxBytes ?? 1 << 20, cacheStat: (p) => p.endsWith('/data'), now: () => now });
  return { backing, cache, advance: (ms: number) => (now += ms) };
}

describe('CachingDriver', () => {
  it('serves a second read from memory, and sees a write through it at once', async () => {
    const { backing, cache } = setup();
    await cache.putContent('/r/link', Buffer.from('one'));
    assert.equal((await cache.getContent('/r/link')).toString(), 'one');
    await backing.putContent('/r/link', Buffer.from('behind its back'));
    assert.equal((await cache.getContent('/r/link')).toString(), 'one', 'the second read is a hit');
    assert.equal(cache.stats.hits, 1);
    await cache.putContent('/r/link', Buffer.from('two'));
    assert.equal((await cache.getContent('/r/link')).toString(), 'two', 'a write through the cache invalidates');
  });

  it('sees writes by others after the TTL', async () => {
    const { backing, cache, advance } = setup({ ttlMs: 2_000 });
    await backing.putContent('/t/link', Buffer.from('a'));
    assert.equal((await cache.getContent('/t/link')).toString(), 'a');
    await backing.putContent('/t/link', Buffer.from('b'));
    advance(1_999);
    assert.equal((await cache.getContent('/t/link')).toString(), 'a');
    advance(2);
    assert.equal((await cache.getContent('/t/link')).toString(), 'b');
  });

  it('never caches absence: content another process just wrote is found at once', async () => {
    const { backing, cache } = setup();
    await assert.rejects(cache.getContent('/x/link'), PathNotFoundError);
    await backing.putContent('/x/link', Buffer.from('now here'));
    assert.equal((await cache.getContent('/x/link')).toString(), 'now here');
  });

  it('forgets everything below a deleted or moved directory', async () => {
    const { cache } = setup();
    await cache.putContent('/repo/_manifests/tags/a/current/link', Buffer.from('1'));
    await cache.putContent('/repo/_manifests/tags/b/current/link', Buffer.from('2'));
    await cache.putContent('/repo2/link', Buffer.from('3'));
    for (const p of ['/repo/_manifests/tags/a/current/link', '/repo/_manifests/tags/b/current/link', '/repo2/link']) await cache.getContent(p);
    await cache.delete('/repo/_manifests/tags');
    await assert.rejects(cache.getContent('/repo/_manifests/tags/a/current/link'), PathNotFoundError);
    await assert.rejects(cache.getContent('/repo/_manifests/tags/b/current/link'), PathNotFoundError);
    assert.equal((await cache.getContent('/repo2/link')).toString(), '3');
    await cache.putContent('/up/data', Buffer.from('blob'));
    await cache.getContent('/up/data');
    await cache.move('/up/data', '/blobs/data');
    await assert.rejects(cache.getContent('/up/data'), PathNotFoundError);
  });

  it('caches stat only where the predicate allows, and a writer invalidates its path', async () => {
    const { backing, cache } = setup();
    await cache.putContent('/b/data', Buffer.from('12345'));
    await cache.putContent('/u/file', Buffer.from('1'));
    assert.equal((await cache.stat('/b/data')).size, 5);
    assert.equal((await cache.stat('/u/file')).size, 1);
    await backing.putContent('/u/file', Buffer.from('123'));
    assert.equal((await cache.stat('/u/file')).size, 3, 'not cached: always asks');
    const w = await cache.writer('/b/data', { append: true });
    w.end(Buffer.from('678'));
    await w.commit();
    assert.equal((await cache.stat('/b/data')).size, 8);
  });

  it('does not fill the cache with a read that overlapped a write', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class SlowReads extends MemoryDriver {
      override async getContent(path: string): Promise<Buffer> {
        const content = await super.getContent(path);
        await gate;
        return content;
      }
    }
    const slow = new SlowReads();
    await slow.putContent('/k/link', Buffer.from('old'));
    const cache = new CachingDriver(slow, { ttlMs: 60_000, maxBytes: 1 << 20 });
    const pending = cache.getContent('/k/link');
    await cache.putContent('/k/link', Buffer.from('new'));
    release();
    assert.equal((await pending).toString(), 'old');
    assert.equal((await cache.getContent('/k/link')).toString(), 'new', 'the stale read was not cached');
  });

  it('evicts the least recently used entries past maxBytes', async () => {
    const { cache } = setup({ maxBytes: 3 * (1000 + 64) });
    for (const name of ['a', 'b', 'c', 'd']) await cache.putContent(`/${name}`, Buffer.alloc(1000));
    for (const name of ['a', 'b', 'c']) await cache.getContent(`/${name}`);
    await cache.getContent('/a');
    await cache.getContent('/d');
    assert.equal(cache.stats.entries, 3);
    assert.ok(cache.stats.bytes <= 3 * 1064);
    const hits = cache.stats.hits;
    await cache.getContent('/a');
    assert.equal(cache.stats.hits, hits + 1, '/a was used recently and stays');
    await cache.getContent('/b');
    assert.equal(cache.stats.hits, hits + 1, '/b was the least recently used and went');
  });
});
