/**
 * Page-aligned buffers, for I/O with O_DIRECT (the kernel wants the memory aligned to the device's
 * block). Node allocates a Buffer with malloc, aligned to 16 bytes; V8 maps a WebAssembly memory's
 * pages itself, so its first byte starts a page. An AlignedSlots carves such memories, 16 MiB
 * each, into slots of one size: a slot is taken, used, and given back, and its pages stay mapped
 * for the next user (they fault in once, on first use, and never again).
 *
 * Where libc can be called (runtime/libc.ts), each memory is asked for transparent huge pages
 * (madvise MADV_HUGEPAGE, which Linux honours unless THP is set to `never`), and its slots start
 * on a 2 MiB boundary. A 1 MiB O_DIRECT transfer from 4 KiB pages is 256 pieces of memory for the
 * kernel to pin and for the disk (here a virtual one, whose host copies piece by piece) to fill,
 * and more than one request where the disk takes fewer segments; from a huge page it is one. A
 * 512 MiB download read with O_DIRECT went from 632-726 MiB/s to 888-1,122 (docs/benchmarks.md,
 * "Fifteenth pass"). The cost: a slot's first use faults in its whole 2 MiB, and each memory maps
 * 2 MiB more address space, never touched, to align in.
 */
import { libc, MADV_HUGEPAGE } from './libc.js';

/** The one part of WebAssembly used here (the project's TypeScript libraries do not declare it). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;

const WASM_PAGE = 64 * 1024;
const ARENA_BYTES = 16 * 1024 * 1024;
const HUGE_PAGE = 2 * 1024 * 1024;

/** The alignment every slot has: a page (and so any block size a disk uses). */
export const SLOT_ALIGNMENT = 4096;

export class AlignedSlots {
  readonly #free: Buffer[] = [];
  #mapped = 0;
  #inUse = 0;

  constructor(readonly slotSize: number) {
    if (slotSize <= 0 || slotSize % SLOT_ALIGNMENT !== 0 || ARENA_BYTES % slotSize !== 0) {
      throw new RangeError(`aligned slots must divide ${ARENA_BYTES} bytes in multiples of ${SLOT_ALIGNMENT}: ${slotSize}`);
    }
  }

  /** A slot for the caller alone until it gives it back; its content is undefined. */
  take(): Buffer {
    this.#inUse++;
    const slot = this.#free.pop();
    if (slot !== undefined) return slot;
    const arena = this.#map();
    for (let offset = ARENA_BYTES - this.slotSize; offset > 0; offset -= this.slotSize) {
      this.#free.push(arena.subarray(offset, offset + this.slotSize));
    }
    return arena.subarray(0, this.slotSize);
  }

  /** A new memory's ARENA_BYTES, in huge pages where they can be asked for. */
  #map(): Buffer {
    const c = libc();
    const bytes = c === undefined ? ARENA_BYTES : ARENA_BYTES + HUGE_PAGE;
    const memory = Buffer.from(new WasmMemory({ initial: bytes / WASM_PAGE, maximum: bytes / WASM_PAGE }).buffer);
    this.#mapped += bytes;
    if (c === undefined) return memory;
    const misaligned = Number(c.address(memory) % BigInt(HUGE_PAGE));
    const arena = memory.subarray(misaligned === 0 ? 0 : HUGE_PAGE - misaligned).subarray(0, ARENA_BYTES);
    c.madvise(arena, MADV_HUGEPAGE);
    return arena;
  }

  /** Gives a slot back; the caller keeps no view on it. */
  give(slot: Buffer): void {
    this.#inUse--;
    this.#free.push(slot);
  }

  /** Slots taken and not given back. */
  get inUse(): number {
    return this.#inUse;
  }

  /**
   * Bytes of the memories mapped so far. V8 counts them as external memory, like the garbage's,
   * though they are never garbage: a collector that watches external memory leaves them out.
   */
  get mappedBytes(): number {
    return this.#mapped;
  }
}
