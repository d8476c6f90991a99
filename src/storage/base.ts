/**
 * The base wrapper every driver runs behind (DESIGN §3), and helpers the drivers share.
 *
 * `CheckedDriver` validates every path before the inner driver sees it, refuses a call whose
 * signal is already aborted, and turns whatever else the inner driver throws into a StorageError
 * that names the driver, the operation and the path (the original error kept as `cause`).
 * StorageErrors and AbortErrors pass through unchanged.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  InvalidOffsetError,
  InvalidPathError,
  MAX_CONTENT_SIZE,
  StorageError,
  type CallOptions,
  type FileInfo,
  type FileWriter,
  type ReaderOptions,
  type StorageDriver,
  type WriterOptions,
} from './driver.js';
import type { Readable } from 'node:stream';

const PATH_RE = /^(\/[A-Za-z0-9._:-]+)+$/;
const DOT_COMPONENT_RE = /(^|\/)\.\.?(\/|$)/;

/** Whether `path` is a valid driver path (absolute, `[A-Za-z0-9._:-]+` components, no `.`/`..`). */
export function isValidPath(path: unknown): path is string {
  return typeof path === 'string' && PATH_RE.test(path) && !DOT_COMPONENT_RE.test(path);
}

/** Whether `name` is a valid single path component. */
export function isValidComponent(name: string): boolean {
  return /^[A-Za-z0-9._:-]+$/.test(name) && name !== '.' && name !== '..';
}

/** The errno code (`ENOENT`, ...) of a Node system error, if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Ascending byte order for ASCII strings (what `list` promises). */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The commit/cancel state machine both local drivers' writers share. Subclasses implement the
 * Writable parts and two hooks: `durable()` runs after the stream finished on commit, `discard()`
 * after it closed on cancel. `commitRequested` is true while commit() is the one ending the stream,
 * so `_final` can make the file durable on its way out.
 */
export abstract class BaseFileWriter extends Writable implements FileWriter {
  protected commitRequested = false;
  #commit: Promise<void> | undefined;
  #cancel: Promise<void> | undefined;
  #committed = false;

  protected constructor(
    protected readonly driverName: string,
    protected readonly path: string,
    highWaterMark: number,
  ) {
    super({ highWaterMark, decodeStrings: true });
  }

  abstract get size(): number;
  protected abstract durable(): Promise<void>;
  protected abstract discard(): Promise<void>;

  commit(): Promise<void> {
    if (this.#cancel) return Promise.reject(new StorageError(`${this.driverName}: commit after cancel: ${this.path}`, this.driverName, this.path));
    this.#commit ??= this.#doCommit();
    return this.#commit;
  }

  async #doCommit(): Promise<void> {
    if (!this.writableFinished) {
      if (this.destroyed) {
        throw new StorageError(`${this.driverName}: commit of a destroyed writer: ${this.path}`, this.driverName, this.path, {
          cause: this.errored ?? undefined,
        });
      }
      if (!this.writableEnded) {
        this.commitRequested = true;
        this.end();
      }
      await finished(this, { readable: false });
    }
    await this.durable();
    this.#committed = true;
  }

  cancel(): Promise<void> {
    if (this.#committed) return Promise.reject(new StorageError(`${this.driverName}: cancel after commit: ${this.path}`, this.driverName, this.path));
    this.#cancel ??= this.#doCancel();
    return this.#cancel;
  }

  async #doCancel(): Promise<void> {
    if (!this.closed) {
      const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
      this.on('error', () => {}); // a failing close must not crash the process; cancel discards anyway
      this.destroy();
      await closed;
    }
    await this.discard();
  }
}

function checkPath(driver: string, path: unknown, allowRoot = false): asserts path is string {
  if (allowRoot && path === '/') return;
  if (!isValidPath(path)) throw new InvalidPathError(driver, typeof path === 'string' ? path : String(path));
}

function checkSignal(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

function isNonNegativeInteger(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export class CheckedDriver implements StorageDriver {
  readonly name: string;

  constructor(readonly inner: StorageDriver) {
    this.name = inner.name;
  }

  /** The inner driver's error as a StorageError, unless it already is one (or is an abort). */
  wrapError(operation: string, path: string, err: unknown): unknown {
    if (err instanceof StorageError || isAbortError(err)) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new StorageError(`${this.name}: ${operation} ${path}: ${message}`, this.name, path, { cause: err });
  }

  async #call<T>(operation: string, path: string, options: CallOptions | undefined, fn: () => Promise<T>): Promise<T> {
    checkSignal(options?.signal);
    try {
      return await fn();
    } catch (err) {
      throw this.wrapError(operation, path, err);
    }
  }

  stat(path: string, options?: CallOptions): Promise<FileInfo> {
    return this.#call('stat', path, options, async () => {
      checkPath(this.name, path);
      return this.inner.stat(path, options);
    });
  }

  getContent(path: string, options?: CallOptions): Promise<Buffer> {
    return this.#call('getContent', path, options, async () => {
      checkPath(this.name, path);
      return this.inner.getContent(path, options);
    });
  }

  putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    return this.#call('putContent', path, options, async () => {
      checkPath(this.name, path);
      if (!(content instanceof Uint8Array)) throw new StorageError(`${this.name}: putContent ${path}: content is not bytes`, this.name, path);
      if (content.byteLength > MAX_CONTENT_SIZE) {
        throw new StorageError(`${this.name}: putContent ${path}: ${content.byteLength} bytes, more than ${MAX_CONTENT_SIZE}`, this.name, path);
      }
      return this.inner.putContent(path, content, options);
    });
  }

  reader(path: string, options?: ReaderOptions): Promise<Readable> {
    return this.#call('reader', path, options, async () => {
      checkPath(this.name, path);
      const offset = options?.offset ?? 0;
      if (!isNonNegativeInteger(offset)) throw new InvalidOffsetError(this.name, path, offset);
      const length = options?.length;
      if (length !== undefined && !isNonNegativeInteger(length)) {
        throw new StorageError(`${this.name}: reader ${path}: invalid length ${length}`, this.name, path);
      }
      return this.inner.reader(path, options);
    });
  }

  writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    return this.#call('writer', path, options, async () => {
      checkPath(this.name, path);
      const w = await this.inner.writer(path, options);
      // Errors of commit/cancel become StorageErrors too (stream errors stay as the stream emits them).
      const commit = w.commit.bind(w);
      const cancel = w.cancel.bind(w);
      Object.defineProperty(w, 'commit', {
        configurable: true,
        value: () => commit().catch((err: unknown) => Promise.reject(this.wrapError('commit', path, err))),
      });
      Object.defineProperty(w, 'cancel', {
        configurable: true,
        value: () => cancel().catch((err: unknown) => Promise.reject(this.wrapError('cancel', path, err))),
      });
      return w;
    });
  }

  async *list(path: string, options?: CallOptions): AsyncIterable<string> {
    const signal = options?.signal;
    checkSignal(signal);
    checkPath(this.name, path, true);
    try {
      for await (const child of this.inner.list(path, options)) {
        checkSignal(signal);
        yield child;
      }
    } catch (err) {
      throw this.wrapError('list', path, err);
    }
  }

  move(from: string, to: string, options?: CallOptions): Promise<void> {
    return this.#call('move', `${from} -> ${to}`, options, async () => {
      checkPath(this.name, from);
      checkPath(this.name, to);
      return this.inner.move(from, to, options);
    });
  }

  delete(path: string, options?: CallOptions): Promise<void> {
    return this.#call('delete', path, options, async () => {
      checkPath(this.name, path);
      return this.inner.delete(path, options);
    });
  }

  /** The inner driver's redirect URL; undefined where the inner driver has none. */
  redirectURL(path: string, method: 'GET' | 'HEAD', options?: CallOptions): Promise<string | undefined> {
    return this.#call('redirectURL', path, options, async () => {
      checkPath(this.name, path);
      return this.inner.redirectURL ? this.inner.redirectURL(path, method, options) : undefined;
    });
  }
}

/** `d` behind the checks (idempotent: a CheckedDriver is returned as it is). */
export function wrapDriver(d: StorageDriver): CheckedDriver {
  return d instanceof CheckedDriver ? d : new CheckedDriver(d);
}
