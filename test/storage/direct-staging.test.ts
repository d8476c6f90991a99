/**
 * The staging of files written with O_DIRECT (src/storage/filesystem/direct-staging.ts), on real
 * files: bytes in pieces of any size end up exactly in the file, an upload continued at a size
 * that is not a whole block keeps its last block, slots go back, the chunks taken are emptied, and
 * a failed disk write fails every later call.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlignedSlots } from '../../src/runtime/aligned-memory.js';
import { DirectStaging, SLOTS_PER_FILE, type DirectFile } from '../../src/storage/filesystem/direct-staging.js';

const SLOT = 64 * 1024;
let nextId = 0;

/** `bytes` split into pieces of the given sizes, in turn, each an ArrayBuffer of its own. */
function pieces(bytes: Buffer, sizes: readonly number[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, bytes.length - at);
    const piece = new ArrayBuffer(n);
    new Uint8Array(piece).set(bytes.subarray(at, at + n));
    out.push(piece);
    at += n;
  }
  return out;
}

describe('direct staging', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'wharf-direct-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Opens `name` as a writer does: the buffered descriptor, then the O_DIRECT one. */
  function open(name: string, append: boolean): DirectFile & { close(): void } {
    const path = join(dir, name);
    const bufferedFd = fs.openSync(path, append ? 'a' : 'w');
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_DIRECT);
    return { id: nextId++, fd, bufferedFd, size: fs.fstatSync(bufferedFd).size, close: () => (fs.closeSync(fd), fs.closeSync(bufferedFd)) };
  }

  it('stores bytes taken in pieces of any size exactly, the last partial block included', async () => {
    const slots = new AlignedSlots(SLOT);
    const file = open('odd', false);
    const content = randomBytes(5 * SLOT + 4321);
    const staging = new DirectStaging(file, slots);
    let taken = 0;
    for (const batch of [pieces(content.subarray(0, 100_000), [1, 4095, 70_001]), pieces(content.subarray(100_000), [65_536, 3, 200_000])]) {
      taken += await staging.take(batch);
    }
    assert.equal(taken, content.length);
    await staging.flush();
    await staging.close();
    file.close();
    assert.deepEqual(fs.readFileSync(join(dir, 'odd')), content);
    assert.equal(slots.inUse, 0, 'every slot given back');
  });

  it('continues a file that ends inside a block, keeping the bytes of that block', async () => {
    const slots = new AlignedSlots(SLOT);
    const first = randomBytes(3 * SLOT + 1000); // what an earlier request stored
    fs.writeFileSync(join(dir, 'resumed'), first);
    const file = open('resumed', true);
    assert.equal(file.size, first.length);
    const more = randomBytes(2 * SLOT + 77);
    const staging = new DirectStaging(file, slots);
    await staging.take(pieces(more, [10_000]));
    await staging.flush();
    // A flush in the middle of a block, and more after it, as two PATCH requests make.
    const last = randomBytes(5000);
    await staging.take(pieces(last, [5000]));
    await staging.flush();
    await staging.close();
    file.close();
    assert.deepEqual(fs.readFileSync(join(dir, 'resumed')), Buffer.concat([first, more, last]));
  });

  it('lets one file hold a few slots while others leave room, and one while they do not', async () => {
    const slots = new AlignedSlots(SLOT);
    const file = open('held', false);
    const staging = new DirectStaging(file, slots);
    await staging.take(pieces(randomBytes((SLOTS_PER_FILE + 2) * SLOT), [SLOT]));
    assert.ok(slots.inUse <= SLOTS_PER_FILE, `at most ${SLOTS_PER_FILE} slots: ${slots.inUse}`);
    await staging.flush();
    await staging.close();
    file.close();
    assert.equal(slots.inUse, 0);
  });

  it('gives back all but one slot once flushed, and takes more again if more bytes come', async () => {
    const slots = new AlignedSlots(SLOT);
    const file = open('spare', false);
    const staging = new DirectStaging(file, slots);
    const content = randomBytes((SLOTS_PER_FILE + 2) * SLOT + 100);
    await staging.take(pieces(content.subarray(0, (SLOTS_PER_FILE + 1) * SLOT), [SLOT]));
    assert.equal(slots.inUse, SLOTS_PER_FILE);
    await staging.flush();
    assert.equal(slots.inUse, 1, 'only the slot gathering is held after a flush');
    await staging.take(pieces(content.subarray((SLOTS_PER_FILE + 1) * SLOT), [SLOT]));
    await staging.flush();
    assert.equal(slots.inUse, 1);
    await staging.close();
    file.close();
    assert.equal(slots.inUse, 0);
    assert.deepEqual(fs.readFileSync(join(dir, 'spare')), content);
  });

  it('empties the chunks it took, so their memory is freed at once, and takes the same memory twice in one call', async () => {
    const slots = new AlignedSlots(SLOT);
    const file = open('released', false);
    const staging = new DirectStaging(file, slots);
    const content = randomBytes(3 * SLOT + 500);
    const chunks = pieces(content, [SLOT / 2, 3000]);
    const twice = pieces(randomBytes(700), [700])[0]!;
    const twiceBytes = Buffer.from(new Uint8Array(twice));
    assert.equal(await staging.take([...chunks, twice, twice]), content.length + 2 * twiceBytes.length);
    for (const chunk of [...chunks, twice]) assert.equal(chunk.byteLength, 0, 'the chunk is detached');
    await staging.flush();
    await staging.close();
    file.close();
    assert.deepEqual(fs.readFileSync(join(dir, 'released')), Buffer.concat([content, twiceBytes, twiceBytes]));
  });

  it('fails the flush and every later call once a disk write failed', async () => {
    const slots = new AlignedSlots(SLOT);
    const path = join(dir, 'readonly');
    fs.writeFileSync(path, '');
    const bufferedFd = fs.openSync(path, 'r');
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT); // writes fail: EBADF
    const staging = new DirectStaging({ id: nextId++, fd, bufferedFd, size: 0 }, slots);
    // Fills two slots, whose writes fail (the take itself may already see the first failure).
    await staging.take(pieces(randomBytes(2 * SLOT), [SLOT])).catch(() => {});
    await assert.rejects(staging.flush(), { code: 'EBADF' });
    await assert.rejects(staging.take(pieces(randomBytes(10), [10])), { code: 'EBADF' });
    await staging.close();
    fs.closeSync(fd);
    fs.closeSync(bufferedFd);
    assert.equal(slots.inUse, 0);
  });
});
