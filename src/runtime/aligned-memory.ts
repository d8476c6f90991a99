/**
 * Page-aligned buffers, for I/O with O_DIRECT (the kernel wants the memory aligned to the device's
 * block). Node allocates a Buffer with malloc, aligned to 16 bytes; V8 maps a WebAssembly memory's
 * pages itself, so its first byte starts a page. An AlignedSlots carves such memories, 16 MiB
 * each, into slots of one size: a slot is taken, used, and given back, and its pages stay mapped
 * for the next user (they fault in once, on first use, and never again).
 */

/** The one part of WebAssembly used here (the project's TypeScript libraries do not declare it). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;

const WASM_PAGE = 64 * 1024;
const ARENA_BYTES = 16 * 1024 * 1024;

/** The alignment every slot has: a page (and so any block size a disk uses). */
export const SLOT_ALIGNMENT = 4096;

export class AlignedSlots {
  readonly #free: Buffer[] = [];
  #arenas = 0;
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
    const arena = new WasmMemory({ initial: ARENA_BYTES / WASM_PAGE, maximum: ARENA_BYTES / WASM_PAGE }).buffer;
    this.#arenas++;
    for (let offset = ARENA_BYTES - this.slotSize; offset > 0; offset -= this.slotSize) {
      this.#free.push(Buffer.from(arena, offset, this.slotSize));
    }
    return Buffer.from(arena, 0, this.slotSize);
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
    return this.#arenas * ARENA_BYTES;
  }
}
