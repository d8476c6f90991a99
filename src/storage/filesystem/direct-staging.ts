/**
 * The staging of one file written with O_DIRECT, in the write thread (write-thread-worker.ts).
 *
 * O_DIRECT takes only whole blocks, from aligned memory, at aligned offsets; a socket gives bytes
 * in pieces of any size. So the bytes gather in an aligned slot, and each slot that fills goes to
 * the disk with an asynchronous write while the next one gathers, so the thread copies and the
 * disk writes at the same time. A file holds one slot, and up to `SLOTS_PER_FILE` while all files
 * together hold fewer than `SHARED_SLOTS`: one upload gets the disk's pace (4 MiB of writes in
 * flight), and many at once stay within a slot or two each. When the stream ends, flush()
 * writes the whole blocks gathered, and the last partial block through the file's other,
 * buffered, descriptor, so the file holds exactly the bytes taken, and gives back every slot but
 * the one gathering.
 *
 * A file opened to continue an upload starts with its partial last block read back into the slot,
 * since the next aligned write covers that block again.
 */
import { readSync, write } from 'node:fs';
import { AlignedSlots, SLOT_ALIGNMENT } from '../../runtime/aligned-memory.js';
import { toError } from '../base.js';

/**
 * A file written with O_DIRECT: `id` names its writer (unique in the process, unlike descriptors,
 * which the kernel reuses), `fd` is open O_RDWR|O_DIRECT, `bufferedFd` on the same file without
 * it, for the last partial block, and `size` is the file's size when the writer opened it.
 */
export interface DirectFile {
  readonly id: number;
  readonly fd: number;
  readonly bufferedFd: number;
  readonly size: number;
}

/** Slots one file may hold, where the shared limit allows. */
export const SLOTS_PER_FILE = 4;
/** Slots all files together hold before each is held to its first one. */
export const SHARED_SLOTS = 16;

function ioError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EIO' });
}

/** Writes `length` bytes of `buffer` at `position`, going on after a short write. */
function pwriteAll(fd: number, buffer: Buffer, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done === length) return resolve();
      write(fd, buffer, done, length - done, position + done, (err, written) => {
        if (err) return reject(err);
        if (written <= 0) return reject(ioError('short write: the file took no bytes'));
        step(done + written);
      });
    };
    step(0);
  });
}

/**
 * Frees the memory of chunks whose bytes are copied. A chunk that waited in the write thread (for a
 * slot, or behind its file's earlier requests) outlived a young-generation collection or two, and
 * V8 then kept its memory long after: full collections forced every MiB did not free it. With
 * sixteen 96 MiB uploads at once, the server's RSS went from 75 to 160-188 MiB (docs/benchmarks.md,
 * "Eleventh pass"). Transferring the memory into a clone detaches the chunk at once, and the clone
 * that holds the memory now is young: the thread's next scavenge frees it.
 */
function release(chunks: readonly ArrayBuffer[]): void {
  for (const memory of chunks) {
    if (memory.byteLength > 0) structuredClone(memory, { transfer: [memory] }); // not yet released
  }
}

export class DirectStaging {
  /** The slot gathering bytes; its first byte belongs at file offset `#base` (aligned). */
  #slot: Buffer;
  #base: number;
  #fill = 0;
  /** Slots of this file not in use: written, and waiting to gather again. */
  readonly #free: Buffer[] = [];
  #held = 1;
  /** Writes in flight, and who waits for one to finish. */
  #writing = 0;
  #waiters: Array<() => void> = [];
  /** The file's size on disk, once no write is in flight. */
  #stored: number;
  /** The first write that failed: every later call fails with it. */
  #error: Error | undefined;
  #closed = false;

  constructor(
    readonly file: DirectFile,
    private readonly slots: AlignedSlots,
  ) {
    this.#slot = slots.take();
    this.#base = file.size - (file.size % SLOT_ALIGNMENT);
    this.#stored = file.size;
    try {
      if (this.#base < file.size) {
        const head = readSync(file.fd, this.#slot, 0, SLOT_ALIGNMENT, this.#base);
        if (head !== file.size - this.#base) throw ioError(`the file changed under its writer: ${head} bytes at ${this.#base}`);
        this.#fill = head;
      }
    } catch (err) {
      this.#release();
      throw err;
    }
  }

  /**
   * Copies the chunks in, writing each slot that fills; resolves with the bytes taken. The chunks
   * are the staging's to use up: once copied, their memory is released (see `release`), and they
   * are empty.
   */
  async take(chunks: readonly ArrayBuffer[]): Promise<number> {
    this.#check();
    let total = 0;
    for (const memory of chunks) {
      const chunk = new Uint8Array(memory);
      let taken = 0;
      while (taken < chunk.length) {
        const n = Math.min(chunk.length - taken, this.#slot.length - this.#fill);
        this.#slot.set(chunk.subarray(taken, taken + n), this.#fill);
        this.#fill += n;
        taken += n;
        if (this.#fill === this.#slot.length) {
          this.#submit(this.#slot, this.#base);
          this.#base += this.#slot.length;
          this.#fill = 0;
          this.#slot = await this.#nextSlot();
        }
      }
      total += chunk.length;
    }
    release(chunks);
    return total;
  }

  /** Stores every byte taken: once it resolves, the file's size is all it was given. */
  async flush(): Promise<void> {
    await this.#idle();
    this.#check();
    this.#stored = Math.max(this.#stored, this.#base);
    const whole = this.#fill - (this.#fill % SLOT_ALIGNMENT);
    if (whole > 0) {
      await this.#guard(pwriteAll(this.file.fd, this.#slot, whole, this.#base));
      this.#stored = Math.max(this.#stored, this.#base + whole);
      this.#slot.copyWithin(0, whole, this.#fill);
      this.#base += whole;
      this.#fill -= whole;
    }
    const end = this.#base + this.#fill;
    if (end > this.#stored) {
      const from = this.#stored - this.#base;
      // At the file's end, whether the descriptor appends (O_APPEND ignores the position) or not.
      await this.#guard(pwriteAll(this.file.bufferedFd, this.#slot.subarray(from), end - this.#stored, this.#stored));
      this.#stored = end;
    }
    // A writer ends with a flush. The slots that only carried writes go back now rather than at
    // close, which comes later (after a background fdatasync): the next file, such as the next PATCH
    // of a chunked upload, takes them instead of mapping in more memory that then stays resident.
    for (const slot of this.#free.splice(0)) if (slot !== this.#slot) this.slots.give(slot);
    this.#held = 1;
  }

  /** Waits for the writes in flight and gives the slots back; bytes not flushed are dropped. */
  async close(): Promise<void> {
    await this.#idle();
    this.#release();
  }

  #check(): void {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Error('the direct file is closed');
  }

  /** Writes a filled slot at `position` in the background; it is free again once written. */
  #submit(slot: Buffer, position: number): void {
    this.#writing++;
    pwriteAll(this.file.fd, slot, slot.length, position).then(
      () => this.#free.push(slot),
      (err: unknown) => {
        this.#error ??= toError(err);
        this.#free.push(slot);
      },
    ).finally(() => {
      this.#writing--;
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async #nextSlot(): Promise<Buffer> {
    for (;;) {
      this.#check();
      const free = this.#free.pop();
      if (free) return free;
      if (this.#held < SLOTS_PER_FILE && this.slots.inUse < SHARED_SLOTS) {
        this.#held++;
        return this.slots.take();
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve)); // the slot just filled is being written
    }
  }

  async #idle(): Promise<void> {
    while (this.#writing > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  async #guard(done: Promise<void>): Promise<void> {
    try {
      await done;
    } catch (err) {
      this.#error ??= toError(err);
      throw this.#error;
    }
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A slot whose write failed may be both the current one and free: each goes back once.
    for (const slot of new Set([this.#slot, ...this.#free.splice(0)])) this.slots.give(slot);
  }
}
