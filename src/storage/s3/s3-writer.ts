/**
 * The S3 file writer: streams into a multipart upload with parts of exactly `chunksize` bytes (all
 * parts equal, the last one shorter), holding at most one part being filled and MAX_IN_FLIGHT parts
 * being sent, so memory per upload is bounded by (1 + MAX_IN_FLIGHT) × chunksize.
 *
 * `end()` stores the state (`s3-pending.ts`): the parts sent so far and the tail that does not fill
 * a part yet, so a later append writer, on any instance, continues from there. `commit()` sends the
 * tail as the last part and completes the upload (or, with no full part, stores a plain object).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { BaseFileWriter } from '../base.js';
import { StorageError } from '../driver.js';
import { MAX_PARTS, writeOptions, type S3DriverOptions } from './s3-config.js';
import { decodeEtags, encodeEtags, pendingMetadata, type PendingState } from './s3-pending.js';

/** Parts sent at once per writer (besides the one being filled). */
const MAX_IN_FLIGHT = 2;

export interface S3Target {
  readonly client: S3Client;
  readonly options: S3DriverOptions;
  readonly name: string;
}

/** What the writer found at the key when it was opened. */
export interface WriterStart {
  /** Parts already sent and the tail stored in the pending object. */
  readonly pending: PendingState | undefined;
  /** Bytes of a plain object to continue (appended as if written). */
  readonly plainLength: number;
  /** A pending upload the writer replaces (not appending): aborted when the new state is stored. */
  readonly replaces: string | undefined;
}

export class S3Writer extends BaseFileWriter {
  readonly #t: S3Target;
  readonly #key: string;
  readonly #partSize: number;
  #uploadId: string | undefined;
  /** ETags of parts 1..n, a slot reserved as soon as a part is cut (filled in when sent). */
  #etags: string[] = [];
  #chunks: Buffer[] = [];
  #buffered = 0;
  #size: number;
  #inFlight = new Set<Promise<void>>();
  #failure: Error | undefined;
  /** Bytes stored at the key that must be read back before new bytes (tail or plain object). */
  #unloaded: { length: number; pending: boolean } | undefined;
  #loading: Promise<void> | undefined;
  #replaces: string | undefined;
  #completed = false;

  constructor(t: S3Target, path: string, key: string, start: WriterStart) {
    super(t.name, path, 1024 * 1024);
    this.#t = t;
    this.#key = key;
    this.#replaces = start.replaces;
    const pending = start.pending;
    this.#partSize = pending?.partSize ?? t.options.chunkSize;
    this.#uploadId = pending?.uploadId;
    this.#size = pending ? pending.parts * pending.partSize + pending.tail : start.plainLength;
    const stored = pending ? pending.tail : start.plainLength;
    if (stored > 0 || pending) this.#unloaded = { length: stored, pending: pending !== undefined };
    if (pending) this.#etags = new Array<string>(pending.parts).fill('');
  }

  get size(): number {
    return this.#size;
  }

  /** Reads back what is stored at the key (the tail, and the part ETags) before anything is added. */
  #load(): Promise<void> {
    const unloaded = this.#unloaded;
    if (!unloaded) return Promise.resolve();
    this.#loading ??= (async () => {
      const out = await this.#t.client.send(new GetObjectCommand({ Bucket: this.#t.options.bucket, Key: this.#key }));
      const body = out.Body as Readable;
      let seen = 0;
      const trailer: Buffer[] = [];
      for await (const raw of body) {
        const chunk = raw as Buffer;
        const inTail = Math.max(0, Math.min(chunk.length, unloaded.length - seen));
        if (inTail > 0) await this.#take(chunk.subarray(0, inTail));
        if (inTail < chunk.length) trailer.push(chunk.subarray(inTail));
        seen += chunk.length;
      }
      if (unloaded.pending) {
        const etags = decodeEtags(Buffer.concat(trailer), this.#etags.length);
        // Parts cut while loading (a tail never fills one) keep their slots after the stored ones.
        this.#etags.splice(0, etags.length, ...etags);
      }
      this.#unloaded = undefined;
    })();
    return this.#loading;
  }

  /** Adds bytes; cuts and sends full parts, waiting while too many are in flight. */
  async #take(chunk: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= this.#partSize) {
      await this.#send(this.#cut(this.#partSize));
      while (this.#inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.#inFlight);
      if (this.#failure) throw this.#failure;
    }
  }

  #cut(length: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    const part = all.subarray(0, length);
    const rest = all.subarray(length);
    this.#chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#buffered = rest.length;
    return part;
  }

  async #send(part: Buffer): Promise<void> {
    const { client, options } = this.#t;
    if (this.#uploadId === undefined) {
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: options.bucket, Key: this.#key, ...writeOptions(options) }));
      if (!created.UploadId) throw new StorageError(`${this.driverName}: no upload id for ${this.path}`, this.driverName, this.path);
      this.#uploadId = created.UploadId;
    }
    const index = this.#etags.length;
    if (index >= MAX_PARTS) {
      throw new StorageError(`${this.driverName}: ${this.path} would need more than ${MAX_PARTS} parts of ${this.#partSize} bytes; raise storage.s3.chunksize`, this.driverName, this.path);
    }
    this.#etags.push('');
    const uploadId = this.#uploadId;
    const sending: Promise<void> = client
      .send(new UploadPartCommand({ Bucket: options.bucket, Key: this.#key, UploadId: uploadId, PartNumber: index + 1, Body: part, ContentLength: part.length }))
      .then((out) => {
        if (!out.ETag) throw new Error(`part ${index + 1} has no ETag`);
        this.#etags[index] = out.ETag;
      })
      .catch((err: unknown) => {
        this.#failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  async #drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    this.#load()
      .then(() => this.#take(Buffer.from(chunk))) // a copy: the caller may reuse its buffer
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const nothingNew = this.#unloaded !== undefined && this.#replaces === undefined && !this.commitRequested;
    (nothingNew ? Promise.resolve() : this.#load().then(() => this.#drain()).then(() => (this.commitRequested ? this.#finish() : this.#checkpoint())))
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!error || this.#completed || this.#unloaded !== undefined) {
      callback(error);
      return;
    }
    // Cut off mid-stream: keep what reached storage, so the client can resume where status says.
    this.#drain()
      .then(() => this.#checkpoint())
      .then(
        () => callback(error),
        () => callback(error),
      );
  }

  /** Stores the tail and the part list at the key (the state an append writer resumes from). */
  async #checkpoint(): Promise<void> {
    const { client, options } = this.#t;
    while (this.#inFlight.size > 0) await this.#drain(); // every listed part sent and its ETag known
    const tail = Buffer.concat(this.#chunks, this.#buffered);
    const uploadId = this.#uploadId;
    const body = uploadId === undefined ? tail : Buffer.concat([tail, encodeEtags(this.#etags)]);
    await client.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: this.#key,
        Body: body,
        ContentLength: body.length,
        ...writeOptions(options),
        ...(uploadId === undefined ? {} : { Metadata: pendingMetadata({ uploadId, partSize: this.#partSize, parts: this.#etags.length, tail: tail.length }) }),
      }),
    );
    await this.#abortReplaced();
  }

  /** Makes the file final: the tail as the last part and CompleteMultipartUpload, or a plain object. */
  async #finish(): Promise<void> {
    if (this.#completed) return;
    const { client, options } = this.#t;
    if (this.#uploadId === undefined) {
      await this.#checkpoint();
    } else {
      if (this.#buffered > 0) await this.#send(this.#cut(this.#buffered));
      await this.#drain();
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: options.bucket,
          Key: this.#key,
          UploadId: this.#uploadId,
          MultipartUpload: { Parts: this.#etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      await this.#abortReplaced();
    }
    this.#completed = true;
  }

  async #abortReplaced(): Promise<void> {
    const old = this.#replaces;
    this.#replaces = undefined;
    if (old !== undefined && old !== this.#uploadId) await abortUpload(this.#t, this.#key, old);
  }

  protected async durable(): Promise<void> {
    await this.#load();
    await this.#finish();
  }

  protected async discard(): Promise<void> {
    await this.#drain().catch(() => {});
    const { client, options } = this.#t;
    for (const id of [this.#uploadId, this.#replaces]) if (id !== undefined) await abortUpload(this.#t, this.#key, id);
    await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: this.#key }));
  }
}

/**
 * Aborts a multipart upload, best effort: a store without AbortMultipartUpload (or an upload
 * already gone) leaves the parts to the bucket's lifecycle rule (AbortIncompleteMultipartUpload).
 */
export async function abortUpload(t: S3Target, key: string, uploadId: string): Promise<void> {
  await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.options.bucket, Key: key, UploadId: uploadId })).catch(() => {});
}
