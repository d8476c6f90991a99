/**
 * Aligned slots (src/runtime/aligned-memory.ts): each slot starts on a page, which the kernel
 * checks for O_DIRECT (a view 16 bytes in is refused), slots are reused once given back, the
 * count of slots in use and of mapped bytes follows, and on Linux the slots lie in transparent huge
 * pages, read from /proc/self/smaps.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlignedSlots, SLOT_ALIGNMENT } from '../../src/runtime/aligned-memory.js';
import { libc } from '../../src/runtime/libc.js';

const MiB = 1024 * 1024;

/** The /proc/self/smaps entry of the mapping that holds `address`. */
function mappingOf(address: bigint): { flags: string[]; hugeKiB: number } {
  for (const entry of fs.readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const [from = '0', to = '0'] = entry.slice(0, entry.indexOf(' ')).split('-');
    if (address < BigInt(`0x${from}`) || address >= BigInt(`0x${to}`)) continue;
    return {
      flags: /^VmFlags:(.*)$/m.exec(entry)?.[1]?.trim().split(/\s+/) ?? [],
      hugeKiB: Number(/^AnonHugePages:\s+(\d+) kB$/m.exec(entry)?.[1] ?? 0),
    };
  }
  throw new Error(`no mapping holds 0x${address.toString(16)}`);
}

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
    const slots = new AlignedSlots(4 * MiB);
    assert.equal(slots.mappedBytes, 0);
    const taken = [slots.take(), slots.take(), slots.take(), slots.take()];
    assert.equal(slots.inUse, 4);
    // One 16 MiB memory holds four, and 2 MiB more to start them on a huge page where libc is at hand.
    const oneMemory = libc() === undefined ? 16 * MiB : 18 * MiB;
    assert.equal(slots.mappedBytes, oneMemory);
    taken[0]!.fill(1);
    taken[1]!.fill(2);
    assert.equal(taken[0]![0], 1, 'slots do not overlap');
    slots.give(taken[0]!);
    assert.equal(slots.inUse, 3);
    assert.equal(slots.take(), taken[0], 'the slot given back is lent again');
    slots.take(); // a fifth: a second memory
    assert.equal(slots.mappedBytes, 2 * oneMemory);
  });

  it('on Linux, starts slots on a 2 MiB boundary in memory given huge pages', () => {
    const c = libc();
    assert.ok(c, 'libc is callable on Linux');
    const slots = new AlignedSlots(MiB);
    const first = slots.take();
    const second = slots.take();
    const address = c.address(first);
    assert.equal(address % BigInt(2 * MiB), 0n, 'the first slot starts a huge page');
    assert.equal(c.address(second), address + BigInt(MiB), 'slots follow one another');
    first.fill(1);
    second.fill(2);
    const mapping = mappingOf(address);
    assert.ok(mapping.flags.includes('hg'), `madvise(MADV_HUGEPAGE) reached the mapping: ${mapping.flags.join(' ')}`);
    const thp = fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    if (!thp.includes('[never]')) assert.ok(mapping.hugeKiB >= 2048, `the slots' 2 MiB lie in a huge page: ${mapping.hugeKiB} KiB`);
    slots.give(first);
    slots.give(second);
  });

  it('refuses a slot size that is not a whole number of pages dividing the memory', () => {
    assert.throws(() => new AlignedSlots(1000), RangeError);
    assert.throws(() => new AlignedSlots(3 * 4096), RangeError);
  });
});
