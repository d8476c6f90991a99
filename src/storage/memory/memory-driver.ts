/**
 * The `inmemory` driver: a tree of directories and files held in memory (distribution's
 * `storage.inmemory`), used by the in-process HTTP tests and for throw-away registries.
 *
 * Directories exist while some file lies below them: deleting or moving the last file out of one
 * removes it. A file is a list of immutable chunks, appended to by writers (each chunk copied once,
 * never the whole file), so a reader takes a snapshot by remembering how many chunks there were.
 * putContent replaces the file object as a whole, which makes it atomic to readers.
 */
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
import { BaseFileWriter, byteOrder } from '../base.js';

const READ_SLICE = 1024 * 1024;

interface MemFile {
  readonly kind: 'file';
  /** Append-only; a chunk is never changed once it is in the list. */
  readonly chunks: Buffer[];
  size: number;
  modTime: Date;
}

interface MemDir {
  readonly kind: 'dir';
  readonly children: Map<string, MemNode>;
  /** Sorted child names, rebuilt on the first list after a change. */
  sorted: string[] | undefined;
  modTime: Date;
}

type MemNode = MemFile | MemDir;

function newDir(): MemDir {
  return { kind: 'dir', children: new Map(), sorted: undefined, modTime: new Date() };
}

function components(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

export class MemoryDriver implements StorageDriver {
  readonly name = 'inmemory';
  readonly #root: MemDir = newDir();

  #lookup(path: string): MemNode | undefined {
    let node: MemNode = this.#root;
    for (const part of components(path)) {
      if (node.kind !== 'dir') return undefined;
      const next: MemNode | undefined = node.children.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /** The directory `parts` names, created (with its parents) where missing. */
  #ensureDir(path: string, parts: readonly string[]): MemDir {
    let dir = this.#root;
    for (const part of parts) {
      const next = dir.children.get(part);
      if (next === undefined) {
        const created = newDir();
        this.#setChild(dir, part, created);
        dir = created;
      } else if (next.kind === 'dir') {
        dir = next;
      } else {
        throw new StorageError(`${this.name}: not a directory: /${parts.join('/')} (for ${path})`, this.name, path);
      }
    }
    return dir;
  }

  #setChild(dir: MemDir, name: string, node: MemNode): void {
    if (!dir.children.has(name)) dir.sorted = undefined;
    dir.children.set(name, node);
    dir.modTime = new Date();
  }

  /** Puts `node` at `path`, replacing a file there (never a directory). */
  #place(path: string, node: MemNode): void {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw new StorageError(`${this.name}: cannot replace the root`, this.name, path);
    const dir = this.#ensureDir(path, parts);
    const existing = dir.children.get(name);
    if (existing?.kind === 'dir' && existing !== node) {
      throw new StorageError(`${this.name}: is a directory: ${path}`, this.name, path);
    }
    this.#setChild(dir, name, node);
  }

  /** Removes what is at `path` (only if it is `expected`, when given), then every emptied parent. */
  #remove(path: string, expected?: MemNode): boolean {
    const parts = components(path);
    if (parts.length === 0) return false;
    const stack: MemDir[] = [];
    let dir = this.#root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = dir.children.get(parts[i]!);
      if (next?.kind !== 'dir') return false;
      stack.push(dir);
      dir = next;
    }
    const name = parts[parts.length - 1]!;
    const node = dir.children.get(name);
    if (node === undefined || (expected !== undefined && node !== expected)) return false;
    dir.children.delete(name);
    dir.sorted = undefined;
    dir.modTime = new Date();
    // Prune directories left empty, deepest first (the root always stays).
    for (let i = parts.length - 2; i >= 0 && dir.children.size === 0; i--) {
      const parent = stack.pop()!;
      parent.children.delete(parts[i]!);
      parent.sorted = undefined;
      parent.modTime = new Date();
      dir = parent;
    }
    return true;
  }

  #file(path: string): MemFile {
    const node = this.#lookup(path);
    if (node?.kind !== 'file') throw new PathNotFoundError(this.name, path);
    return node;
  }

  async stat(path: string, _options?: CallOptions): Promise<FileInfo> {
    const node = this.#lookup(path);
    if (!node) throw new PathNotFoundError(this.name, path);
    return node.kind === 'file'
      ? { path, size: node.size, modTime: node.modTime, isDirectory: false }
      : { path, size: 0, modTime: node.modTime, isDirectory: true };
  }

  async getContent(path: string, _options?: CallOptions): Promise<Buffer> {
    const file = this.#file(path);
    if (file.size > MAX_CONTENT_SIZE) throw new ContentTooLargeError(this.name, path, file.size);
    return Buffer.concat(file.chunks, file.size);
  }

  async putContent(path: string, content: Uint8Array, _options?: CallOptions): Promise<void> {
    const copy = Buffer.from(content); // the caller may reuse its buffer
    this.#place(path, { kind: 'file', chunks: copy.length > 0 ? [copy] : [], size: copy.length, modTime: new Date() });
  }

  async reader(path: string, options?: ReaderOptions): Promise<Readable> {
    const file = this.#file(path);
    const offset = options?.offset ?? 0;
    if (offset > file.size) throw new InvalidOffsetError(this.name, path, offset);
    const end = options?.length === undefined ? file.size : Math.min(file.size, offset + options.length);
    return new MemoryReader(file.chunks, file.chunks.length, offset, end - offset, options?.signal);
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    let file: MemFile;
    const existing = this.#lookup(path);
    if (options?.append && existing?.kind === 'file') {
      file = existing;
    } else {
      file = { kind: 'file', chunks: [], size: 0, modTime: new Date() };
      this.#place(path, file);
    }
    const writer = new MemoryWriter(this, path, file);
    if (options?.signal) addAbortSignal(options.signal, writer);
    return writer;
  }

  /** Used by MemoryWriter.cancel: removes the file only if it is still the writer's. */
  discard(path: string, file: MemFile): void {
    this.#remove(path, file);
  }

  async *list(path: string, _options?: CallOptions): AsyncIterable<string> {
    const node = this.#lookup(path);
    if (node?.kind !== 'dir') throw new PathNotFoundError(this.name, path);
    node.sorted ??= [...node.children.keys()].sort(byteOrder);
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const name of node.sorted) yield prefix + name;
  }

  async move(from: string, to: string, _options?: CallOptions): Promise<void> {
    const node = this.#lookup(from);
    if (!node) throw new PathNotFoundError(this.name, from);
    if (from === to) return;
    if (to.startsWith(`${from}/`)) throw new StorageError(`${this.name}: cannot move ${from} into itself (${to})`, this.name, from);
    this.#place(to, node);
    this.#remove(from, node);
  }

  async delete(path: string, _options?: CallOptions): Promise<void> {
    if (!this.#remove(path)) throw new PathNotFoundError(this.name, path);
  }
}

class MemoryWriter extends BaseFileWriter {
  #size: number;

  constructor(
    private readonly driver: MemoryDriver,
    path: string,
    private readonly file: MemFile,
  ) {
    super(driver.name, path, 1024 * 1024);
    this.#size = file.size;
  }

  get size(): number {
    return this.#size;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (chunk.length > 0) {
      this.file.chunks.push(Buffer.from(chunk)); // copy: the caller may reuse its buffer once called back
      this.file.size += chunk.length;
      this.file.modTime = new Date();
      this.#size += chunk.length;
    }
    callback();
  }

  protected async durable(): Promise<void> {}

  protected async discard(): Promise<void> {
    this.driver.discard(this.path, this.file);
  }
}

/** Streams `length` bytes from `offset` of the first `count` chunks (zero-copy slices). */
class MemoryReader extends Readable {
  #index = 0;
  #pos: number;
  #remaining: number;

  constructor(
    private readonly chunks: readonly Buffer[],
    private readonly count: number,
    offset: number,
    length: number,
    signal: AbortSignal | undefined,
  ) {
    super({ highWaterMark: READ_SLICE, signal });
    this.#remaining = length;
    let skip = offset;
    while (this.#index < count && skip >= chunks[this.#index]!.length) {
      skip -= chunks[this.#index]!.length;
      this.#index++;
    }
    this.#pos = skip;
  }

  override _read(): void {
    while (this.#remaining > 0 && this.#index < this.count) {
      const chunk = this.chunks[this.#index]!;
      const take = Math.min(chunk.length - this.#pos, this.#remaining, READ_SLICE);
      const piece = chunk.subarray(this.#pos, this.#pos + take);
      this.#pos += take;
      this.#remaining -= take;
      if (this.#pos >= chunk.length) {
        this.#index++;
        this.#pos = 0;
      }
      if (!this.push(piece)) return;
    }
    this.push(null);
  }
}
