/**
 * The filesystem driver's file writer: writes through the process's write thread (write-thread.ts),
 * fdatasyncs in the background as it goes, and once more on commit (see the driver for where files
 * live). Where the driver says so, what it wrote through the page cache leaves it as it is written
 * back, and the rest once committed (page-cache.ts).
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { BaseFileWriter, toError } from '../base.js';
import { StorageError } from '../driver.js';
import type { DirectFile } from './direct-staging.js';
import { dropAll } from './page-cache.js';
import { writeThread, type PageCacheHint } from './write-thread.js';

/**
 * Opens a second descriptor on the writer's file with O_DIRECT; undefined where the filesystem
 * refuses it (see the driver).
 */
export type OpenDirect = () => Promise<FileHandle | undefined>;

/**
 * A file takes its bytes from here on with O_DIRECT, past the page cache (where the driver allows
 * it). The page cache costs the most on a machine that must be handed fresh memory for it (a VM
 * whose freed pages go back to the host: 210-230 MB/s against 500-770 MB/s direct, measured in
 * docs/benchmarks.md, "Sixth pass"), and it keeps what a large upload wrote at the expense of what
 * is read often. Below this, and so for the many small blobs and uploads side by side, the page
 * cache's writeback does better than a disk request per slot (20 parallel 32 MiB pushes: 358-384
 * MiB/s buffered, 300-330 direct).
 *
 * A stream announced to take the file this far (`expectedBytes`) goes with O_DIRECT from its
 * first byte: one 512 MiB push, Wharf alone, medians of two sets of 3 runs, 357-377 MiB/s against
 * 329-331 switching at 64 MiB (docs/benchmarks.md, "Fourteenth pass").
 */
export const DIRECT_FROM_BYTES = 64 * 1024 * 1024;

/**
 * Chunks are gathered into batches of this size before they go to the write thread: one message
 * each way per batch instead of per 64 KiB socket read. Per open writer, one batch is gathering
 * while the ones before it are with the thread: one at a time through the page cache, up to
 * DIRECT_BATCHES_IN_FLIGHT with O_DIRECT.
 */
const BATCH_BYTES = 128 * 1024;
/**
 * With O_DIRECT, a writer's batches may queue at the write thread, so the thread has the next one
 * as soon as a slot is free instead of waiting a round trip for the main thread to send it. One
 * writer may have up to DIRECT_BATCHES_IN_FLIGHT (2 MiB) there while all writers together have
 * fewer than DIRECT_BATCHES_SHARED; past that, each has one at a time, so many large uploads at
 * once hold one batch each, and one upload alone gets the lot. A 512 MiB push, medians of 5 sets of 3 runs alternating:
 * 286-330 MiB/s with 4 per writer, 315-354 with 16; 16 per writer with no shared limit took
 * sixteen 96 MiB uploads at once from 129 to 143 MiB of RSS, and with it 124 (docs/benchmarks.md,
 * "Eleventh pass").
 * The thread takes a direct file's requests in order, and a failed write fails every later one
 * (direct-staging.ts), so a queued batch never lands behind a missing one. Appends stay one at a
 * time: a failed writev may have appended part of its batch, and the next batch would land after
 * that part.
 */
const DIRECT_BATCHES_IN_FLIGHT = 16;
const DIRECT_BATCHES_SHARED = 16;
/** Direct batches with the write thread, from every writer in the process. */
let directBatchesInFlight = 0;
/** Per open writer: what the stream queues while a batch is with the write thread. */
const WRITE_HIGH_WATER_MARK = 128 * 1024;

/**
 * Bytes written after which the writer starts an fdatasync in the background while it goes on
 * writing, so the disk works during the upload and the fdatasync of commit() has only the last
 * stretch left to flush. One such fdatasync at a time in the process: the others' writes must not
 * queue behind a thread pool full of them (a writer whose turn is taken tries again later).
 */
const EARLY_SYNC_BYTES = 16 * 1024 * 1024;
let earlySyncRunning = false;
/** Names each direct file to the write thread. */
let nextDirectId = 0;

/**
 * With `releasePages`, each time a file has this much more through the page cache, the write
 * thread starts the disk writing it and drops what lies more than RELEASE_LAG_BYTES behind the
 * end, which by then is mostly written back (pages not yet clean stay, and go at commit). 2 MiB
 * and 4 MiB are what the C model of 20 parallel pushes used (docs/benchmarks.md, "Fourteenth
 * pass"): the file keeps 4-6 MiB in the page cache while it grows.
 */
const WRITEBACK_STEP_BYTES = 2 * 1024 * 1024;
const RELEASE_LAG_BYTES = 4 * 1024 * 1024;

export interface FilesystemWriterOptions {
  /** WriterOptions.handOverChunks: the chunks may be moved to the write thread. */
  readonly handOverChunks?: boolean;
  /** Where the driver allows O_DIRECT: how to open the file with it. */
  readonly openDirect?: OpenDirect;
  /** What goes through the page cache leaves it once written back (page-cache.ts). */
  readonly releasePages?: boolean;
  /** WriterOptions.expectedBytes: what the stream is to bring, when known. */
  readonly expectedBytes?: number;
}

export class FilesystemWriter extends BaseFileWriter {
  #fh: FileHandle | undefined;
  #size: number;
  /** Bytes in the file once the batches sent so far are written. */
  #sent: number;
  #synced = false;
  #unsynced = 0;
  #earlySync: Promise<void> | undefined;
  /** A failed background fdatasync: the error the kernel reports once, kept for commit(). */
  #syncError: Error | undefined;
  /** Chunks taken from the stream and not yet sent to the write thread. */
  #batch: Buffer[] = [];
  #batchBytes = 0;
  /** The batches with the write thread, oldest first. */
  #sending: Array<Promise<void>> = [];
  /** The descriptor's close after the stream ended, waiting for a background fdatasync. */
  #closing: Promise<void> | undefined;
  /** With O_DIRECT: the staged file the write thread writes (`fh` writes its last partial block). */
  #direct: { readonly fh: FileHandle; readonly file: DirectFile } | undefined;
  private readonly handOverChunks: boolean;
  private openDirect: OpenDirect | undefined;
  private readonly releasePages: boolean;
  /** With releasePages: where the range the disk has not been told to write yet starts. */
  #writebackFrom: number;
  /** The file offset from which the bytes go with O_DIRECT (see DIRECT_FROM_BYTES). */
  readonly #directFrom: number;

  constructor(driverName: string, path: string, private readonly full: string, fh: FileHandle, size: number, options: FilesystemWriterOptions = {}) {
    super(driverName, path, WRITE_HIGH_WATER_MARK);
    this.#fh = fh;
    this.#size = size;
    this.#sent = size;
    this.#writebackFrom = size;
    this.handOverChunks = options.handOverChunks === true;
    this.openDirect = options.openDirect;
    this.releasePages = options.releasePages === true;
    const expected = options.expectedBytes;
    this.#directFrom = expected !== undefined && size + expected >= DIRECT_FROM_BYTES ? size : DIRECT_FROM_BYTES;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Sends the gathered batch to the write thread once there is room for it (see BATCH_BYTES); the
   * stream goes on gathering the next meanwhile.
   */
  async #send(): Promise<void> {
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    await this.#waitForRoom();
    if (batch.length === 0) return;
    const fh = this.#fh;
    if (!fh) throw new StorageError(`${this.driverName}: write after close: ${this.path}`, this.driverName, this.path);
    if (this.openDirect && this.#sent >= this.#directFrom) await this.#goDirect(fh);
    const direct = this.#direct;
    const sent = direct ? this.#sendDirect(direct.file, batch) : writeThread.write(fh.fd, batch, this.handOverChunks, this.#hint(bytes));
    const sending = sent.then((written) => {
      this.#sent += written;
      this.#unsynced += written;
      if (this.#unsynced >= EARLY_SYNC_BYTES && !earlySyncRunning) this.#startEarlySync(fh);
    });
    sending.catch(() => {}); // awaited by a later send or the drain, which see the error
    this.#sending.push(sending);
  }

  /**
   * What the write thread does with the page cache after appending `bytes` at #sent (the batches
   * before are written: appends go one at a time), with releasePages: every WRITEBACK_STEP_BYTES.
   */
  #hint(bytes: number): PageCacheHint | undefined {
    const end = this.#sent + bytes;
    if (!this.releasePages || end - this.#writebackFrom < WRITEBACK_STEP_BYTES) return undefined;
    const hint = { writebackFrom: this.#writebackFrom, writebackTo: end, dropBelow: Math.max(0, end - RELEASE_LAG_BYTES) };
    this.#writebackFrom = end;
    return hint;
  }

  /**
   * From here on, the bytes go with O_DIRECT (the batches before are written: without O_DIRECT,
   * a send waits for the one before it to settle). Tried once per writer; a descriptor that
   * cannot be had (too many open files, say) leaves the writer as it was.
   */
  async #goDirect(fh: FileHandle): Promise<void> {
    const open = this.openDirect;
    this.openDirect = undefined;
    const direct = await open?.().catch(() => undefined);
    if (direct) this.#direct = { fh: direct, file: { id: nextDirectId++, fd: direct.fd, bufferedFd: fh.fd, size: this.#sent } };
  }

  #sendDirect(file: DirectFile, batch: Buffer[]): Promise<number> {
    directBatchesInFlight++;
    return writeThread.writeDirect(file, batch, this.handOverChunks).finally(() => directBatchesInFlight--);
  }

  /**
   * Waits until the next batch may go to the write thread (see DIRECT_BATCHES_IN_FLIGHT), and
   * throws what writing an earlier one failed with.
   */
  async #waitForRoom(): Promise<void> {
    if (!this.#direct) return this.#settleSend();
    const full = (): boolean =>
      this.#sending.length >= DIRECT_BATCHES_IN_FLIGHT || (this.#sending.length > 0 && directBatchesInFlight >= DIRECT_BATCHES_SHARED);
    while (full()) await this.#sending.shift();
  }

  /** Waits until no batch is with the write thread, and throws what writing one failed with. */
  async #settleSend(): Promise<void> {
    while (this.#sending.length > 0) await this.#sending.shift();
  }

  /** Takes chunks into the batch; the stream waits only when a full batch must wait its turn. */
  #take(chunks: readonly Buffer[], callback: (error?: Error | null) => void): void {
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      this.#batch.push(chunk);
      this.#batchBytes += chunk.length;
      this.#size += chunk.length; // taken: written before the descriptor closes, or the writer fails
    }
    if (this.#batchBytes < BATCH_BYTES) return callback();
    this.#send().then(() => callback(), (err: unknown) => callback(toError(err)));
  }

  /** Before the descriptor closes: what was taken is written and the thread is done with it. */
  async #drain(): Promise<void> {
    await this.#send();
    await this.#settleSend();
    if (this.#direct) await writeThread.flush(this.#direct.file);
  }

  /** Closes the descriptors, the direct one after the write thread has forgotten it. */
  async #close(fh: FileHandle): Promise<void> {
    const direct = this.#direct;
    this.#direct = undefined;
    try {
      if (direct) {
        await writeThread.close(direct.file).catch(() => {}); // a stopped thread holds nothing
        await direct.fh.close();
      }
    } finally {
      await fh.close();
    }
  }

  #startEarlySync(fh: FileHandle): void {
    this.#unsynced = 0;
    earlySyncRunning = true;
    this.#earlySync = fh
      .datasync()
      .catch((err: unknown) => {
        this.#syncError ??= toError(err);
      })
      .finally(() => {
        earlySyncRunning = false;
        this.#earlySync = undefined;
      });
  }

  /** Waits for a background fdatasync (the fd must outlive it) and throws what it failed with. */
  async #settleEarlySync(): Promise<void> {
    await this.#earlySync;
    if (this.#syncError) throw this.#syncError;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#take(chunks.map((c) => c.chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const fh = this.#fh;
    if (!fh) return callback();
    const sync = this.commitRequested;
    (async () => {
      await this.#drain().catch(async (err: unknown) => {
        this.#fh = undefined;
        await this.#earlySync;
        await this.#close(fh);
        throw err;
      });
      this.#fh = undefined;
      if (!sync && this.#earlySync !== undefined) {
        // Nothing asks for durability yet (a PATCH): the stream ends now and the descriptor closes
        // once the background fdatasync is done with it, instead of the response waiting for it.
        // A commit later waits for it (durable()).
        this.#closing = this.#earlySync.then(() => this.#close(fh));
        this.#closing.catch(() => {}); // seen by durable(), when a commit follows
        return;
      }
      try {
        await this.#settleEarlySync();
        if (sync) {
          await fh.datasync();
          this.#synced = true;
          await this.#release(fh);
        }
      } finally {
        await this.#close(fh);
      }
    })().then(() => callback(), (err: unknown) => callback(toError(err)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The bytes taken so far are written and stay: the upload remains resumable at its stored
    // size. The descriptor closes only once the write thread and any fdatasync are done with it.
    const fh = this.#fh;
    if (!fh) return callback(error);
    this.#drain()
      .catch(() => {}) // not written: the stored size says so
      .then(() => this.#earlySync)
      .then(() => {
        this.#fh = undefined;
        return this.#close(fh);
      })
      .then(() => callback(error), (err: unknown) => callback(error ?? toError(err)));
  }

  protected async durable(): Promise<void> {
    await this.#closing;
    if (this.#syncError) throw this.#syncError;
    if (this.#synced) return;
    // Ended before commit(): the fd is closed, so open the file again for its one fdatasync.
    const fh = await fs.open(this.full, 'r');
    try {
      await fh.datasync();
      this.#synced = true;
      await this.#release(fh);
    } finally {
      await fh.close();
    }
  }

  /** With releasePages, after the file's fdatasync: its pages leave the page cache, all clean now. */
  async #release(fh: FileHandle): Promise<void> {
    if (this.releasePages) await dropAll(fh.fd);
  }

  protected async discard(): Promise<void> {
    await fs.rm(this.full, { force: true });
  }
}
