import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { StorageRegistry } from '../../src/registry/storage-registry.js';
import { CatalogCache, CatalogWatchDriver, catalogTouch, firstAfter } from '../../src/registry/catalog-cache.js';
import { listRepositories } from '../../src/registry/catalog.js';
import { REPOSITORIES_ROOT } from '../../src/registry/paths.js';
import { digestOf } from '../../src/registry/digest.js';

const ctx = {};
const content = Buffer.from('layer');
const digest = digestOf(content);

async function push(registry: StorageRegistry, name: string): Promise<void> {
  const { id } = await registry.startUpload(name, ctx);
  await registry.completeUpload(name, id, digest, { stream: Readable.from([content]), contentLength: content.length }, ctx);
}

async function names(registry: StorageRegistry): Promise<readonly string[]> {
  return (await registry.catalog({}, ctx)).repositories;
}

describe('catalog cache', () => {
  it('sees repositories made through this instance at once and another instance\'s after the TTL', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const mine = new StorageRegistry(driver, { catalogTtlMs: 150 });
    const other = new StorageRegistry(driver, { catalogTtlMs: 150 });
    await push(mine, 'b');
    assert.deepEqual(await names(mine), ['b']);
    await push(mine, 'a');
    assert.deepEqual(await names(mine), ['a', 'b'], 'a new repository invalidates');
    await push(other, 'c');
    assert.deepEqual(await names(mine), ['a', 'b'], 'another instance\'s repository waits for the TTL');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(await names(mine), ['a', 'b', 'c']);
    const { id } = await mine.startUpload('d', ctx);
    assert.deepEqual(await names(mine), ['a', 'b', 'c'], 'an upload alone makes no repository');
    await mine.cancelUpload('d', id, ctx);
  });

  it('forgets the list when a marker directory is deleted through it', async () => {
    const storage = wrapDriver(new MemoryDriver());
    const cache = new CatalogCache(60_000);
    const driver = new CatalogWatchDriver(storage, cache);
    const registry = new StorageRegistry(driver);
    await push(registry, 'x');
    await push(registry, 'y');
    const list = async (): Promise<readonly string[]> => (await listRepositories(driver, {}, ctx, cache)).repositories;
    assert.deepEqual(await list(), ['x', 'y']);
    await driver.delete(`${REPOSITORIES_ROOT}/x/_uploads`).catch(() => undefined);
    await driver.delete(`${REPOSITORIES_ROOT}/y`);
    assert.deepEqual(await list(), ['x']);
    await storage.delete(`${REPOSITORIES_ROOT}/x`);
    assert.deepEqual(await list(), ['x'], 'a delete that bypasses the watch driver waits for the TTL');
  });

  it('pages exactly as the uncached walk does', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const cached = new StorageRegistry(driver, { catalogTtlMs: 60_000 });
    const plain = new StorageRegistry(driver);
    for (const name of ['a', 'a/b', 'a-c', 'a/b/c', 'b', 'z/y', 'a0']) await push(cached, name);
    const all = await names(plain);
    assert.deepEqual(await names(cached), all);
    for (const last of [undefined, '', 'a', 'a/b', 'a/a', 'a-b', 'a0', 'zz', 'z']) {
      for (const n of [undefined, 1, 2, 3, 100]) {
        assert.deepEqual(await cached.catalog({ n, last }, ctx), await plain.catalog({ n, last }, ctx), `n=${n} last=${last}`);
      }
    }
  });

  it('tells which paths can change the catalog', () => {
    const r = REPOSITORIES_ROOT;
    assert.deepEqual(catalogTouch(`${r}/a/b/_layers/sha256/x/link`), { kind: 'marker', name: 'a/b', atMarker: false });
    assert.deepEqual(catalogTouch(`${r}/a/_manifests`), { kind: 'marker', name: 'a', atMarker: true });
    assert.equal(catalogTouch(`${r}/a/_uploads/id/data`).kind, 'none');
    assert.equal(catalogTouch(`${r}/a/_referrers/x`).kind, 'none');
    assert.equal(catalogTouch('/docker/registry/v2/blobs/sha256/ab/abc/data').kind, 'none');
    assert.equal(catalogTouch(`${r}/a/b`).kind, 'above');
    assert.equal(catalogTouch(r).kind, 'above');
    assert.equal(catalogTouch('/docker').kind, 'above');
    assert.equal(firstAfter(['a', 'a/b', 'a-c'], 'a/a'), 1);
    assert.equal(firstAfter(['a', 'a/b', 'a-c'], 'a'), 1);
    assert.equal(firstAfter(['a', 'a/b', 'a-c'], undefined), 0);
  });

  it('does not keep a walk that a change overlapped, nor a catalog past its size bound', async () => {
    const cache = new CatalogCache(60_000);
    let walks = 0;
    const walk = (names: string[] | undefined) => async (): Promise<string[] | undefined> => {
      walks++;
      cache.written(`${REPOSITORIES_ROOT}/new/_layers/sha256/x/link`);
      return names;
    };
    await cache.all(walk(['a']));
    await cache.all(async () => (walks++, ['a']));
    await cache.all(async () => (walks++, ['a']));
    assert.equal(walks, 2, 'the overlapped walk was not kept; the next one was');
    const big = new CatalogCache(60_000);
    assert.equal(await big.all(async () => undefined), undefined);
  });
});

