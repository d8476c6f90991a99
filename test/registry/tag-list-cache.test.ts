import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { TagStore } from '../../src/registry/tags/tag-store.js';
import { digestOf } from '../../src/registry/digest.js';

const ctx = {};
const d = digestOf('manifest');

describe('tag list cache', () => {
  it('sees its own writes at once and another instance\'s after the TTL', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const mine = new TagStore(driver, 150);
    const other = new TagStore(driver, 150);
    await mine.tag('r', 'a', d, ctx);
    assert.deepEqual((await mine.list('r', {}, ctx)).tags, ['a']);
    await mine.tag('r', 'b', d, ctx);
    assert.deepEqual((await mine.list('r', {}, ctx)).tags, ['a', 'b'], 'own tag write invalidates');
    await other.tag('r', 'c', d, ctx);
    assert.deepEqual((await mine.list('r', {}, ctx)).tags, ['a', 'b'], 'another instance\'s write waits for the TTL');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual((await mine.list('r', {}, ctx)).tags, ['a', 'b', 'c']);
    await mine.untag('r', 'a', ctx);
    assert.deepEqual((await mine.list('r', {}, ctx)).tags, ['b', 'c'], 'own delete invalidates');
    await mine.untagDigest('r', d, ctx);
    assert.equal((await mine.all('r', ctx))?.length ?? 0, 0, 'deleting the manifest\'s tags invalidates');
  });

  it('pages with n and last over the cached list', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const store = new TagStore(driver, 10_000);
    for (const tag of ['v1', 'v2', 'v3', 'v10', 'latest']) await store.tag('p', tag, d, ctx);
    assert.deepEqual(await store.list('p', { n: 2 }, ctx), { tags: ['latest', 'v1'], more: true });
    assert.deepEqual(await store.list('p', { n: 2, last: 'v1' }, ctx), { tags: ['v10', 'v2'], more: true });
    assert.deepEqual(await store.list('p', { n: 2, last: 'v2' }, ctx), { tags: ['v3'], more: false });
    assert.deepEqual(await store.list('p', { last: 'v0' }, ctx), { tags: ['v1', 'v10', 'v2', 'v3'], more: false });
    assert.deepEqual(await store.list('p', { last: 'zzz' }, ctx), { tags: [], more: false });
  });
});
