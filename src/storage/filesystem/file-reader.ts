/**
 * The filesystem driver's file reader: streams a byte range of an open file in reads of up to
 * 1 MiB, into buffers of process-wide pools that the response sender gives back once a chunk is on
 * the socket (src/runtime/buffer-recycling.ts). Any other consumer leaves them to the garbage
 * collector.
 *
 * Memory does not grow with the number of downloads at once: buffered readers read smaller chunks
 * the more of them are open (READ_MEMORY_BYTES), and O_DIRECT readers are few (DIRECT_READ_SLOTS).
 *
 * A file open with O_DIRECT is read in aligned 2 MiB blocks into aligned slots the reader holds
 * until it ends, and each block's bytes of the range are copied from there into pool buffers:
 * the pool's buffers leave the reader, and the slots, whose memory cannot be garbage, must not.
 * Such a reader keeps DIRECT_READS_AHEAD reads in flight, so the disk reads the next block while
 * the last one goes out.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { AlignedSlots, SLOT_ALIGNMENT } from '../../runtime/aligned-memory.js';
import { BufferPool, RECYCLE, type Recycling } from '../../runtime/buffer-recycling.js';
import { toError } from '../base.js';

const READ_BYTES = 1024 * 1024;
/** The smallest read a buffered reader makes while a range has more than that left. */
const MIN_READ_BYTES = 64 * 1024;
/**
 * What the chunks of all buffered readers together may hold: each holds up to two (one on its way
 * to the socket, one read ahead), so 8 readers at once read 1 MiB, 16 read 512 KiB, 64 read
 * 128 KiB, and more than 128 read MIN_READ_BYTES. Before, each held two of 1 MiB whatever their
 * number: 64 clients at once that stopped reading a 32 MiB blob each held the server at 218-269 MiB.
 */
const READ_MEMORY_BYTES = 16 * READ_BYTES;
/**
 * Idle buffers each pool keeps: enough for a few downloads at once to reuse buffers. More
 * downloads at once allocate fresh ones, as before.
 */
const MAX_IDLE = 4;
/** One pool per read size, READ_BYTES down to MIN_READ_BYTES. */
const pools = new Map<number, BufferPool>();
for (let size = READ_BYTES; size >= MIN_READ_BYTES; size /= 2) pools.set(size, new BufferPool(size, MAX_IDLE));
/** Buffered readers open now (not yet ended or destroyed). */
let bufferedReaders = 0;

/** The size of a buffered reader's next read: see READ_MEMORY_BYTES. */
function readSize(): number {
  let size = READ_BYTES;
  while (size > MIN_READ_BYTES && 2 * size * bufferedReaders > READ_MEMORY_BYTES) size /= 2;
  return size;
}

/**
 * A buffer for the next `bytes` of the range, read `size` at a time: a pool buffer for a whole
 * read, and one of its own size for less (a small blob, or a range's last read). A 4 KiB blob read
 * into a 1 MiB buffer made each GET cost 1 MiB of the pool's fresh memory once more than MAX_IDLE
 * were in flight, and V8 collects on external memory: 64 connections GETting a config blob spent
 * 17 % of the server's samples in the collector (docs/benchmarks.md, "Thirteenth pass").
 */
function bufferFor(bytes: number, size: number): Buffer {
  const pool = bytes >= size ? pools.get(size) : undefined;
  return pool === undefined ? Buffer.allocUnsafe(bytes) : pool.lend();
}

/** Gives `chunk`'s buffer back to the pool it came from; any other buffer is left alone. */
function recycle(chunk: Buffer): void {
  pools.get(chunk.buffer.byteLength)?.recycle(chunk);
}

/**
 * O_DIRECT reads land in 2 MiB slots, each one huge page (aligned-memory.ts), whose bytes are
 * copied out into pool buffers. A 512 MiB download through Wharf, against a client that does not
 * set the pace, 4 runs each alternating twice: 678-1,275 MiB/s with 512 KiB slots, 875-1,201 with
 * 1 MiB (docs/benchmarks.md, "Seventh pass"). In huge pages, the bench's digest-checked download,
 * right after the upload: 901-1,044 MiB/s with 1 MiB, 988-1,213 with 2 MiB, 882-1,210 with 4 MiB
 * ("Fifteenth pass").
 */
const DIRECT_READ_BYTES = 2 * READ_BYTES;
/**
 * O_DIRECT reads one reader keeps in flight, each into a slot of its own: 512 MiB read here in
 * 512 KiB blocks at 1,160-1,190 MiB/s one read at a time, 1,730-1,820 with two; the download above,
 * 541-907 MiB/s with one, 860-1,097 with two.
 */
const DIRECT_READS_AHEAD = 2;
/**
 * Slots all O_DIRECT readers together may hold: 16 MiB, four readers at once. A large range read
 * while four others are is read buffered, as a small one is: before, 20 downloads at once of
 * 96 MiB each took 4 MiB of slots apiece, and the slots stay mapped.
 */
const DIRECT_READ_SLOTS = 8;
const slots = new AlignedSlots(DIRECT_READ_BYTES);
/**
 * A reader dropped without being ended or destroyed gives its slots back, or stops counting as a
 * buffered reader, when it is collected.
 */
const unreleased = new FinalizationRegistry<Buffer[] | undefined>((held) => {
  if (held === undefined) bufferedReaders--;
  else giveDirectReadSlots(held);
});

/**
 * The slots an O_DIRECT reader needs, taken for it; undefined while other readers hold so many
 * that the range should be read buffered. The FileReader made with them gives them back; a caller
 * that makes none (the file would not open) gives them back itself.
 */
export function takeDirectReadSlots(): Buffer[] | undefined {
  if (slots.inUse + DIRECT_READS_AHEAD > DIRECT_READ_SLOTS) return undefined;
  return Array.from({ length: DIRECT_READS_AHEAD }, () => slots.take());
}

export function giveDirectReadSlots(held: readonly Buffer[]): void {
  for (const slot of held) slots.give(slot);
}

/** An O_DIRECT read in flight: into `slot`, from the aligned file offset `position`. */
interface DirectRead {
  readonly slot: Buffer;
  readonly position: number;
  readonly length: number;
  readonly done: Promise<number>;
}

/** A completed O_DIRECT read's slot, and the bytes `[from, to)` in it that are the range's. */
interface Block {
  readonly slot: Buffer;
  from: number;
  readonly to: number;
}

/** `bytes` rounded up to a whole number of aligned blocks. */
function roundUp(bytes: number): number {
  return Math.ceil(bytes / SLOT_ALIGNMENT) * SLOT_ALIGNMENT;
}

export class FileReader extends Readable implements Recycling {
  #position: number;
  #remaining: number;
  /** With O_DIRECT: every slot the reader holds (none otherwise), and those not being read into. */
  #slots: Buffer[] = [];
  #idle: Buffer[] = [];
  /** With O_DIRECT: the reads in flight, in file order, and the aligned offset of the next one. */
  #reads: DirectRead[] = [];
  #next = 0;
  /** With O_DIRECT: the part of the range in the last completed read that is not yet pushed. */
  #block: Block | undefined;
  /** Buffered: counted in bufferedReaders until destroyed. */
  #counted = false;

  /**
   * Reads `[start, end)` of `fh`, which the reader closes when it ends or is destroyed. With
   * `directSlots` (takeDirectReadSlots), `fh` is open with O_DIRECT and the reader reads into them,
   * and gives them back.
   */
  constructor(
    private readonly fh: FileHandle,
    start: number,
    end: number,
    signal: AbortSignal | undefined,
    directSlots?: Buffer[],
  ) {
    // Any high-water mark no larger than a chunk reads one chunk ahead of the consumer, whatever
    // the chunks' size.
    super({ highWaterMark: MIN_READ_BYTES, ...(signal ? { signal } : {}) });
    this.#position = start;
    this.#remaining = end - start;
    if (directSlots !== undefined) {
      this.#slots = directSlots;
      this.#idle = [...directSlots];
      this.#next = start - (start % SLOT_ALIGNMENT);
    } else {
      this.#counted = true;
      bufferedReaders++;
    }
    unreleased.register(this, directSlots, this);
  }

  override _read(): void {
    if (this.#remaining <= 0) {
      this.push(null);
      return;
    }
    if (this.#slots.length > 0) {
      this.#readDirect();
      return;
    }
    const buffer = bufferFor(this.#remaining, readSize());
    this.fh.read(buffer, 0, Math.min(buffer.length, this.#remaining), this.#position).then(
      ({ bytesRead }) => {
        if (this.destroyed || bytesRead === 0) {
          recycle(buffer);
          if (!this.destroyed) this.push(null); // the file is shorter than when it was opened
          return;
        }
        this.#position += bytesRead;
        this.#remaining -= bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      },
      (err: unknown) => {
        recycle(buffer);
        this.destroy(toError(err));
      },
    );
  }

  /** Starts aligned reads of the range's next blocks, one per idle slot. */
  #readAhead(): void {
    const end = this.#position + this.#remaining;
    for (let slot = this.#idle.pop(); slot !== undefined; slot = this.#idle.pop()) {
      if (this.#next >= end) {
        this.#idle.push(slot);
        return;
      }
      const position = this.#next;
      const length = Math.min(slot.length, roundUp(end - position));
      this.#next += length;
      const done = this.fh.read(slot, 0, length, position).then(({ bytesRead }) => bytesRead);
      done.catch(() => {}); // seen when its turn comes; a reader destroyed before then has no use for it
      this.#reads.push({ slot, position, length, done });
    }
  }

  /**
   * The range's next bytes with O_DIRECT: from the block last read while it has some, else from the
   * oldest read in flight once it completes, with reads into the idle slots started first.
   */
  #readDirect(): void {
    const block = this.#block;
    if (block !== undefined) {
      // Not from within `_read`: Readable's read() calls it first and then takes everything
      // buffered, so a chunk pushed here would be joined to the one before into new memory.
      process.nextTick(() => {
        if (!this.destroyed) this.#pushFromBlock(block);
      });
      return;
    }
    this.#readAhead();
    const read = this.#reads.shift();
    if (!read) {
      this.push(null);
      return;
    }
    read.done.then(
      (bytesRead) => {
        if (this.destroyed) return;
        const skip = this.#position - read.position;
        const usable = Math.min(bytesRead - skip, this.#remaining);
        if (usable <= 0) {
          this.push(null); // the file is shorter than when it was opened
          return;
        }
        // A short read is the file's end: the file is shorter than when it was opened.
        if (bytesRead < read.length) this.#remaining = usable;
        this.#pushFromBlock((this.#block = { slot: read.slot, from: skip, to: skip + usable }));
      },
      (err: unknown) => this.destroy(toError(err)),
    );
  }

  /**
   * Pushes the block's next bytes, a pool buffer's worth at most, copied out. A block copied out
   * frees its slot for the next read, started now.
   */
  #pushFromBlock(block: Block): void {
    const bytes = Math.min(READ_BYTES, block.to - block.from);
    const buffer = bufferFor(bytes, READ_BYTES);
    block.slot.copy(buffer, 0, block.from, block.from + bytes);
    block.from += bytes;
    this.#position += bytes;
    this.#remaining -= bytes;
    if (block.from >= block.to) {
      this.#block = undefined;
      this.#idle.push(block.slot);
      this.#readAhead();
    }
    this.push(buffer.subarray(0, bytes));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    unreleased.unregister(this);
    if (this.#counted) {
      this.#counted = false;
      bufferedReaders--;
    }
    // FileHandle.close waits for a read in flight, so the descriptor is not reused under it, and
    // only then is the slot free for another reader.
    const done = (closeError?: unknown): void => {
      const held = this.#slots;
      this.#slots = [];
      if (held.length > 0) giveDirectReadSlots(held);
      callback(error ?? (closeError === undefined ? undefined : toError(closeError)));
    };
    this.fh.close().then(() => done(), done);
  }

  [RECYCLE](chunk: Buffer): void {
    recycle(chunk);
  }
}
