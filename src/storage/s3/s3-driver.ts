/**
 * The `s3` driver on the AWS SDK v3, with distribution's object layout: the file at `/a/b` is the
 * key `<rootdirectory>/a/b`; directories are key prefixes. Any S3-compatible store works that has
 * PutObject, GetObject (ranges), HeadObject, CopyObject, ListObjects, DeleteObjects and the
 * multipart calls (CreateMultipartUpload, UploadPart, CompleteMultipartUpload; AbortMultipartUpload
 * best effort; UploadPartCopy above `multipartcopythresholdsize` and to join the segments of a file
 * larger than one segment, 5 GiB at most: s3-segments.ts).
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable, addAbortSignal } from 'node:stream';
import {
  ContentTooLargeError,
  InvalidOffsetError,
  MAX_CONTENT_SIZE,
  PathNotFoundError,
  StorageError,
  type CallOptions,
  type FileInfo,
  type FileWriter,
  type ReaderOptions,
  type StorageDriver,
  type WriterOptions,
} from '../driver.js';
import { byteOrder } from '../base.js';
import { writeOptions, type S3DriverOptions } from './s3-config.js';
import { s3Client } from './s3-client.js';
import { logicalSize, pendingState } from './s3-pending.js';
import { S3Writer, type S3Target } from './s3-writer.js';
import { isHiddenName, releasePending } from './s3-segments.js';
import { hasKeysUnder, listPages, walkChildren } from './s3-list.js';
import { copyObject } from './s3-copy.js';

/** How long a redirect URL is valid (distribution: 20 minutes). */
const REDIRECT_EXPIRY_SECONDS = 20 * 60;

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

function send(options: CallOptions | undefined): { abortSignal?: AbortSignal } {
  return options?.signal ? { abortSignal: options.signal } : {};
}

export class S3Driver implements StorageDriver, S3Target {
  readonly name = 's3';
  readonly client: S3Client;

  /** `client` replaces the SDK client made from `options` (tests: a stand-in store). */
  constructor(readonly options: S3DriverOptions, client?: S3Client) {
    this.client = client ?? s3Client(options);
  }

  /** The key of a driver path (distribution's `s3Path`: root directory + path, no leading slash). */
  key(path: string): string {
    const root = this.options.rootDirectory;
    return path === '/' ? (root === '' ? '' : root) : root === '' ? path.slice(1) : `${root}${path}`;
  }

  #dirPrefix(path: string): string {
    const key = this.key(path);
    return key === '' ? '' : `${key}/`;
  }

  async #head(path: string, options?: CallOptions): Promise<HeadObjectCommandOutput | undefined> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(path) }), send(options));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo> {
    let head: HeadObjectCommandOutput | undefined;
    try {
      head = await this.#head(path, options);
    } catch (err) {
      // Some stores (s3rver) fail a HEAD of a key that is also a prefix instead of answering 404.
      if (await hasKeysUnder(this, this.#dirPrefix(path), options?.signal)) return { path, size: 0, modTime: new Date(), isDirectory: true };
      throw err;
    }
    if (head) {
      const size = logicalSize(head.ContentLength ?? 0, pendingState(head.Metadata));
      return { path, size, modTime: head.LastModified ?? new Date(), isDirectory: false };
    }
    if (await hasKeysUnder(this, this.#dirPrefix(path), options?.signal)) {
      return { path, size: 0, modTime: new Date(), isDirectory: true };
    }
    throw new PathNotFoundError(this.name, path);
  }

  #refusePending(path: string, head: HeadObjectCommandOutput): void {
    if (pendingState(head.Metadata)) {
      throw new StorageError(`${this.name}: ${path} is being written in parts; it can be read once committed`, this.name, path);
    }
  }

  async getContent(path: string, options?: CallOptions): Promise<Buffer> {
    const head = await this.#head(path, options);
    if (!head) throw new PathNotFoundError(this.name, path);
    this.#refusePending(path, head);
    const size = head.ContentLength ?? 0;
    if (size > MAX_CONTENT_SIZE) throw new ContentTooLargeError(this.name, path, size);
    const stream = await this.reader(path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    const head = await this.#head(path, options);
    const pending = pendingState(head?.Metadata);
    const body = Buffer.from(content); // the caller may reuse its buffer
    await this.client.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(path), Body: body, ContentLength: body.length, ...writeOptions(this.options) }),
      send(options),
    );
    if (pending) await releasePending(this, this.key(path), pending, options?.signal);
  }

  async reader(path: string, options?: ReaderOptions): Promise<Readable> {
    const head = await this.#head(path, options);
    if (!head) throw new PathNotFoundError(this.name, path);
    this.#refusePending(path, head);
    const size = head.ContentLength ?? 0;
    const offset = options?.offset ?? 0;
    if (offset > size) throw new InvalidOffsetError(this.name, path, offset);
    const end = options?.length === undefined ? size : Math.min(size, offset + options.length);
    if (end <= offset) return Readable.from([]);
    const out = await this.client.send(
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(path),
        ...(offset > 0 || end < size ? { Range: `bytes=${offset}-${end - 1}` } : {}),
      }),
      send(options),
    );
    const body = out.Body as Readable;
    if (options?.signal) addAbortSignal(options.signal, body);
    return body;
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    const head = await this.#head(path, options);
    const pending = pendingState(head?.Metadata);
    const start = options?.append && head
      ? { pending, plainLength: pending ? 0 : (head.ContentLength ?? 0), replaces: undefined }
      : { pending: undefined, plainLength: 0, replaces: pending };
    const writer = new S3Writer(this, path, this.key(path), start);
    if (options?.signal) addAbortSignal(options.signal, writer);
    return writer;
  }

  async *list(path: string, options?: CallOptions): AsyncIterable<string> {
    const prefix = this.#dirPrefix(path);
    const names: string[] = [];
    const pages = this.options.delimiterListing ? listPages(this, prefix, true, options?.signal) : walkChildren(this, prefix, options?.signal);
    for await (const page of pages) {
      for (const key of page.files) if (key.length > prefix.length && !isHiddenName(key.slice(prefix.length))) names.push(key.slice(prefix.length));
      for (const dir of page.dirs) names.push(dir.slice(prefix.length, -1));
    }
    if (names.length === 0) throw new PathNotFoundError(this.name, path);
    const base = path === '/' ? '/' : `${path}/`;
    for (const name of names.sort(byteOrder)) yield base + name;
  }

  async move(from: string, to: string, options?: CallOptions): Promise<void> {
    const head = await this.#head(from, options);
    if (!head) throw new PathNotFoundError(this.name, from);
    this.#refusePending(from, head);
    if (from === to) return;
    await copyObject(this, this.key(from), this.key(to), head.ContentLength ?? 0, options?.signal);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(from) }), send(options));
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const head = await this.#head(path, options);
    const keys: string[] = [];
    if (head) {
      const pending = pendingState(head.Metadata);
      if (pending) await releasePending(this, this.key(path), pending, options?.signal);
      keys.push(this.key(path));
    }
    for await (const page of listPages(this, this.#dirPrefix(path), false, options?.signal)) {
      for (const key of page.files) {
        // An upload's data may be a pending multipart upload: abort it with the object.
        if (/(^|\/)_uploads\/[^/]+\/data$/.test(key)) await this.#abortPending(key, options);
        keys.push(key);
      }
    }
    if (keys.length === 0) throw new PathNotFoundError(this.name, path);
    for (let i = 0; i < keys.length; i += 1000) {
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
        send(options),
      );
      const failed = out.Errors?.[0];
      if (failed) throw new StorageError(`${this.name}: delete ${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`, this.name, path);
    }
  }

  async #abortPending(key: string, options?: CallOptions): Promise<void> {
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }), send(options)).catch(() => undefined);
    const pending = pendingState(head?.Metadata);
    if (pending) await releasePending(this, key, pending, options?.signal);
  }

  async redirectURL(path: string, method: 'GET' | 'HEAD', _options?: CallOptions): Promise<string | undefined> {
    const input = { Bucket: this.options.bucket, Key: this.key(path) };
    const command = method === 'GET' ? new GetObjectCommand(input) : new HeadObjectCommand(input);
    return getSignedUrl(this.client, command, { expiresIn: REDIRECT_EXPIRY_SECONDS });
  }
}
