/**
 * The azure file writer: streams into a block blob by staging blocks (Put Block) of the sizes
 * `azure-blocks.ts` fixes, at most MAX_IN_FLIGHT at once, and commits the block list (Put Block
 * List) on `end()`: the blob then holds every byte written so far, readable and resumable by an
 * append writer on any instance, which keeps the full blocks, reads back the short last one and
 * stages it again with what follows. `commit()` is that same block list commit (a committed block
 * blob is durable); `cancel()` deletes the blob and with it any uncommitted block.
 */
import type { BlockBlobClient } from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { BaseFileWriter } from '../base.js';
import { PartBuffer } from '../part-buffer.js';
import { PartSends } from '../part-sends.js';
import { FileTooLargeError } from '../driver.js';
import { MAX_BLOCKS, MAX_FILE_SIZE, MAX_IN_FLIGHT, blockId, blockSize } from './azure-blocks.js';

/** What the writer found at the blob when it was opened. */
export interface AzureWriterStart {
  /** Committed full blocks kept as they are. */
  readonly keep: readonly string[];
  /** Bytes at the end of the blob to read back before new bytes (a short last block, or all of a foreign blob). */
  readonly reload: number;
  /** The blob's size when opened (0 when not appending). */
  readonly size: number;
}

export class AzureWriter extends BaseFileWriter {
  readonly #blob: BlockBlobClient;
  #blocks: string[];
  readonly #buffer = new PartBuffer();
  #size: number;
  readonly #sends = new PartSends();
  #reload: number;
  readonly #reloadFrom: number;
  #loading: Promise<void> | undefined;
  #opened: boolean;
  #committed = false;

  constructor(driverName: string, path: string, blob: BlockBlobClient, start: AzureWriterStart, append: boolean) {
    super(driverName, path, 1024 * 1024);
    this.#blob = blob;
    this.#blocks = [...start.keep];
    this.#size = start.size;
    this.#reload = start.reload;
    this.#reloadFrom = start.size - start.reload;
    this.#opened = append;
  }

  get size(): number {
    return this.#size;
  }

  /** Reads back the bytes to stage again (the tail) before anything new is added. */
  #load(): Promise<void> {
    if (this.#reload === 0) return Promise.resolve();
    this.#loading ??= (async () => {
      const out = await this.#blob.download(this.#reloadFrom, this.#reload);
      for await (const chunk of out.readableStreamBody as Readable) await this.#take(chunk as Buffer);
      this.#reload = 0;
    })();
    return this.#loading;
  }

  async #take(chunk: Buffer): Promise<void> {
    this.#sends.check();
    this.#buffer.push(chunk);
    for (let size = blockSize(this.#blocks.length); this.#buffer.length >= size; size = blockSize(this.#blocks.length)) {
      this.#stage(this.#buffer.cut(size));
      await this.#sends.below(MAX_IN_FLIGHT);
    }
  }

  #stage(block: Buffer): void {
    const index = this.#blocks.length;
    if (index >= MAX_BLOCKS) {
      // Past Azure's 50,000 blocks: answered as a blob too large (400), not a storage failure.
      this.#sends.fail(new FileTooLargeError(this.driverName, this.path, MAX_FILE_SIZE));
      return;
    }
    const id = blockId(index);
    this.#blocks.push(id);
    this.#sends.add(this.#blob.stageBlock(id, block, block.length));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    this.#opened = false;
    this.#load()
      .then(() => this.#take(Buffer.from(chunk))) // a copy: the caller may reuse its buffer
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // An append writer that took nothing leaves the blob as it is.
    (this.#opened && !this.commitRequested ? Promise.resolve() : this.#checkpoint()).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!error || this.#committed || this.#opened) {
      callback(error);
      return;
    }
    // Cut off mid-stream: keep what arrived, so the client can resume where status says (the
    // checkpoint first finishes reading back the tail if a write had begun to).
    this.#checkpoint().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** Stages what is buffered as the last block and commits the list: the blob holds every byte so far. */
  async #checkpoint(): Promise<void> {
    if (this.#committed) return;
    await this.#load();
    await this.#sends.drain();
    if (this.#buffer.length > 0) this.#stage(this.#buffer.cut(this.#buffer.length));
    await this.#sends.drain();
    await this.#blob.commitBlockList(this.#blocks, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
    this.#committed = true;
  }

  protected async durable(): Promise<void> {
    if (this.#opened) return; // appended nothing: the committed blob is the file
    await this.#checkpoint();
  }

  protected async discard(): Promise<void> {
    await this.#sends.drain().catch(() => {});
    await this.#blob.deleteIfExists();
  }
}
