import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { FilesystemDriver } from '../../src/storage/filesystem/filesystem-driver.js';
import { DIRECT_FROM_BYTES } from '../../src/storage/filesystem/filesystem-writer.js';
import { WriteThread, writeThread } from '../../src/storage/filesystem/write-thread.js';

/** `bytes` in pieces of `size` (the last one shorter). */
function piecesOf(bytes: Buffer, size: number): Buffer[] {
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

/** A Buffer that is the whole of its own ArrayBuffer, as a request body's chunks are. */
function owned(bytes: number): Buffer {
  const b = Buffer.from(new ArrayBuffer(bytes));
  b.set(randomBytes(bytes));
  return b;
}

describe('the filesystem write thread', () => {
  let dir: string;
  const thread = new WriteThread();
  before(async () => {
    dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-write-thread-'));
  });
  after(async () => {
    await thread.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('appends every chunk in order, moving handed-over chunks and copying the others', async () => {
    const file = nodePath.join(dir, 'a');
    const fh = await fs.open(file, 'a');
    const whole = [owned(100_000), owned(1)];
    const slice = Buffer.from('a slice of the shared pool'); // byteOffset ≠ 0 or a larger pool
    const expected = Buffer.concat([...whole, slice, Buffer.from('kept')]);
    const kept = Buffer.from('kept');
    assert.equal(await thread.write(fh.fd, [...whole, slice], true), expected.length - 4);
    assert.equal(await thread.write(fh.fd, [kept], false), 4);
    await fh.close();
    assert.deepEqual(await fs.readFile(file), expected);
    // Moved: the caller's views are empty. Copied: still the caller's.
    assert.deepEqual(whole.map((b) => b.length), [0, 0]);
    assert.equal(slice.toString(), 'a slice of the shared pool');
    assert.equal(kept.toString(), 'kept');
  });

  it('moves a chunk written twice in one batch once, and writes it twice', async () => {
    const file = nodePath.join(dir, 'twice');
    const fh = await fs.open(file, 'a');
    const chunk = owned(1000);
    const expected = Buffer.concat([chunk, chunk]);
    assert.equal(await thread.write(fh.fd, [chunk, chunk], true), 2000);
    await fh.close();
    assert.deepEqual(await fs.readFile(file), expected);
  });

  it('never moves a chunk the caller did not hand over', async () => {
    const file = nodePath.join(dir, 'b');
    const fh = await fs.open(file, 'a');
    const chunk = owned(65_536);
    const copy = Buffer.from(chunk);
    await thread.write(fh.fd, [chunk], false);
    await fh.close();
    assert.deepEqual(chunk, copy);
    assert.deepEqual(await fs.readFile(file), copy);
  });

  it('fails a write with the errno of write(2)', async () => {
    const file = nodePath.join(dir, 'c');
    await fs.writeFile(file, '');
    const fh = await fs.open(file, 'r');
    await assert.rejects(thread.write(fh.fd, [Buffer.from('x')], false), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
    await fh.close();
  });

  it('starts again after the thread stopped', async () => {
    await thread.stop();
    const file = nodePath.join(dir, 'd');
    const fh = await fs.open(file, 'a');
    assert.equal(await thread.write(fh.fd, [Buffer.from('again')], false), 5);
    await fh.close();
    assert.equal(await fs.readFile(file, 'utf8'), 'again');
  });

  it('keeps a process alive while it writes, and not after', () => {
    // A script whose last act is a write: it must finish the write, then exit on its own.
    const module = new URL('../../src/storage/filesystem/write-thread.js', import.meta.url).href;
    const file = nodePath.join(dir, 'e');
    const script = `
      import fs from 'node:fs';
      import { writeThread } from ${JSON.stringify(module)};
      const fd = fs.openSync(${JSON.stringify(file)}, 'a');
      writeThread.write(fd, [Buffer.alloc(4 << 20, 7)], false).then((n) => console.log('wrote', n));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), `wrote ${4 << 20}`);
  });
});

describe('FilesystemWriter and the write thread', () => {
  let root: string;
  let driver: FilesystemDriver;
  before(async () => {
    root = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-fs-writer-'));
    driver = await FilesystemDriver.open({ rootDirectory: root });
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('stores a body handed over chunk by chunk, batches and all, and empties the chunks', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => owned(i === 39 ? 12_345 : 65_536));
    const expected = Buffer.concat(chunks);
    const writer = await driver.writer('/handed/over', { handOverChunks: true });
    await pipeline(Readable.from(chunks), writer);
    await writer.commit();
    assert.equal(writer.size, expected.length);
    assert.deepEqual(await driver.getContent('/handed/over'), expected);
    assert.ok(chunks.every((c) => c.length === 0), 'handed-over chunks moved to the thread');
  });

  it('leaves the chunks of a caller that did not hand them over as they were', async () => {
    const chunks = Array.from({ length: 8 }, () => owned(65_536));
    const copies = chunks.map((c) => Buffer.from(c));
    const writer = await driver.writer('/not/handed');
    await pipeline(Readable.from(chunks), writer);
    await writer.commit();
    assert.deepEqual(chunks, copies);
    assert.deepEqual(await driver.getContent('/not/handed'), Buffer.concat(copies));
  });

  it('stores what it took before being destroyed, so the upload resumes at the stored size', async () => {
    const writer = await driver.writer('/cut/data', { handOverChunks: true });
    writer.write(owned(100_000)); // less than a batch: still gathering when the body is cut
    writer.write(owned(300_000)); // a full batch: with the thread when the body is cut
    await new Promise((resolve) => setImmediate(resolve));
    const closed = new Promise((resolve) => writer.once('close', resolve));
    writer.destroy(new Error('client went away'));
    writer.on('error', () => {});
    await closed;
    assert.equal((await driver.stat('/cut/data')).size, 400_000);
    const resumed = await driver.writer('/cut/data', { append: true });
    assert.equal(resumed.size, 400_000);
    await resumed.cancel();
  });

  /**
   * Counts the batches the process's write thread takes, with O_DIRECT and through the page cache,
   * while `fn` runs, and the most of each that were with it at once.
   */
  async function batchesSent(fn: () => Promise<void>): Promise<{ direct: number; mostDirect: number; mostAppends: number }> {
    const { writeDirect, write } = writeThread;
    let direct = 0;
    const pending = { direct: 0, appends: 0 };
    const most = { direct: 0, appends: 0 };
    const counted = (kind: 'direct' | 'appends', sent: Promise<number>): Promise<number> => {
      pending[kind]++;
      most[kind] = Math.max(most[kind], pending[kind]);
      return sent.finally(() => pending[kind]--);
    };
    writeThread.writeDirect = function (this: WriteThread, ...args: Parameters<WriteThread['writeDirect']>) {
      direct++;
      return counted('direct', writeDirect.apply(this, args));
    };
    writeThread.write = function (this: WriteThread, ...args: Parameters<WriteThread['write']>) {
      return counted('appends', write.apply(this, args));
    };
    try {
      await fn();
    } finally {
      // The methods live on the prototype: taking the patches off restores them.
      delete (writeThread as Partial<WriteThread>).writeDirect;
      delete (writeThread as Partial<WriteThread>).write;
    }
    return { direct, mostDirect: most.direct, mostAppends: most.appends };
  }

  it('goes on with O_DIRECT past the threshold, mid-block, and a later writer continues the file', { timeout: 60_000 }, async () => {
    const first = randomBytes(DIRECT_FROM_BYTES + 3 * 65_536 + 333);
    const more = randomBytes(2 * 1024 * 1024 + 4097);
    const sent = await batchesSent(async () => {
      // Chunks of an odd size, so the switch comes at an offset that is not a whole block.
      const writer = await driver.writer('/big/data', { handOverChunks: true });
      const chunks = piecesOf(first, 65_533);
      await pipeline(Readable.from(chunks), writer);
      // A second request (a PATCH) continues it, with O_DIRECT from its first byte.
      const resumed = await driver.writer('/big/data', { append: true });
      assert.equal(resumed.size, first.length);
      await pipeline(Readable.from([more.subarray(0, 1000), ...piecesOf(more.subarray(1000), 65_533)]), resumed);
      await resumed.commit();
    });
    assert.ok(sent.direct > 0, 'bytes past the threshold went with O_DIRECT');
    assert.ok(sent.mostDirect > 1, `direct batches queue at the write thread (at most ${sent.mostDirect} at once)`);
    assert.equal(sent.mostAppends, 1, 'appends go one at a time');
    const stored = await fs.readFile(nodePath.join(root, 'big/data'));
    assert.equal(stored.length, first.length + more.length);
    assert.ok(stored.equals(Buffer.concat([first, more])), 'every byte where it belongs');
    const reader = await driver.reader('/big/data', { offset: 12_345 });
    const read: Buffer[] = [];
    for await (const chunk of reader) read.push(Buffer.from(chunk as Buffer));
    assert.ok(Buffer.concat(read).equals(stored.subarray(12_345)), 'a large range reads back the same');
    await driver.delete('/big');
  });

  it('writes through the page cache below the threshold, and above it where O_DIRECT is off', { timeout: 60_000 }, async () => {
    const plain = await FilesystemDriver.open({ rootDirectory: nodePath.join(root, 'plain'), directIo: false });
    const big = randomBytes(DIRECT_FROM_BYTES + 100_000);
    const small = randomBytes(DIRECT_FROM_BYTES - 100_000);
    const sent = await batchesSent(async () => {
      const off = await plain.writer('/off');
      await pipeline(Readable.from([big]), off);
      await off.commit();
      const below = await driver.writer('/below');
      await pipeline(Readable.from([small]), below);
      await below.commit();
    });
    assert.equal(sent.direct, 0);
    assert.equal(sent.mostAppends, 1, 'appends go one at a time');
    assert.ok((await fs.readFile(nodePath.join(root, 'plain/off'))).equals(big));
    assert.ok((await fs.readFile(nodePath.join(root, 'below'))).equals(small));
    await fs.rm(nodePath.join(root, 'plain'), { recursive: true });
    await driver.delete('/below');
  });
});
