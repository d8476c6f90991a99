/**
 * Aligned slots (src/runtime/aligned-memory.ts): each slot starts on a page, which the kernel
 * checks for O_DIRECT (a view 16 bytes in is refused), slots are reused once given back, and the
 * count of slots in use and of mapped bytes follows.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlignedSlots, SLOT_ALIGNMENT } from '../../src/runtime/aligned-memory.js';

describe('aligned slots', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'wharf-aligned-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes one block from `memory` with O_DIRECT; the errno code, or 'ok'. */
  function directWrite(memory: Buffer): string {
    const fd = fs.openSync(join(dir, 'probe'), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_DIRECT);
    try {
      fs.writeSync(fd, memory, 0, SLOT_ALIGNMENT, 0);
      return 'ok';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'error';
    } finally {
      fs.closeSync(fd);
    }
  }

  it('hands out slots the kernel takes for O_DIRECT, where a misaligned view is refused', () => {
    const slots = new AlignedSlots(256 * 1024);
    const slot = slots.take();
    assert.equal(slot.length, 256 * 1024);
    assert.equal(directWrite(slot), 'ok');
    assert.equal(directWrite(slot.subarray(16)), 'EINVAL');
    const second = slots.take();
    assert.equal(directWrite(second), 'ok');
    slots.give(slot);
    slots.give(second);
  });

  it('reuses a slot given back, and counts slots in use and the memory mapped', () => {
    const slots = new AlignedSlots(4 * 1024 * 1024);
    assert.equal(slots.mappedBytes, 0);
    const taken = [slots.take(), slots.take(), slots.take(), slots.take()];
    assert.equal(slots.inUse, 4);
    assert.equal(slots.mappedBytes, 16 * 1024 * 1024); // one 16 MiB memory holds four
    taken[0]!.fill(1);
    taken[1]!.fill(2);
    assert.equal(taken[0]![0], 1, 'slots do not overlap');
    slots.give(taken[0]!);
    assert.equal(slots.inUse, 3);
    assert.equal(slots.take(), taken[0], 'the slot given back is lent again');
    slots.take(); // a fifth: a second memory
    assert.equal(slots.mappedBytes, 32 * 1024 * 1024);
  });

  it('refuses a slot size that is not a whole number of pages dividing the memory', () => {
    assert.throws(() => new AlignedSlots(1000), RangeError);
    assert.throws(() => new AlignedSlots(3 * 4096), RangeError);
  });
});
