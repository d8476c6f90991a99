/**
 * The filesystem reader (file-reader.ts): byte ranges, a file cut short under it, its descriptor
 * closed on destroy, its pooled buffers reused only once recycled, and the same on a descriptor
 * open with O_DIRECT, which refuses reads that are not whole aligned blocks, with reads ahead.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileReader, giveDirectReadSlots, takeDirectReadSlots } from '../../src/storage/filesystem/file-reader.js';
import { RECYCLE } from '../../src/runtime/buffer-recycling.js';
import { v8Collector } from '../../src/runtime/garbage-relief.js';

const MiB = 1024 * 1024;

function slotsOrFail(): Buffer[] {
  const slots = takeDirectReadSlots();
  assert.ok(slots, 'slots for an O_DIRECT reader');
  return slots;
}

describe('filesystem file reader', () => {
  let dir: string;
  let file: string;
  let content: Buffer;

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'wharf-reader-'));
    file = join(dir, 'data');
    content = randomBytes(3 * MiB + 12345);
    await fs.writeFile(file, content);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** A buffered reader of the whole file, open until it ends or is destroyed. */
  async function wholeFile(): Promise<FileReader> {
    return new FileReader(await fs.open(file), 0, content.length, undefined);
  }

  /** `count` buffered readers of the whole file, none read yet. */
  function openReaders(count: number): Promise<FileReader[]> {
    return Promise.all(Array.from({ length: count }, wholeFile));
  }

  async function readAll(reader: FileReader, recycle: boolean): Promise<Buffer[]> {
    const chunks: Buffer[] = [];
    for await (const chunk of reader) {
      chunks.push(Buffer.from(chunk as Buffer)); // a copy: the chunk itself may be recycled
      if (recycle) reader[RECYCLE](chunk as Buffer);
    }
    return chunks;
  }

  it('streams exactly the range it was given, in reads of at most 1 MiB, and closes the file', async () => {
    const fh = await fs.open(file);
    const chunks = await readAll(new FileReader(fh, 1000, 2 * MiB + 7000, undefined), true);
    assert.ok(Buffer.concat(chunks).equals(content.subarray(1000, 2 * MiB + 7000)));
    assert.ok(chunks.every((c) => c.length <= MiB));
    assert.equal(fh.fd, -1, 'the descriptor was closed at the end');
  });

  it('ends at the end of a file that was cut short after it was opened', async () => {
    const short = join(dir, 'short');
    await fs.writeFile(short, content);
    const fh = await fs.open(short);
    await fs.truncate(short, MiB + 5);
    const chunks = await readAll(new FileReader(fh, 0, content.length, undefined), true);
    assert.ok(Buffer.concat(chunks).equals(content.subarray(0, MiB + 5)));
  });

  it('closes the file when destroyed mid-stream', async () => {
    const fh = await fs.open(file);
    const reader = new FileReader(fh, 0, content.length, undefined);
    await new Promise<void>((resolve) => reader.once('data', () => resolve()));
    reader.destroy();
    await new Promise((resolve) => reader.once('close', resolve));
    assert.equal(fh.fd, -1);
  });

  it('streams any range of a file open with O_DIRECT, reading whole aligned blocks', async () => {
    const direct = () => fs.open(file, fsConstants.O_RDONLY | fsConstants.O_DIRECT);
    for (const [start, end] of [[0, content.length], [1000, 2 * MiB + 7000], [4096, 8192], [MiB - 1, MiB + 1], [content.length - 3, content.length]] as const) {
      const fh = await direct();
      const chunks = await readAll(new FileReader(fh, start, end, undefined, slotsOrFail()), true);
      assert.ok(Buffer.concat(chunks).equals(content.subarray(start, end)), `bytes ${start}-${end}`);
      assert.ok(chunks.every((c) => c.length <= MiB));
      assert.equal(fh.fd, -1, 'the descriptor was closed at the end');
    }
    // The reads the reader makes are the only ones such a descriptor takes:
    const fh = await direct();
    await assert.rejects(fh.read(Buffer.alloc(4096), 0, 4096, 1000), { code: 'EINVAL' });
    await fh.close();
  });

  it('keeps the next O_DIRECT read in flight while a block goes out, and ends where a file cut short does', async () => {
    const fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_DIRECT);
    const read = fh.read.bind(fh) as (buffer: Buffer, offset: number, length: number, position: number) => Promise<{ bytesRead: number }>;
    let reading = 0;
    let most = 0;
    Object.assign(fh, {
      read: (buffer: Buffer, offset: number, length: number, position: number) => {
        most = Math.max(most, ++reading);
        return read(buffer, offset, length, position).finally(() => reading--);
      },
    });
    const chunks = await readAll(new FileReader(fh, 5000, content.length, undefined, slotsOrFail()), true);
    assert.ok(Buffer.concat(chunks).equals(content.subarray(5000)));
    assert.equal(most, 2, 'two reads at once');

    const short = join(dir, 'short-direct');
    await fs.writeFile(short, content);
    const cut = await fs.open(short, fsConstants.O_RDONLY | fsConstants.O_DIRECT);
    await fs.truncate(short, MiB + 5);
    const left = await readAll(new FileReader(cut, 1000, content.length, undefined, slotsOrFail()), true);
    assert.ok(Buffer.concat(left).equals(content.subarray(1000, MiB + 5)));
  });

  it('reads less than a pool buffer into memory of its own size, buffered or with O_DIRECT', async () => {
    /** The range's bytes, and the size of the memory behind each chunk. */
    async function memoryOf(start: number, end: number, direct: boolean): Promise<{ bytes: Buffer; memory: number[] }> {
      const flags = direct ? fsConstants.O_RDONLY | fsConstants.O_DIRECT : fsConstants.O_RDONLY;
      const chunks: Buffer[] = [];
      for await (const chunk of new FileReader(await fs.open(file, flags), start, end, undefined, direct ? slotsOrFail() : undefined)) chunks.push(chunk as Buffer);
      return { bytes: Buffer.concat(chunks), memory: chunks.map((c) => c.buffer.byteLength) };
    }
    for (const direct of [false, true]) {
      const small = await memoryOf(100, 4196, direct); // a small blob
      assert.ok(small.bytes.equals(content.subarray(100, 4196)));
      assert.ok(small.memory.every((m) => m < 64 * 1024), `a 4 KiB read took ${small.memory.join(', ')} bytes of memory`);
      const large = await memoryOf(0, MiB + 300, direct); // a whole read, then a short last one
      assert.ok(large.bytes.equals(content.subarray(0, MiB + 300)));
      assert.equal(large.memory[0], MiB, 'a whole read takes a pool buffer');
      assert.ok(large.memory[1]! < 64 * 1024, `the last 300 bytes took ${large.memory[1]} bytes of memory`);
    }
  });

  it('reads smaller chunks the more buffered readers are open, and 1 MiB again once they close', async () => {
    const open = await openReaders(40);
    // 41 readers: two chunks each must fit 16 MiB, so 128 KiB.
    const crowded = await readAll(await wholeFile(), true);
    assert.ok(Buffer.concat(crowded).equals(content));
    assert.equal(Math.max(...crowded.map((c) => c.length)), 128 * 1024);
    for (const reader of open) reader.destroy();
    await Promise.all(open.map((reader) => new Promise((resolve) => reader.once('close', resolve))));
    const alone = await readAll(await wholeFile(), true);
    assert.ok(Buffer.concat(alone).equals(content));
    assert.equal(Math.max(...alone.map((c) => c.length)), MiB);
  });

  it('stops counting a buffered reader that was dropped without being ended once it is collected', async () => {
    const collect = v8Collector();
    assert.ok(collect, "V8's collector");
    await openReaders(40); // dropped: neither read to the end nor destroyed (their descriptors go with them)
    const largest = async (): Promise<number> => Math.max(...(await readAll(await wholeFile(), true)).map((c) => c.length));
    assert.equal(await largest(), 128 * 1024, 'the dropped readers still count before they are collected');
    for (let attempt = 0; attempt < 20 && (await largest()) !== MiB; attempt++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await largest(), MiB);
  });

  it('reads one chunk ahead of a consumer that stopped, whatever the chunk size', async () => {
    for (const others of [0, 40]) {
      const open = await openReaders(others);
      const reader = await wholeFile();
      const first = await new Promise<Buffer>((resolve) => reader.once('data', (chunk: Buffer) => resolve(chunk)));
      reader.pause();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(reader.readableLength, first.length, `${others} other readers: one chunk read ahead`);
      for (const r of [reader, ...open]) r.destroy();
    }
  });

  it('gives O_DIRECT slots to four readers at once, and takes them back when a reader ends', async () => {
    const held = [slotsOrFail(), slotsOrFail(), slotsOrFail()];
    const fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_DIRECT);
    const fourth = new FileReader(fh, 0, content.length, undefined, slotsOrFail());
    assert.equal(takeDirectReadSlots(), undefined, 'a fifth reader gets none');
    const chunks = await readAll(fourth, true);
    assert.ok(Buffer.concat(chunks).equals(content));
    const again = takeDirectReadSlots();
    assert.ok(again, 'the ended reader gave its slots back');
    for (const slots of [...held, again]) giveDirectReadSlots(slots);
  });

  it('lends a buffer again only after it was recycled', async () => {
    const kept: Buffer[] = [];
    const first = await wholeFile();
    for await (const chunk of first) kept.push(chunk as Buffer); // not recycled: still ours
    const held = new Set(kept.map((c) => c.buffer));
    const second = await wholeFile();
    const seen: ArrayBufferLike[] = [];
    for await (const chunk of second) {
      seen.push((chunk as Buffer).buffer);
      second[RECYCLE](chunk as Buffer);
    }
    assert.ok(seen.every((m) => !held.has(m)), 'no chunk still held was lent again');
    assert.ok(Buffer.concat(kept).equals(content), 'the held chunks kept their bytes');
    assert.ok(new Set(seen).size < seen.length, 'recycled buffers were lent again');
  });
});
