/** Unit tests of src/registry/repository-walker.ts: component order and the walk over storage. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareNames, walkRepositories } from '../../src/registry/repository-walker.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { REPOSITORIES_ROOT } from '../../src/registry/paths.js';

describe('compareNames', () => {
  it('orders component by component: a < a/b < a/b/c < a-c < a.b < b', () => {
    const names = ['b', 'a.b', 'a-c', 'a/b/c', 'a/b', 'a'];
    assert.deepEqual([...names].sort(compareNames), ['a', 'a/b', 'a/b/c', 'a-c', 'a.b', 'b']);
  });
  it('differs from plain string order where `/` sorts after `-` and `.`', () => {
    assert.ok(compareNames('a/b', 'a-c') < 0);
    assert.ok('a/b' > 'a-c');
    assert.ok(compareNames('a/z', 'a0') < 0);
  });
  it('equal names compare 0; a prefix name comes first', () => {
    assert.equal(compareNames('x/y', 'x/y'), 0);
    assert.ok(compareNames('x', 'x/y') < 0);
    assert.ok(compareNames('x/y', 'x') > 0);
  });
  it('property: antisymmetric, and consistent with sorting component arrays', () => {
    const name = fc.array(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,4}$/), { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
    fc.assert(fc.property(name, name, (a, b) => {
      assert.equal(Math.sign(compareNames(a, b)), -Math.sign(compareNames(b, a)));
      if (compareNames(a, b) === 0) assert.equal(a, b);
    }));
    fc.assert(fc.property(name, name, name, (a, b, c) => {
      if (compareNames(a, b) < 0 && compareNames(b, c) < 0) assert.ok(compareNames(a, c) < 0);
    }));
  });
});

describe('walkRepositories', () => {
  async function driverWith(repos: Record<string, string[]>) {
    const driver = wrapDriver(new MemoryDriver());
    for (const [name, specials] of Object.entries(repos)) {
      for (const special of specials) await driver.putContent(`${REPOSITORIES_ROOT}/${name}/${special}/marker`, Buffer.from('x'));
    }
    return driver;
  }
  async function names(driver: Awaited<ReturnType<typeof driverWith>>, after?: string) {
    const out: { name: string; special: readonly string[] }[] = [];
    for await (const repo of walkRepositories(driver, { after })) out.push(repo);
    return out;
  }

  it('yields repositories in component order with their `_` children, not descending into them', async () => {
    const driver = await driverWith({ 'a-c': ['_layers'], a: ['_manifests', '_uploads'], 'a/b': ['_layers'], b: ['_uploads'] });
    assert.deepEqual(await names(driver), [
      { name: 'a', special: ['_manifests', '_uploads'] },
      { name: 'a/b', special: ['_layers'] },
      { name: 'a-c', special: ['_layers'] },
      { name: 'b', special: ['_uploads'] },
    ]);
  });

  it('after: skips up to and including the name, in component order', async () => {
    const driver = await driverWith({ a: ['_layers'], 'a/b': ['_layers'], 'a/b/c': ['_layers'], 'a-c': ['_layers'], b: ['_layers'] });
    assert.deepEqual((await names(driver, 'a/b')).map((r) => r.name), ['a/b/c', 'a-c', 'b']);
    assert.deepEqual((await names(driver, 'a/b/c')).map((r) => r.name), ['a-c', 'b']);
    assert.deepEqual((await names(driver, 'a-b')).map((r) => r.name), ['a-c', 'b']);
    assert.deepEqual((await names(driver, 'zzz')).map((r) => r.name), []);
    assert.deepEqual((await names(driver, '../..')).map((r) => r.name), ['a', 'a/b', 'a/b/c', 'a-c', 'b']);
  });

  it('an empty storage yields nothing', async () => {
    assert.deepEqual(await names(wrapDriver(new MemoryDriver())), []);
  });

  it('stops when the signal is aborted', async () => {
    const driver = await driverWith({ a: ['_layers'], b: ['_layers'] });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(async () => {
      for await (const _ of walkRepositories(driver, { signal: controller.signal })) void _;
    });
  });
});
