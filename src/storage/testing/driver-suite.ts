/**
 * The shared storage driver suite (DESIGN §3, §7): every driver runs it, behind the base wrapper.
 *
 * Each test works under its own prefix, and an afterEach check fails the test when it leaves a
 * file behind (empty directories are allowed: a filesystem keeps them, an object store has none).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { wrapDriver } from '../base.js';
import {
  InvalidOffsetError,
  InvalidPathError,
  MAX_CONTENT_SIZE,
  PathNotFoundError,
  StorageError,
  type FileWriter,
  type StorageDriver,
} from '../driver.js';

const MiB = 1024 * 1024;

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Writes one chunk and waits until the writer has taken it. */
export function write(w: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => w.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Ends a writer and waits until what it took is stored. */
export async function endWriter(w: Writable): Promise<void> {
  w.end();
  await finished(w);
}

/** Every file below `path` (not directories), depth first. */
export async function filesUnder(driver: StorageDriver, path: string): Promise<string[]> {
  let children: string[];
  try {
    children = await collect(driver.list(path));
  } catch (err) {
    if (err instanceof PathNotFoundError) return [];
    throw err;
  }
  const files: string[] = [];
  for (const child of children) {
    if ((await driver.stat(child)).isDirectory) files.push(...(await filesUnder(driver, child)));
    else files.push(child);
  }
  return files;
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof PathNotFoundError)) throw err;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * What a store behind a driver is known to lack, each with the reason, so that the test of it is
 * reported as skipped with that reason (never silently), or better replaced by a test of that part
 * another way whose name says so, and the gap is said out loud.
 */
export interface StoreGaps {
  /**
   * The store replaces an object in place, so a concurrent reader may see a mix (an emulator's flaw):
   * the reason (the test is skipped with it), or the reason and a test of that part another way,
   * run in the suite in its place.
   */
  readonly atomicOverwrite?: string | StoreGap;
}

export interface StoreGap {
  readonly reason: string;
  /** What checks it instead, for the test's name. */
  readonly checkedBy: string;
  readonly instead: () => Promise<void>;
}

/** Concurrent putContent to one path while readers read it: every read must see one complete version. */
export async function checkConcurrentPutContent(driver: StorageDriver, path: string): Promise<void> {
  const version = (v: number): Buffer => Buffer.alloc(200_000 + v * 4099, v + 1);
  const check = (buf: Buffer): void => {
    const v = (buf[0] ?? 0) - 1;
    assert.ok(v >= 0 && v < 24, `a read saw byte ${buf[0]}`);
    assert.ok(buf.equals(version(v)), `a read saw ${buf.length} bytes, not version ${v}`);
  };
  await driver.putContent(path, version(0));
  let done = false;
  let reads = 0;
  const readers = Array.from({ length: 4 }, async (_, i) => {
    do {
      check(i % 2 ? await driver.getContent(path) : await readAll(await driver.reader(path)));
      reads++;
    } while (!done);
  });
  const writers = Array.from({ length: 23 }, (_, v) => driver.putContent(path, version(v + 1)));
  await Promise.all(writers).finally(() => (done = true));
  await Promise.all(readers);
  assert.ok(reads >= 4);
  check(await driver.getContent(path));
}

export function driverSuite(
  name: string,
  makeDriver: () => Promise<{ driver: StorageDriver; cleanup(): Promise<void> }>,
  gaps: StoreGaps = {},
): void {
  describe(`storage driver suite: ${name}`, () => {
    const top = `/wharf-driver-suite-${randomBytes(4).toString('hex')}`;
    let driver: StorageDriver;
    let cleanup: (() => Promise<void>) | undefined;
    let prefix = '';
    let counter = 0;
    const p = (rel: string): string => `${prefix}/${rel}`;

    before(async () => {
      const made = await makeDriver();
      driver = wrapDriver(made.driver);
      cleanup = () => made.cleanup();
    });
    after(async () => {
      if (driver) await driver.delete(top).catch(ignoreNotFound);
      await cleanup?.();
    });
    beforeEach(() => {
      prefix = `${top}/t${++counter}`;
    });
    afterEach(async () => {
      const left = await filesUnder(driver, prefix);
      await driver.delete(prefix).catch(ignoreNotFound);
      assert.deepEqual(left, [], `the test left files behind under ${prefix}`);
    });

    it('puts and gets content: text, empty, binary', async () => {
      const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
      for (const [rel, content] of [['text', Buffer.from('sha256:abc')], ['empty', Buffer.alloc(0)], ['binary', binary]] as const) {
        await driver.putContent(p(rel), content);
        assert.deepEqual(await driver.getContent(p(rel)), content);
        const info = await driver.stat(p(rel));
        assert.equal(info.size, content.length);
        assert.equal(info.isDirectory, false);
        await driver.delete(p(rel));
      }
      await assert.rejects(driver.getContent(p('missing')), PathNotFoundError);
      await driver.putContent(p('dir/file'), Buffer.from('x'));
      await assert.rejects(driver.getContent(p('dir')), PathNotFoundError);
      await driver.delete(p('dir'));
    });

    it('overwrites content, shorter after longer, and keeps a copy of what it was given', async () => {
      const path = p('a/b/link');
      const source = Buffer.from('a much longer first version');
      await driver.putContent(path, source);
      source.fill(0);
      assert.equal((await driver.getContent(path)).toString(), 'a much longer first version');
      await driver.putContent(path, Buffer.from('v2'));
      assert.equal((await driver.getContent(path)).toString(), 'v2');
      assert.equal((await driver.stat(path)).size, 2);
      await driver.delete(p('a'));
    });

    it('refuses putContent and getContent beyond MAX_CONTENT_SIZE', async () => {
      await assert.rejects(driver.putContent(p('huge'), Buffer.alloc(MAX_CONTENT_SIZE + 1)), StorageError);
      await assert.rejects(driver.stat(p('huge')), PathNotFoundError);
      const w = await driver.writer(p('big'));
      const block = Buffer.alloc(4 * MiB, 1);
      for (let i = 0; i < MAX_CONTENT_SIZE / block.length; i++) await write(w, block);
      await write(w, Buffer.from('!'));
      await w.commit();
      await assert.rejects(driver.getContent(p('big')), StorageError);
      await driver.delete(p('big'));
    });

    it('streams 24 MiB in odd-sized chunks and reads it back intact, whole and as a range', async () => {
      const path = p('blobs/large/data');
      const total = 24 * MiB;
      const [rangeStart, rangeLength] = [10 * MiB + 12_345, 3 * MiB + 7];
      const whole = createHash('sha256');
      const range = createHash('sha256');
      const sizes = [1, 4093, 65_537, 1_048_579, 333_331, 17];
      async function* source(): AsyncGenerator<Buffer> {
        for (let pos = 0, i = 0; pos < total; i++) {
          const chunk = randomBytes(Math.min(sizes[i % sizes.length]!, total - pos));
          whole.update(chunk);
          const from = Math.max(rangeStart - pos, 0);
          const to = Math.min(rangeStart + rangeLength - pos, chunk.length);
          if (from < to) range.update(chunk.subarray(from, to));
          pos += chunk.length;
          yield chunk;
        }
      }
      const w = await driver.writer(path);
      await pipeline(source(), w);
      await w.commit();
      assert.equal(w.size, total);
      assert.equal((await driver.stat(path)).size, total);
      assert.deepEqual(await digestOf(await driver.reader(path)), { sha256: whole.digest('hex'), size: total });
      const part = await digestOf(await driver.reader(path, { offset: rangeStart, length: rangeLength }));
      assert.deepEqual(part, { sha256: range.digest('hex'), size: rangeLength });
      await driver.delete(p('blobs'));
    });

    it('reads from offsets and for lengths', async () => {
      const path = p('offsets');
      const content = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
      const w = await driver.writer(path);
      for (let i = 0; i < content.length; i += 7) await write(w, content.subarray(i, i + 7));
      await w.commit();
      const read = async (offset?: number, length?: number): Promise<Buffer> =>
        readAll(await driver.reader(path, { ...(offset === undefined ? {} : { offset }), ...(length === undefined ? {} : { length }) }));
      assert.deepEqual(await read(), content);
      assert.deepEqual(await read(0), content);
      assert.deepEqual(await read(37), content.subarray(37));
      assert.deepEqual(await read(100), Buffer.alloc(0));
      assert.deepEqual(await read(10, 20), content.subarray(10, 30));
      assert.deepEqual(await read(90, 50), content.subarray(90));
      assert.deepEqual(await read(50, 0), Buffer.alloc(0));
      assert.deepEqual(await read(100, 5), Buffer.alloc(0));
      await assert.rejects(read(101), InvalidOffsetError);
      await assert.rejects(read(-1), InvalidOffsetError);
      await assert.rejects(driver.reader(p('missing')), PathNotFoundError);
      await driver.delete(path);
    });

    it('appends across writers: end(), then writer(append) resumes at the stored size', async () => {
      const path = p('_uploads/u1/data');
      const w1 = await driver.writer(path);
      assert.equal(w1.size, 0);
      await write(w1, 'hello ');
      await endWriter(w1);
      assert.equal(w1.size, 6);
      assert.equal((await driver.stat(path)).size, 6);
      const w2 = await driver.writer(path, { append: true });
      assert.equal(w2.size, 6);
      await write(w2, 'wor');
      await endWriter(w2);
      const w3 = await driver.writer(path, { append: true });
      assert.equal(w3.size, 9);
      await write(w3, 'ld');
      assert.equal(w3.size, 11);
      await w3.commit();
      assert.equal((await driver.getContent(path)).toString(), 'hello world');
      // Without append, a writer starts the file anew; with append, a missing file starts empty.
      const w4 = await driver.writer(path);
      assert.equal(w4.size, 0);
      await write(w4, 'new');
      await w4.commit();
      assert.equal((await driver.getContent(path)).toString(), 'new');
      const w5 = await driver.writer(p('fresh'), { append: true });
      assert.equal(w5.size, 0);
      await w5.commit();
      await driver.delete(p('_uploads'));
      await driver.delete(p('fresh'));
    });

    it('commits before and after end; commit is idempotent; empty files commit', async () => {
      const before = await driver.writer(p('before'));
      await write(before, 'abc');
      await before.commit();
      await before.commit();
      const after = await driver.writer(p('after'));
      await write(after, 'def');
      await endWriter(after);
      await after.commit();
      const empty = await driver.writer(p('empty'));
      await empty.commit();
      assert.equal((await driver.getContent(p('before'))).toString(), 'abc');
      assert.equal((await driver.getContent(p('after'))).toString(), 'def');
      assert.equal((await driver.getContent(p('empty'))).length, 0);
      assert.deepEqual(await collect(driver.list(prefix)), [p('after'), p('before'), p('empty')]);
      assert.equal((await driver.stat(p('empty'))).size, 0);
      await assert.rejects(before.cancel(), StorageError);
      for (const f of ['before', 'after', 'empty']) await driver.delete(p(f));
    });

    it('cancel removes the file, also one resumed by an append writer', async () => {
      const w = await driver.writer(p('x/data'));
      await write(w, randomBytes(10_000));
      await w.cancel();
      await assert.rejects(driver.stat(p('x/data')), PathNotFoundError);
      await assert.rejects(w.commit(), StorageError);
      const first = await driver.writer(p('y/data'));
      await write(first, 'part one');
      await endWriter(first);
      const second: FileWriter = await driver.writer(p('y/data'), { append: true });
      await write(second, 'part two');
      await second.cancel();
      await assert.rejects(driver.stat(p('y/data')), PathNotFoundError);
    });

    it('lists direct children, directories included, in ascending byte order', async () => {
      const names = ['b', 'B', 'a-1', 'a.1', 'a1', 'a:1', 'a_1', 'z', 'Z9'];
      for (const n of names) await driver.putContent(p(`l/${n}`), Buffer.from(n));
      await driver.putContent(p('l/dir/x'), Buffer.from('x'));
      await driver.putContent(p('l/dir/sub/y'), Buffer.from('y'));
      const expected = [...names, 'dir'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))).map((n) => p(`l/${n}`));
      assert.deepEqual(await collect(driver.list(p('l'))), expected);
      assert.deepEqual(await collect(driver.list(p('l/dir'))), [p('l/dir/sub'), p('l/dir/x')]);
      assert.equal((await driver.stat(p('l/dir'))).isDirectory, true);
      assert.ok((await collect(driver.list('/'))).includes(top), 'list("/") shows the top directory');
      await assert.rejects(collect(driver.list(p('l/missing'))), PathNotFoundError);
      await assert.rejects(collect(driver.list(p('l/b'))), PathNotFoundError);
      await driver.delete(p('l/dir'));
      assert.ok(!(await collect(driver.list(p('l')))).includes(p('l/dir')));
      await driver.delete(p('l'));
    });

    it('moves a file: creates parents, replaces the target, source gone; missing source fails', async () => {
      await driver.putContent(p('up/data'), Buffer.from('blob'));
      await driver.move(p('up/data'), p('blobs/sha256/ab/abcd/data'));
      assert.equal((await driver.getContent(p('blobs/sha256/ab/abcd/data'))).toString(), 'blob');
      await assert.rejects(driver.stat(p('up/data')), PathNotFoundError);
      await driver.putContent(p('old'), Buffer.from('old content, longer'));
      await driver.putContent(p('new'), Buffer.from('new'));
      await driver.move(p('new'), p('old'));
      assert.equal((await driver.getContent(p('old'))).toString(), 'new');
      await assert.rejects(driver.stat(p('new')), PathNotFoundError);
      await assert.rejects(driver.move(p('nothing'), p('old')), PathNotFoundError);
      assert.equal((await driver.getContent(p('old'))).toString(), 'new');
      await driver.delete(p('blobs'));
      await driver.delete(p('old'));
      await driver.delete(p('up')).catch(ignoreNotFound);
    });

    it('deletes a file, a directory recursively; missing fails', async () => {
      await driver.putContent(p('d/keep'), Buffer.from('k'));
      await driver.putContent(p('d/gone'), Buffer.from('g'));
      await driver.delete(p('d/gone'));
      await assert.rejects(driver.stat(p('d/gone')), PathNotFoundError);
      assert.equal((await driver.getContent(p('d/keep'))).toString(), 'k');
      for (const f of ['r/a', 'r/sub/b', 'r/sub/deeper/c']) await driver.putContent(p(f), Buffer.from(f));
      await driver.delete(p('r'));
      for (const f of ['r', 'r/a', 'r/sub', 'r/sub/deeper/c']) await assert.rejects(driver.stat(p(f)), PathNotFoundError);
      await assert.rejects(driver.delete(p('r')), PathNotFoundError);
      await assert.rejects(driver.delete(p('never')), PathNotFoundError);
      await driver.delete(p('d'));
    });

    it('stats files and directories', async () => {
      const t0 = Date.now();
      await driver.putContent(p('s/dir/file'), Buffer.from('12345'));
      const file = await driver.stat(p('s/dir/file'));
      assert.equal(file.path, p('s/dir/file'));
      assert.equal(file.size, 5);
      assert.equal(file.isDirectory, false);
      assert.ok(file.modTime instanceof Date && Math.abs(file.modTime.getTime() - t0) < 60_000);
      const dir = await driver.stat(p('s/dir'));
      assert.equal(dir.path, p('s/dir'));
      assert.equal(dir.isDirectory, true);
      await assert.rejects(driver.stat(p('s/missing')), PathNotFoundError);
      await assert.rejects(driver.stat(p('s/dir/file/below')), PathNotFoundError);
      await driver.delete(p('s'));
    });

    it('rejects invalid paths in every method, and accepts every allowed character', async () => {
      const bad = ['', 'a/b', '/a/../b', '/a//b', '/a/./b', '/a b', '/a\\b', '/%2e%2e', '/', '/a/', '/..', '/.', '/é', '/a\0b'];
      const good = p('ok');
      const bytes = Buffer.from('x');
      for (const path of bad) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['stat', () => driver.stat(path)],
          ['getContent', () => driver.getContent(path)],
          ['putContent', () => driver.putContent(path, bytes)],
          ['reader', () => driver.reader(path)],
          ['writer', () => driver.writer(path)],
          ['move from', () => driver.move(path, good)],
          ['move to', () => driver.move(good, path)],
          ['delete', () => driver.delete(path)],
        ];
        if (driver.redirectURL) calls.push(['redirectURL', () => driver.redirectURL!(path, 'GET')]);
        if (path !== '/') calls.push(['list', () => collect(driver.list(path))]);
        for (const [method, call] of calls) {
          await assert.rejects(call(), InvalidPathError, `${method}(${JSON.stringify(path)})`);
        }
      }
      const odd = p('A-z_0.9:x/..b/.c');
      await driver.putContent(odd, bytes);
      assert.deepEqual(await driver.getContent(odd), bytes);
      await driver.delete(p('A-z_0.9:x'));
    });

    const overwrite = gaps.atomicOverwrite;
    const overwriteTitle = 'concurrent putContent to one path: every read sees one complete version';
    if (typeof overwrite === 'object') {
      it(`${overwriteTitle}: ${name}: ${overwrite.reason}; checked instead ${overwrite.checkedBy}`, () => overwrite.instead());
    } else {
      it(overwriteTitle, overwrite ? { skip: `${name}: ${overwrite}` } : {}, async () => {
        await checkConcurrentPutContent(driver, p('tags/latest/current/link'));
        await driver.delete(p('tags'));
      });
    }

    it('concurrent writers to distinct paths keep their own bytes', async () => {
      const count = 12;
      const blocks = Array.from({ length: count }, () => Array.from({ length: 20 }, () => randomBytes(16_411)));
      await Promise.all(
        blocks.map(async (chunks, i) => {
          const w = await driver.writer(p(`w/${i}/data`));
          for (const chunk of chunks) await write(w, chunk);
          await w.commit();
        }),
      );
      for (let i = 0; i < count; i++) assert.deepEqual(await driver.getContent(p(`w/${i}/data`)), Buffer.concat(blocks[i]!));
      await driver.delete(p('w'));
    });

    it('rejects calls with an aborted signal, and an abort stops a reader', async () => {
      const controller = new AbortController();
      controller.abort();
      const signal = controller.signal;
      const path = p('abort/data');
      const calls: Array<() => Promise<unknown>> = [
        () => driver.stat(path, { signal }),
        () => driver.getContent(path, { signal }),
        () => driver.putContent(path, Buffer.from('x'), { signal }),
        () => driver.reader(path, { signal }),
        () => driver.writer(path, { signal }),
        () => collect(driver.list(prefix, { signal })),
        () => driver.move(path, p('elsewhere'), { signal }),
        () => driver.delete(path, { signal }),
      ];
      for (const call of calls) await assert.rejects(call(), isAbort);
      await assert.rejects(driver.stat(path), PathNotFoundError); // nothing was written

      await driver.putContent(path, randomBytes(4 * MiB));
      const live = new AbortController();
      const reader = await driver.reader(path, { signal: live.signal });
      const iterator = reader[Symbol.asyncIterator]();
      assert.equal((await iterator.next()).done, false);
      live.abort();
      await assert.rejects(iterator.next(), isAbort);
      assert.equal(reader.destroyed, true);
      await driver.delete(p('abort'));
    });
  });
}
