/**
 * Sends a stream as a response body, and one whose bytes are in memory (MemoryBody) in one write.
 * When the stream lends its chunks from a pool (src/runtime/buffer-recycling.ts), each chunk goes
 * back to it once the socket write that carried it has completed, since the kernel has the bytes
 * by then.
 */
import type { ServerResponse } from 'node:http';
import { Writable, finished, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { recyclerOf } from '../runtime/buffer-recycling.js';
import { MemoryBody } from '../runtime/memory-body.js';

export async function sendBody(body: Readable, res: ServerResponse, signal?: AbortSignal): Promise<void> {
  if (body instanceof MemoryBody) {
    res.end(body.content);
    return;
  }
  const recycle = recyclerOf(body);
  const options = signal ? { signal } : {};
  if (recycle === undefined) {
    await pipeline(body, res, options);
    return;
  }
  await pipeline(body, new RecyclingSink(res, recycle), options);
}

/**
 * Writes each chunk to the response and recycles it from the write's callback. Back-pressure is
 * the response's: a chunk is taken only once the response has room again. The sink fails when the
 * response closes before it ends (the client went away), and destroying the sink destroys the
 * response, as `pipeline(body, res)` would.
 */
class RecyclingSink extends Writable {
  #waiting: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly recycle: (chunk: Buffer) => void,
  ) {
    super({ highWaterMark: 0 });
    res.on('drain', () => this.#resume());
    finished(res, (err) => {
      if (err && !this.destroyed) this.destroy(err); // ERR_STREAM_PREMATURE_CLOSE when the client left
    });
  }

  #resume(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // A failed write may not be done with the memory: only a completed one recycles it.
    const more = this.res.write(chunk, (err?: Error | null) => {
      if (err === undefined || err === null) this.recycle(chunk);
    });
    if (more) callback();
    else this.#waiting = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.res.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#waiting = undefined;
    if (error !== null && !this.res.destroyed) this.res.destroy(error);
    callback(error);
  }
}
