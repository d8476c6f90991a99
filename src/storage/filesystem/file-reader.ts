/**
 * The filesystem driver's file reader: streams a byte range of an open file in 1 MiB reads, into
 * buffers of a process-wide pool that the response sender gives back once a chunk is on the socket
 * (src/runtime/buffer-recycling.ts). Any other consumer leaves them to the garbage collector.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BufferPool, RECYCLE, type Recycling } from '../../runtime/buffer-recycling.js';

const READ_BYTES = 1024 * 1024;
/**
 * Idle buffers the pool keeps: enough for a few downloads at once to reuse buffers. More
 * downloads at once allocate fresh ones, as before.
 */
const MAX_IDLE = 4;
const pool = new BufferPool(READ_BYTES, MAX_IDLE);

export class FileReader extends Readable implements Recycling {
  #position: number;
  #remaining: number;

  /** Reads `[start, end)` of `fh`, which the reader closes when it ends or is destroyed. */
  constructor(
    private readonly fh: FileHandle,
    start: number,
    end: number,
    signal: AbortSignal | undefined,
  ) {
    super({ highWaterMark: READ_BYTES, ...(signal ? { signal } : {}) });
    this.#position = start;
    this.#remaining = end - start;
  }

  override _read(): void {
    if (this.#remaining <= 0) {
      this.push(null);
      return;
    }
    const buffer = pool.lend();
    this.fh.read(buffer, 0, Math.min(buffer.length, this.#remaining), this.#position).then(
      ({ bytesRead }) => {
        if (this.destroyed || bytesRead === 0) {
          pool.recycle(buffer);
          if (!this.destroyed) this.push(null); // the file is shorter than when it was opened
          return;
        }
        this.#position += bytesRead;
        this.#remaining -= bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      },
      (err: unknown) => {
        pool.recycle(buffer);
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // FileHandle.close waits for a read in flight, so the descriptor is not reused under it.
    this.fh.close().then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? (closeError instanceof Error ? closeError : new Error(String(closeError)))),
    );
  }

  [RECYCLE](chunk: Buffer): void {
    pool.recycle(chunk);
  }
}
