/**
 * The filesystem driver's write thread: one worker thread per process that makes the writev(2)
 * calls of every FilesystemWriter, so that an upload's bytes go to the page cache while the main
 * thread reads the next ones off the socket and hashes them. A file past 64 MiB is staged there
 * and written with O_DIRECT instead (direct-staging.ts).
 *
 * Measured on this project's 2-core machine (docs/benchmarks.md, "Fourth pass"): writes through
 * libuv's thread pool ping-pong with the main thread, each side waiting for the other about half
 * the time; one thread that does nothing but write, fed batches of 128 KiB, does not.
 *
 * A chunk's memory moves to the thread (a transfer, not a copy) when the caller hands the chunks
 * over (`WriterOptions.handOverChunks`) and the chunk is the whole of its ArrayBuffer, as a request
 * body's are; other chunks are copied first, since their owner may still use them. The thread
 * collects that garbage itself (see write-thread-worker.ts). (Copying every chunk into
 * reused slabs instead cost 1.4-2.4 s of CPU per 512 MiB upload against 0.8-1.2 s.)
 *
 * The thread starts on first use, keeps the process alive only while writes are in flight, and is
 * started again if it ever dies (every request then in flight fails with the reason).
 */
import { Worker } from 'node:worker_threads';
import type { DirectFile } from './direct-staging.js';

/**
 * The bytes of a direct file gather into staging slots of this size (see direct-staging.ts). ext4
 * handles each O_DIRECT write that extends a file one at a time, and with a cost of its own, so a
 * larger write costs less per byte: with four 1 MiB slots per file, one 512 MiB push ran at a
 * median 335 MiB/s where two of 256 KiB gave 275, and a chunked one at 353 against 290
 * (docs/benchmarks.md, "Tenth pass").
 */
export const DIRECT_STAGING_BYTES = 1024 * 1024;

/**
 * After an append, what the thread tells the kernel about the file's page cache (page-cache.ts):
 * start writing `[writebackFrom, writebackTo)` to the disk, and drop the clean pages below
 * `dropBelow`.
 */
export interface PageCacheHint {
  readonly writebackFrom: number;
  readonly writebackTo: number;
  readonly dropBelow: number;
}

export type WriteRequest =
  | { readonly op: 'append'; readonly id: number; readonly fd: number; readonly chunks: ArrayBuffer[]; readonly pageCache?: PageCacheHint }
  | { readonly op: 'direct'; readonly id: number; readonly file: DirectFile; readonly chunks: ArrayBuffer[] }
  | { readonly op: 'flush'; readonly id: number; readonly file: DirectFile }
  | { readonly op: 'close'; readonly id: number; readonly file: number };

export type WriteReply =
  | { readonly id: number; readonly written: number }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

interface Pending {
  resolve(written: number): void;
  reject(err: Error): void;
}

/**
 * The heap of a thread that only writes stays small (the bytes it writes live outside it). The old
 * generation may grow to 32 MiB though: at 8, once the heap had 13 MiB committed (which the
 * direct staging's promises bring it to), V8 judged that a scavenge might not succeed and turned each of the thread's
 * requested young-generation collections into a full one, 4-7 ms each (chunked 512 MiB upload
 * 99-118 MiB/s against 243-316 with the room).
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32, stackSizeMb: 1 };

/** The chunk's own memory, when it can be moved: the chunk is the whole of a plain ArrayBuffer. */
function movable(chunk: Buffer): ArrayBuffer | undefined {
  const memory = chunk.buffer;
  return memory instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === memory.byteLength ? memory : undefined;
}

/** A copy of the chunk's bytes in an ArrayBuffer of their own. */
function copied(chunk: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(chunk.byteLength);
  new Uint8Array(copy).set(chunk);
  return copy;
}

export class WriteThread {
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(private readonly script: URL = new URL('./write-thread-worker.js', import.meta.url)) {}

  /**
   * Appends `chunks` to the file open as `fd` (opened with O_APPEND) and resolves with the bytes
   * written, which is all of them: a short write is continued. With `handOver`, a chunk that is
   * the whole of its memory moves to the thread and is empty afterwards. With `pageCache`, the
   * thread then gives the kernel that advice about the file's pages.
   */
  write(fd: number, chunks: readonly Buffer[], handOver: boolean, pageCache?: PageCacheHint): Promise<number> {
    const memory = this.#memory(chunks, handOver);
    if (memory.length === 0) return Promise.resolve(0);
    return this.#request({ op: 'append', id: this.#nextId++, fd, chunks: memory, ...(pageCache ? { pageCache } : {}) }, memory);
  }

  /**
   * Takes `chunks` into the staging of the direct `file`, writing every whole slot with O_DIRECT;
   * resolves with the bytes taken. They are stored only once flush() resolves.
   */
  writeDirect(file: DirectFile, chunks: readonly Buffer[], handOver: boolean): Promise<number> {
    const memory = this.#memory(chunks, handOver);
    if (memory.length === 0) return Promise.resolve(0);
    return this.#request({ op: 'direct', id: this.#nextId++, file, chunks: memory }, memory);
  }

  /** Stores every byte the direct `file` took: the file's size is then all it was given. */
  async flush(file: DirectFile): Promise<void> {
    await this.#request({ op: 'flush', id: this.#nextId++, file }, []);
  }

  /** Forgets the direct `file` (without storing what it holds), once its writes are done. */
  async close(file: DirectFile): Promise<void> {
    await this.#request({ op: 'close', id: this.#nextId++, file: file.id }, []);
  }

  #memory(chunks: readonly Buffer[], handOver: boolean): ArrayBuffer[] {
    const memory: ArrayBuffer[] = [];
    const moved = new Set<ArrayBuffer>();
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      const own = handOver ? movable(chunk) : undefined;
      // The same memory twice in a batch (one Buffer written twice) moves once and is copied after.
      if (own !== undefined && !moved.has(own)) {
        moved.add(own);
        memory.push(own);
      } else {
        memory.push(copied(chunk));
      }
    }
    return memory;
  }

  #request(request: WriteRequest, transfer: ArrayBuffer[]): Promise<number> {
    const worker = this.#start();
    return new Promise<number>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref(); // the process waits for its writes
      this.#pending.set(request.id, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  /** Stops the thread (tests); requests in flight fail. A later write starts a new one. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (worker) await worker.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    // No flags from the process (`--input-type`, loaders, `--cpu-prof`): the thread only writes.
    const worker = new Worker(this.script, { resourceLimits: RESOURCE_LIMITS, execArgv: [] });
    worker.unref();
    worker.on('message', (reply: WriteReply) => this.#settle(reply));
    const fail = (reason: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(new Error(`the filesystem write thread stopped: ${reason}`));
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #settle(reply: WriteReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if ('written' in reply) {
      pending.resolve(reply.written);
    } else {
      pending.reject(Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code }));
    }
  }
}

/** The process's write thread. */
export const writeThread = new WriteThread();
