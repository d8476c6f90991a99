/**
 * The S3 file writer: streams into multipart uploads with parts of exactly `chunksize` bytes (all
 * parts equal, the last one shorter), holding at most one part being filled and MAX_IN_FLIGHT parts
 * being sent, so memory per upload is bounded by (1 + MAX_IN_FLIGHT) × chunksize whatever the size.
 * Parts go to segment 0 (the upload on the file's key), then to segments on hidden keys, one
 * completed every `segmentParts` parts (s3-segments.ts), so a file may reach S3's 5 TiB.
 *
 * `end()` stores the state (`s3-pending.ts`): the parts sent so far and the tail that does not fill
 * a part yet, so a later append writer, on any instance, continues from there; so does completing a
 * segment. `commit()` sends the tail as the last part and completes the upload (or, with no full
 * part, stores a plain object; or, past one segment, joins the segments).
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
import { PartBuffer } from '../part-buffer.js';
import { PartSends } from '../part-sends.js';
import { FileTooLargeError, StorageError } from '../driver.js';
import { writeOptions, type S3DriverOptions } from './s3-config.js';
import { decodeEtags, encodeEtags, pendingMetadata, type PendingState } from './s3-pending.js';
import { assembleSegments, deleteSegments, newSegmentId, releasePending, segmentKey, segmentPlan, segmentSizes, type SegmentPlan } from './s3-segments.js';

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
  /** A pending state the writer replaces (not appending): released when the new state is stored. */
  readonly replaces: PendingState | undefined;
}

/** The multipart upload of segment n ≥ 1, on its hidden key. */
interface OpenSegment {
  readonly n: number;
  readonly uploadId: string;
  readonly etags: string[];
}

export class S3Writer extends BaseFileWriter {
  readonly #t: S3Target;
  readonly #key: string;
  readonly #plan: SegmentPlan;
  readonly #segmentId: string;
  /** Segment 0's multipart upload, on the file's key. */
  #uploadId: string | undefined;
  /** ETags of segment 0's parts, a slot reserved as soon as a part is cut (filled in when sent). */
  #head: string[] = [];
  #open: OpenSegment | undefined;
  /** Full parts cut so far, over all segments. */
  #parts: number;
  readonly #buffer = new PartBuffer();
  #size: number;
  readonly #sends = new PartSends();
  /** Bytes stored at the key that must be read back before new bytes (tail or plain object). */
  #unloaded: { length: number; pending: boolean } | undefined;
  #loading: Promise<void> | undefined;
  #replaces: PendingState | undefined;
  /** Every segment is complete and the sealed state stored: only joining them remains. */
  #sealed: boolean;
  /** A commit began: a failure from here on leaves the stored state as it is. */
  #finishing = false;
  #completed = false;

  constructor(t: S3Target, path: string, key: string, start: WriterStart) {
    super(t.name, path, 1024 * 1024);
    this.#t = t;
    this.#key = key;
    this.#replaces = start.replaces;
    const pending = start.pending;
    this.#plan = segmentPlan(pending?.partSize ?? t.options.chunkSize, t.options, pending?.segmentParts);
    this.#segmentId = pending?.segmentId ?? newSegmentId();
    this.#uploadId = pending?.uploadId;
    this.#parts = pending?.parts ?? 0;
    this.#sealed = pending?.sealed ?? false;
    this.#size = pending ? pending.parts * pending.partSize + pending.tail : start.plainLength;
    const stored = pending ? (pending.sealed ? 0 : pending.tail) : start.plainLength;
    if (stored > 0 || pending) this.#unloaded = { length: stored, pending: pending !== undefined };
    if (pending) {
      const k = this.#plan.segmentParts;
      this.#head = new Array<string>(Math.min(pending.parts, k)).fill('');
      if (!pending.sealed && pending.parts > k && pending.parts % k !== 0) {
        if (pending.segmentUploadId === undefined || pending.segmentId === undefined) {
          throw new StorageError(`${this.driverName}: the stored state of ${path} names no upload for segment ${Math.floor(pending.parts / k)}`, this.driverName, path);
        }
        this.#open = { n: Math.floor(pending.parts / k), uploadId: pending.segmentUploadId, etags: new Array<string>(pending.parts % k).fill('') };
      }
    }
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
      const heads = this.#head.length;
      const opens = this.#open?.etags.length ?? 0;
      for await (const raw of body) {
        const chunk = raw as Buffer;
        const inTail = Math.max(0, Math.min(chunk.length, unloaded.length - seen));
        if (inTail > 0) await this.#take(chunk.subarray(0, inTail));
        if (inTail < chunk.length) trailer.push(chunk.subarray(inTail));
        seen += chunk.length;
      }
      if (unloaded.pending) {
        const etags = decodeEtags(Buffer.concat(trailer), heads + opens);
        // Parts cut while loading (a tail never fills one) keep their slots after the stored ones.
        this.#head.splice(0, heads, ...etags.slice(0, heads));
        if (this.#open) this.#open.etags.splice(0, opens, ...etags.slice(heads));
      }
      this.#unloaded = undefined;
    })();
    return this.#loading;
  }

  /** Adds bytes; cuts and sends full parts, waiting while too many are in flight. */
  async #take(chunk: Buffer): Promise<void> {
    this.#sends.check();
    this.#buffer.push(chunk);
    while (this.#buffer.length >= this.#plan.partSize) {
      await this.#sendFull(this.#buffer.cut(this.#plan.partSize));
      await this.#sends.below(MAX_IN_FLIGHT);
      if (this.#open && this.#open.etags.length === this.#plan.segmentParts) await this.#checkpoint();
    }
  }


  async #create(key: string): Promise<string> {
    const { client, options } = this.#t;
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: options.bucket, Key: key, ...writeOptions(options) }));
    if (!created.UploadId) throw new StorageError(`${this.driverName}: no upload id for ${this.path}`, this.driverName, this.path);
    return created.UploadId;
  }

  /** Sends the next full part: to segment 0 for the first `segmentParts` parts, then to the segment it falls in. */
  async #sendFull(part: Buffer): Promise<void> {
    const n = Math.floor(this.#parts / this.#plan.segmentParts);
    if (n === 0) {
      this.#uploadId ??= await this.#create(this.#key);
      this.#dispatch(this.#key, this.#uploadId, this.#head, part);
    } else {
      if (this.#open?.n !== n) this.#open = { n, uploadId: await this.#create(segmentKey(this.#key, this.#segmentId, n)), etags: [] };
      this.#dispatch(segmentKey(this.#key, this.#segmentId, n), this.#open.uploadId, this.#open.etags, part);
    }
    this.#parts++;
  }

  /** Starts sending `part` as the next part of the upload whose ETags `etags` lists. */
  #dispatch(key: string, uploadId: string, etags: string[], part: Buffer): void {
    const { client, options } = this.#t;
    const slot = etags.length;
    etags.push('');
    this.#sends.add(
      client
        .send(new UploadPartCommand({ Bucket: options.bucket, Key: key, UploadId: uploadId, PartNumber: slot + 1, Body: part, ContentLength: part.length }))
        .then((out) => {
          if (!out.ETag) throw new Error(`part ${slot + 1} has no ETag`);
          etags[slot] = out.ETag;
        }),
    );
  }

  async #complete(key: string, uploadId: string, etags: readonly string[]): Promise<void> {
    await this.#t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.#t.options.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
  }

  /** Completes the open segment to its object (once every part is sent). */
  async #completeOpen(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    await this.#sends.drain();
    await this.#complete(segmentKey(this.#key, this.#segmentId, open.n), open.uploadId, open.etags);
    this.#open = undefined;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#sealed) {
      callback(new StorageError(`${this.driverName}: ${this.path} is being committed; it takes no more bytes`, this.driverName, this.path));
      return;
    }
    if (this.#size + chunk.length > this.#plan.maxFileSize) {
      callback(new FileTooLargeError(this.driverName, this.path, this.#plan.maxFileSize));
      return;
    }
    this.#size += chunk.length;
    this.#load()
      .then(() => this.#take(Buffer.from(chunk))) // a copy: the caller may reuse its buffer
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const nothingNew = this.#unloaded !== undefined && this.#replaces === undefined && !this.commitRequested;
    (nothingNew ? Promise.resolve() : this.#load().then(() => this.#sends.drain()).then(() => (this.commitRequested ? this.#finish() : this.#checkpoint())))
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!error || this.#completed || this.#finishing || this.#unloaded !== undefined) {
      callback(error);
      return;
    }
    // Cut off mid-stream: keep what reached storage, so the client can resume where status says.
    this.#sends.drain()
      .then(() => this.#checkpoint())
      .then(
        () => callback(error),
        () => callback(error),
      );
  }

  /** Stores the tail and the part lists at the key (the state an append writer resumes from). */
  async #checkpoint(): Promise<void> {
    const { client, options } = this.#t;
    if (this.#open && this.#open.etags.length === this.#plan.segmentParts) await this.#completeOpen();
    await this.#sends.drain(); // every listed part sent and its ETag known
    const tail = this.#buffer.peek();
    const uploadId = this.#uploadId;
    const etags = [...this.#head, ...(this.#open?.etags ?? [])];
    const body = uploadId === undefined ? tail : Buffer.concat([tail, encodeEtags(etags)]);
    const state: PendingState | undefined =
      uploadId === undefined
        ? undefined
        : {
            uploadId,
            partSize: this.#plan.partSize,
            parts: this.#parts,
            tail: tail.length,
            segmentParts: this.#plan.segmentParts,
            segmentId: this.#segmentId,
            segmentUploadId: this.#open?.uploadId,
            sealed: false,
          };
    await client.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: this.#key,
        Body: body,
        ContentLength: body.length,
        ...writeOptions(options),
        ...(state === undefined ? {} : { Metadata: pendingMetadata(state) }),
      }),
    );
    await this.#releaseReplaced();
  }

  /** Makes the file final: a plain object, segment 0 completed on the key, or the segments joined. */
  async #finish(): Promise<void> {
    if (this.#completed) return;
    this.#finishing = true;
    const { client, options } = this.#t;
    if (this.#uploadId === undefined) {
      await this.#checkpoint();
    } else if (this.#parts <= this.#plan.segmentParts) {
      if (this.#buffer.length > 0) this.#dispatch(this.#key, this.#uploadId, this.#head, this.#buffer.cut(this.#buffer.length));
      await this.#sends.drain();
      await this.#complete(this.#key, this.#uploadId, this.#head);
      await this.#releaseReplaced();
    } else if (!this.#sealed) {
      if (this.#buffer.length > 0 && this.#open) {
        this.#dispatch(segmentKey(this.#key, this.#segmentId, this.#open.n), this.#open.uploadId, this.#open.etags, this.#buffer.cut(this.#buffer.length));
      } else if (this.#buffer.length > 0) {
        const tail = this.#buffer.cut(this.#buffer.length);
        const key = segmentKey(this.#key, this.#segmentId, this.#parts / this.#plan.segmentParts);
        await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: tail, ContentLength: tail.length, ...writeOptions(options) }));
      }
      await this.#completeOpen();
      await this.#sends.drain();
      await this.#seal();
    }
    if (this.#sealed && this.#uploadId !== undefined) {
      const sizes = segmentSizes(this.#size, Math.ceil(this.#size / this.#plan.segmentSize), this.#plan);
      await assembleSegments(this.#t, this.#key, { uploadId: this.#uploadId, etags: this.#head }, this.#segmentId, sizes);
      await this.#releaseReplaced();
    }
    this.#completed = true;
  }

  /** Stores the sealed state: every segment complete, segment 0's part list, no tail (a retried commit resumes from it). */
  async #seal(): Promise<void> {
    const uploadId = this.#uploadId!;
    const { partSize, segmentParts } = this.#plan;
    const tail = this.#size - this.#parts * partSize;
    const state: PendingState = { uploadId, partSize, parts: this.#parts, tail, segmentParts, segmentId: this.#segmentId, segmentUploadId: undefined, sealed: true };
    const body = encodeEtags(this.#head);
    const { client, options } = this.#t;
    await client.send(
      new PutObjectCommand({ Bucket: options.bucket, Key: this.#key, Body: body, ContentLength: body.length, ...writeOptions(options), Metadata: pendingMetadata(state) }),
    );
    this.#sealed = true;
    await this.#releaseReplaced();
  }

  async #releaseReplaced(): Promise<void> {
    const old = this.#replaces;
    this.#replaces = undefined;
    if (old !== undefined && old.uploadId !== this.#uploadId) await releasePending(this.#t, this.#key, old);
  }

  protected async durable(): Promise<void> {
    await this.#load();
    await this.#finish();
  }

  protected async discard(): Promise<void> {
    await this.#sends.drain().catch(() => {});
    const { client, options } = this.#t;
    if (this.#uploadId !== undefined) await abortUpload(this.#t, this.#key, this.#uploadId);
    if (this.#open) await abortUpload(this.#t, segmentKey(this.#key, this.#segmentId, this.#open.n), this.#open.uploadId);
    if (this.#parts > this.#plan.segmentParts) await deleteSegments(this.#t, this.#key, this.#segmentId);
    await this.#releaseReplaced();
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
