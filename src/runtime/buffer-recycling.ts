/**
 * Read buffers that go back to a pool once their bytes have been sent, instead of being garbage.
 *
 * A stream that reads a file into fresh 1 MiB buffers makes 512 MiB of garbage per 512 MiB
 * download. Each new buffer's pages fault in, and the buffers still being written when a scavenge
 * runs are promoted, so they pile up until V8 runs full collections. Measured on the 2-core test
 * machine (docs/benchmarks.md, "Fifth pass"), major collections took a third of the server's
 * samples in a download.
 *
 * The protocol has two sides, and both must opt in:
 * - A Readable that reads into buffers of a BufferPool exposes them through `[RECYCLE]`.
 * - The one consumer that knows when a chunk's bytes are gone calls it, and only then: the
 *   response sender, from the socket write's callback (src/http/send-body.ts).
 * A consumer that does not call it leaves the buffer to the garbage collector, as before. So a
 * stream whose chunks also go elsewhere (a tee, a hash kept for later) stays correct; it only
 * forgoes the reuse.
 */
import type { Readable } from 'node:stream';

/** The method by which a stream takes back a chunk whose bytes the consumer no longer needs. */
export const RECYCLE: unique symbol = Symbol('wharf.recycle');

export interface Recycling {
  [RECYCLE](chunk: Buffer): void;
}

/** The stream's recycle function, when it has one. */
export function recyclerOf(stream: Readable): ((chunk: Buffer) => void) | undefined {
  const candidate = stream as Readable & Partial<Recycling>;
  const recycle = candidate[RECYCLE];
  return typeof recycle === 'function' ? (chunk) => recycle.call(candidate, chunk) : undefined;
}

/**
 * Buffers of one size, lent out and taken back. It keeps at most `maxIdle` buffers; the others are
 * left to the garbage collector. It takes back only buffers it lent and has not taken back yet,
 * so a chunk recycled twice, or one it never lent, changes nothing.
 */
export class BufferPool {
  readonly #idle: Buffer[] = [];
  /** Lent buffers by their memory, which every view on them shares. */
  readonly #lent = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(
    readonly bufferSize: number,
    private readonly maxIdle: number,
  ) {}

  /** A buffer of `bufferSize` bytes, reused when one is idle; its content is undefined. */
  lend(): Buffer {
    const buffer = this.#idle.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
    this.#lent.set(buffer.buffer, buffer);
    return buffer;
  }

  /** Takes back the buffer that `chunk` (the buffer or a view on it) came from. */
  recycle(chunk: Buffer): void {
    const buffer = this.#lent.get(chunk.buffer);
    if (buffer === undefined) return;
    this.#lent.delete(chunk.buffer);
    if (this.#idle.length < this.maxIdle) this.#idle.push(buffer);
  }

  /** Buffers ready to be lent (tests). */
  get idle(): number {
    return this.#idle.length;
  }
}
