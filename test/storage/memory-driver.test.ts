import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wrapDriver } from '../../src/storage/base.js';
import { PathNotFoundError, StorageError } from '../../src/storage/driver.js';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { collect, driverSuite, endWriter, readAll, write } from '../../src/storage/testing/driver-suite.js';

driverSuite('inmemory', async () => ({ driver: new MemoryDriver(), cleanup: async () => {} }));

describe('MemoryDriver specifics', () => {
  it('keeps the bytes of a writer destroyed mid-stream, resumable by append', async () => {
    const d = wrapDriver(new MemoryDriver());
    const w = await d.writer('/u/data');
    w.on('error', () => {});
    await write(w, Buffer.from('0123456789'));
    w.destroy(new Error('client went away'));
    await new Promise((resolve) => w.once('close', resolve));
    assert.equal((await d.stat('/u/data')).size, 10);
    const again = await d.writer('/u/data', { append: true });
    assert.equal(again.size, 10);
    await write(again, 'ab');
    await again.commit();
    assert.equal((await d.getContent('/u/data')).toString(), '0123456789ab');
  });

  it('copies written chunks: reusing a buffer after the write does not change the file', async () => {
    const d = wrapDriver(new MemoryDriver());
    const w = await d.writer('/f');
    const buf = Buffer.from('aaaa');
    await write(w, buf);
    buf.fill('b');
    await write(w, buf);
    await w.commit();
    assert.equal((await d.getContent('/f')).toString(), 'aaaabbbb');
  });

  it('a reader keeps the snapshot it started with while the file is appended to or replaced', async () => {
    const d = wrapDriver(new MemoryDriver());
    const w = await d.writer('/f');
    await write(w, 'first ');
    await endWriter(w);
    const reader = await d.reader('/f');
    const w2 = await d.writer('/f', { append: true });
    await write(w2, 'second');
    await w2.commit();
    await d.putContent('/f', Buffer.from('replaced'));
    assert.equal((await readAll(reader)).toString(), 'first ');
  });

  it('directories vanish with their last file, and list stays correct with 20k files', async () => {
    const d = wrapDriver(new MemoryDriver());
    const names = Array.from({ length: 20_000 }, (_, i) => `f${String(i).padStart(5, '0')}`);
    for (const n of [...names].reverse()) await d.putContent(`/big/${n}`, Buffer.from(n));
    const listed = await collect(d.list('/big'));
    assert.equal(listed.length, names.length);
    assert.deepEqual(listed.slice(0, 2), ['/big/f00000', '/big/f00001']);
    await d.putContent('/a/b/c/file', Buffer.from('x'));
    await d.delete('/a/b/c/file');
    await assert.rejects(d.stat('/a'), PathNotFoundError);
    assert.deepEqual(await collect(d.list('/')), ['/big']);
  });

  it('refuses to put a file where a directory is, and below a file', async () => {
    const d = wrapDriver(new MemoryDriver());
    await d.putContent('/a/b', Buffer.from('x'));
    await assert.rejects(d.putContent('/a', Buffer.from('y')), StorageError);
    await assert.rejects(d.putContent('/a/b/c', Buffer.from('y')), StorageError);
    assert.equal((await d.getContent('/a/b')).toString(), 'x');
  });

  it('createStorageDriver builds a wrapped inmemory driver and names the known drivers otherwise', async () => {
    const d = await createStorageDriver('inmemory', {});
    assert.equal(d.name, 'inmemory');
    await assert.rejects(d.stat('../x'), (err: unknown) => err instanceof StorageError && err.name === 'InvalidPathError');
    await assert.rejects(createStorageDriver('s4', {}), /unknown storage driver "s4".*filesystem, inmemory/);
  });
});

describe('CheckedDriver', () => {
  class Failing extends MemoryDriver {
    seen: string[] = [];
    override async stat(path: string): Promise<never> {
      this.seen.push(path);
      throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
    }
  }

  it('turns a plain error into a StorageError naming driver, operation and path, cause kept', async () => {
    const inner = new Failing();
    const d = wrapDriver(inner);
    const err: unknown = await d.stat('/x/y').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageError);
    assert.match(err.message, /inmemory: stat \/x\/y: disk on fire/);
    assert.equal(err.path, '/x/y');
    assert.equal((err.cause as Error).message, 'disk on fire');
    await assert.rejects(d.stat('/x/../y'), (e: unknown) => e instanceof StorageError && e.name === 'InvalidPathError');
    assert.deepEqual(inner.seen, ['/x/y'], 'the inner driver never saw the invalid path');
    assert.equal(wrapDriver(d), d, 'wrapping is idempotent');
  });
});
