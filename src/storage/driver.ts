/**
 * The storage driver contract (DESIGN §3): small, stream-first, implementable on object stores
 * (no append, no rename: multipart uploads and copy+delete).
 *
 * Paths are absolute and `/`-separated (`/docker/registry/v2/...`), relative to the driver's root.
 * Each component is one or more of `[A-Za-z0-9._:-]`, and never `.` or `..`; the base wrapper
 * (`base.ts`) rejects every other path before a driver sees it.
 */
import type { Readable, Writable } from 'node:stream';

export interface FileInfo {
  readonly path: string;
  /** Bytes of a file; 0 for a directory. */
  readonly size: number;
  readonly modTime: Date;
  readonly isDirectory: boolean;
}

export interface CallOptions {
  /** Aborts the call (and destroys any stream it returned) when the request that asked ends. */
  readonly signal?: AbortSignal | undefined;
}

export interface ReaderOptions extends CallOptions {
  /** Byte offset to start at; past the end is InvalidOffsetError. */
  readonly offset?: number;
  /** Bytes to read from the offset; to the end of the file when absent. */
  readonly length?: number;
}

export interface WriterOptions extends CallOptions {
  /** Continue the file where it ends instead of starting it anew. */
  readonly append?: boolean;
  /**
   * The caller hands over every chunk it writes and never reads or reuses one afterwards, so the
   * driver may take a chunk's memory instead of copying it: the filesystem driver moves such a
   * chunk to its write thread, which leaves the caller's Buffer empty. Only for a stream whose
   * chunks nobody else holds (a request body; not a stream teed to a client).
   */
  readonly handOverChunks?: boolean;
  /**
   * The bytes the caller means to write, when it knows (a request's Content-Length): a hint for
   * how to write them (the filesystem driver writes an upload that reaches 64 MiB with O_DIRECT
   * from its first byte). The writer takes what comes either way.
   */
  readonly expectedBytes?: number;
}

/**
 * A writer to one file. Write to it like any Writable; `end()` (or the end of a pipeline) leaves
 * what was written stored and resumable: a later `writer(path, {append: true})`, in this process or
 * another, continues after the last byte. `commit()` makes the file final and durable; `cancel()`
 * discards it. After either, the writer is done.
 */
export interface FileWriter extends Writable {
  /** Bytes in the file: what it held when opened for append plus what was written since. */
  readonly size: number;
  commit(): Promise<void>;
  cancel(): Promise<void>;
}

export interface StorageDriver {
  /** The driver's name, as in the config (`filesystem`, `inmemory`, `s3`, ...). */
  readonly name: string;

  /** Size, time and kind of the file or directory at `path`; PathNotFoundError when nothing is there. */
  stat(path: string, options?: CallOptions): Promise<FileInfo>;
  /** The whole content of a small file (links, manifests); at most MAX_CONTENT_SIZE bytes. */
  getContent(path: string, options?: CallOptions): Promise<Buffer>;
  /** Stores a small file, atomically: a reader sees the old content or the new, never a part. */
  putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void>;
  /** Streams a file from an offset. */
  reader(path: string, options?: ReaderOptions): Promise<Readable>;
  /** Opens a file for streamed writing, new or appended (see FileWriter). */
  writer(path: string, options?: WriterOptions): Promise<FileWriter>;
  /**
   * The direct children of a directory, as full paths, in ascending byte order.
   * PathNotFoundError when the directory does not exist.
   */
  list(path: string, options?: CallOptions): AsyncIterable<string>;
  /** Moves a file, replacing what is at `to`, atomically to readers of `to`. */
  move(from: string, to: string, options?: CallOptions): Promise<void>;
  /** Deletes a file or a directory with everything below it; PathNotFoundError when nothing is there. */
  delete(path: string, options?: CallOptions): Promise<void>;
  /** A URL a client may fetch the file from directly, or undefined where the driver has none. */
  redirectURL?(path: string, method: 'GET' | 'HEAD', options?: CallOptions): Promise<string | undefined>;
}

/** The largest file getContent/putContent handle; bigger content goes through reader/writer. */
export const MAX_CONTENT_SIZE = 64 * 1024 * 1024;

export class StorageError extends Error {
  readonly driver: string;
  readonly path: string;
  constructor(message: string, driver: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.driver = driver;
    this.path = path;
  }
}

export class PathNotFoundError extends StorageError {
  constructor(driver: string, path: string, options?: { cause?: unknown }) {
    super(`${driver}: path not found: ${path}`, driver, path, options);
  }
}

export class InvalidPathError extends StorageError {
  constructor(driver: string, path: string) {
    super(`${driver}: invalid path: ${JSON.stringify(path)}`, driver, path);
  }
}

export class InvalidOffsetError extends StorageError {
  readonly offset: number;
  constructor(driver: string, path: string, offset: number) {
    super(`${driver}: invalid offset ${offset} for ${path}`, driver, path);
    this.offset = offset;
  }
}

export class UnsupportedMethodError extends StorageError {
  constructor(driver: string, method: string) {
    super(`${driver}: ${method} is not supported`, driver, '');
  }
}

export class ContentTooLargeError extends StorageError {
  constructor(driver: string, path: string, size: number) {
    super(`${driver}: ${path} holds ${size} bytes, more than getContent reads (${MAX_CONTENT_SIZE})`, driver, path);
  }
}

/** A write past the largest file the store holds (S3: 5 TiB). */
export class FileTooLargeError extends StorageError {
  readonly limit: number;
  constructor(driver: string, path: string, limit: number) {
    super(`${driver}: ${path} would grow past ${limit} bytes, the largest file this store holds`, driver, path);
    this.limit = limit;
  }
}

export function isPathNotFound(err: unknown): err is PathNotFoundError {
  return err instanceof PathNotFoundError;
}

/** Options a driver factory receives: its config section and the process-wide logger. */
export type DriverParameters = Readonly<Record<string, unknown>>;
