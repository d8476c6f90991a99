/**
 * The `filesystem` driver (distribution's `storage.filesystem`): driver path `/a/b` is the file
 * `<root>/a/b`, so a root written by Wharf is served by distribution and the other way round.
 *
 * - putContent writes a temp file in `<root>/.wharf-staging/`, fdatasyncs it and renames it over
 *   the target: readers see the old content or the new, and a crash never leaves a partial file in
 *   the registry layout. Where the rename crosses filesystems (EXDEV: a subdirectory mounted
 *   separately) the temp file is made in the target's own directory instead. A new empty file is
 *   simply created.
 * - Writers append with O_APPEND through the process's write thread (write-thread.ts) in batches
 *   of 128 KiB, fdatasync in the background as they go, and once more on commit. Past 64 MiB a
 *   file's bytes go on with O_DIRECT (from the first byte when the writer is told the file will
 *   get there; filesystem-writer.ts says why), where the filesystem takes it and `directIo` is
 *   not off. With `directIo` on, the bytes they wrote through the page cache
 *   leave it once written back (page-cache.ts says why).
 * - Readers stream 1 MiB buffers that the blob response gives back (file-reader.ts); a range of
 *   64 MiB or more is read with O_DIRECT, in 2 MiB blocks.
 * - Nothing outside the root is touched: every path is checked against the root after resolving.
 */
import { constants as fsConstants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, addAbortSignal } from 'node:stream';
import {
  ContentTooLargeError,
  InvalidOffsetError,
  InvalidPathError,
  MAX_CONTENT_SIZE,
  PathNotFoundError,
  type CallOptions,
  type FileInfo,
  type FileWriter,
  type ReaderOptions,
  type StorageDriver,
  type WriterOptions,
} from '../driver.js';
import { byteOrder, errnoCode, isValidComponent } from '../base.js';
import { FileReader, giveDirectReadSlots, takeDirectReadSlots } from './file-reader.js';
import { DIRECT_FROM_BYTES, FilesystemWriter } from './filesystem-writer.js';

/** The staging directory below the root for putContent's temp files. */
export const STAGING_DIRECTORY = '.wharf-staging';
/** Staging files older than this are left-overs of a crash and removed at open. */
export const STAGING_MAX_AGE_MS = 60 * 60 * 1000;
/** distribution's default `rootdirectory`. */
export const DEFAULT_ROOT_DIRECTORY = '/var/lib/registry';

/** Fallback temp files in a target's own directory: `.<basename>.tmp-<hex>`; never listed. */
const LOCAL_TEMP_RE = /^\..+\.tmp-[0-9a-f]{16}$/;
const RETRIES = 5;

export interface FilesystemDriverOptions {
  readonly rootDirectory: string;
  /** Large files (64 MiB and up) written and read with O_DIRECT where the filesystem allows it; default true. */
  readonly directIo?: boolean;
}

function randomSuffix(): string {
  return randomBytes(8).toString('hex');
}

function localTempPath(full: string): string {
  return nodePath.join(nodePath.dirname(full), `.${nodePath.basename(full)}.tmp-${randomSuffix()}`);
}

/** Writes `content` to a new file and fdatasyncs it; removes the file on failure. */
async function writeDurably(file: string, content: Uint8Array): Promise<void> {
  const fh = await fs.open(file, 'wx');
  try {
    await fh.writeFile(content);
    await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(file, { force: true });
    throw err;
  }
  await fh.close();
}

async function exists(full: string): Promise<boolean> {
  try {
    await fs.lstat(full);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

/** Opens `full` with `flags`, making its parent directories when they are missing (again if a delete races). */
async function openMakingParents(full: string, flags: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fs.open(full, flags);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || attempt >= RETRIES) throw err;
      await fs.mkdir(nodePath.dirname(full), { recursive: true });
    }
  }
}

/**
 * Removes a directory and everything below it, symbolic links as links: one readdir per directory
 * (whose entries say which are directories), an unlink per file and an rmdir, where fs.rm stats
 * every entry and tries the rmdir first (an upload's directory: 4 calls with the lstat, not 7). An entry
 * that vanishes meanwhile is fine; one created meanwhile makes it go round again.
 */
async function removeDirectory(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const child = nodePath.join(dir, entry.name);
        try {
          if (entry.isDirectory()) await removeDirectory(child);
          else await fs.unlink(child);
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
      }),
    );
    try {
      await fs.rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= RETRIES) throw err;
    }
  }
}

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  readonly rootDirectory: string;
  readonly stagingDirectory: string;
  readonly #rootPrefix: string;
  /** O_DIRECT is asked for: configured, and not yet refused by the filesystem. */
  #direct: boolean;
  /** `directIo` as configured: uploads leave the page cache once written back (page-cache.ts). */
  readonly #releasePages: boolean;

  private constructor(rootDirectory: string, directIo: boolean) {
    this.#direct = directIo;
    this.#releasePages = directIo;
    this.rootDirectory = nodePath.resolve(rootDirectory);
    this.#rootPrefix = this.rootDirectory.endsWith(nodePath.sep) ? this.rootDirectory : this.rootDirectory + nodePath.sep;
    this.stagingDirectory = nodePath.join(this.rootDirectory, STAGING_DIRECTORY);
  }

  /** Creates the root and staging directories and removes staging files older than an hour. */
  static async open(options: FilesystemDriverOptions): Promise<FilesystemDriver> {
    const driver = new FilesystemDriver(options.rootDirectory, options.directIo ?? true);
    await fs.mkdir(driver.stagingDirectory, { recursive: true });
    await driver.cleanStaging();
    return driver;
  }

  /** Removes staging entries older than `maxAgeMs` (younger ones may belong to a live process). */
  async cleanStaging(maxAgeMs = STAGING_MAX_AGE_MS): Promise<void> {
    const now = Date.now();
    const names = await fs.readdir(this.stagingDirectory).catch(() => [] as string[]);
    await Promise.all(
      names.map(async (name) => {
        const file = nodePath.join(this.stagingDirectory, name);
        try {
          const st = await fs.lstat(file);
          if (now - st.mtimeMs > maxAgeMs) await fs.rm(file, { recursive: true, force: true });
        } catch {
          // gone already, or not ours to remove: the next open tries again
        }
      }),
    );
  }

  /** The file a driver path names; InvalidPathError for anything that would leave the root. */
  fullPath(path: string): string {
    if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) throw new InvalidPathError(this.name, String(path));
    if (path === '/') return this.rootDirectory;
    if (path.split('/', 2)[1] === STAGING_DIRECTORY) throw new InvalidPathError(this.name, path);
    const full = nodePath.resolve(this.rootDirectory, `.${path}`);
    if (!full.startsWith(this.#rootPrefix)) throw new InvalidPathError(this.name, path);
    return full;
  }

  #notFound(err: unknown, path: string): unknown {
    const code = errnoCode(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? new PathNotFoundError(this.name, path, { cause: err }) : err;
  }

  async stat(path: string, _options?: CallOptions): Promise<FileInfo> {
    const full = this.fullPath(path);
    try {
      const st = await fs.stat(full);
      const isDirectory = st.isDirectory();
      return { path, size: isDirectory ? 0 : st.size, modTime: st.mtime, isDirectory };
    } catch (err) {
      throw this.#notFound(err, path);
    }
  }

  /** Opens a regular file for reading; PathNotFoundError when there is none (or a directory). */
  async #openFile(path: string, full: string): Promise<{ fh: FileHandle; size: number }> {
    let fh: FileHandle;
    try {
      fh = await fs.open(full, 'r');
    } catch (err) {
      throw this.#notFound(err, path);
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new PathNotFoundError(this.name, path);
      return { fh, size: st.size };
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  async getContent(path: string, _options?: CallOptions): Promise<Buffer> {
    const { fh, size } = await this.#openFile(path, this.fullPath(path));
    try {
      if (size > MAX_CONTENT_SIZE) throw new ContentTooLargeError(this.name, path, size);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async putContent(path: string, content: Uint8Array, _options?: CallOptions): Promise<void> {
    const full = this.fullPath(path);
    if (content.length === 0 && (await this.#createEmpty(full))) return;
    const temp = nodePath.join(this.stagingDirectory, `put-${randomSuffix()}`);
    await writeDurably(temp, content);
    try {
      await this.#renameInto(temp, full, true);
      return;
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (errnoCode(err) !== 'EXDEV') throw err;
    }
    // The target lies on another filesystem than the staging directory: stage beside it.
    const local = localTempPath(full);
    await fs.mkdir(nodePath.dirname(full), { recursive: true });
    await writeDurably(local, content);
    try {
      await this.#renameInto(local, full, true);
    } catch (err) {
      await fs.rm(local, { force: true });
      throw err;
    }
  }

  /**
   * Creates `full` as a new empty file (its parents too); false when something is there already,
   * which only a rename may replace. An empty file has no data to fdatasync, and a reader of a new
   * path sees it or not: nothing to stage (an upload's `data` at POST: 2 calls instead of 4).
   */
  async #createEmpty(full: string): Promise<boolean> {
    try {
      await (await openMakingParents(full, 'wx')).close();
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    }
  }

  /**
   * Renames `source` onto `target`, creating the target's parents (again if a delete races). ENOENT
   * means a missing parent or a missing source: a source the caller just wrote (`sourceIsOurs`) is
   * taken to be there the first time, which saves a stat on every write to a new directory.
   */
  async #renameInto(source: string, target: string, sourceIsOurs: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.rename(source, target);
        return;
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || attempt >= RETRIES) throw err;
        if ((attempt > 0 || !sourceIsOurs) && !(await exists(source))) throw err;
        await fs.mkdir(nodePath.dirname(target), { recursive: true });
      }
    }
  }

  async reader(path: string, options?: ReaderOptions): Promise<Readable> {
    const offset = options?.offset ?? 0;
    const full = this.fullPath(path);
    const { fh, size } = await this.#openFile(path, full);
    const end = options?.length === undefined ? size : Math.min(size, offset + options.length);
    if (offset < 0 || offset > size || end <= offset) {
      await fh.close();
      if (offset < 0 || offset > size) throw new InvalidOffsetError(this.name, path, offset);
      const empty = Readable.from([], { objectMode: false });
      return options?.signal ? addAbortSignal(options.signal, empty) : empty;
    }
    // A large range is read past the page cache too, as large files are written
    // (filesystem-writer.ts), unless other such reads hold the slots for it (file-reader.ts).
    const directSlots = end - offset >= DIRECT_FROM_BYTES && this.#direct ? takeDirectReadSlots() : undefined;
    const direct = directSlots ? await this.#openDirect(full, fsConstants.O_RDONLY).catch(() => undefined) : undefined;
    if (!direct) {
      if (directSlots) giveDirectReadSlots(directSlots);
      return new FileReader(fh, offset, end, options?.signal);
    }
    await fh.close();
    return new FileReader(direct, offset, end, options?.signal, directSlots);
  }

  async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    const full = this.fullPath(path);
    const fh = await openMakingParents(full, options?.append ? 'a' : 'w');
    let size = 0;
    if (options?.append) {
      try {
        size = (await fh.stat()).size;
      } catch (err) {
        await fh.close().catch(() => {});
        throw err;
      }
    }
    const openDirect = this.#direct ? () => this.#openDirect(full) : undefined;
    const writer = new FilesystemWriter(this.name, path, full, fh, size, {
      handOverChunks: options?.handOverChunks === true,
      releasePages: this.#releasePages,
      ...(openDirect ? { openDirect } : {}),
      ...(options?.expectedBytes === undefined ? {} : { expectedBytes: options.expectedBytes }),
    });
    if (options?.signal) addAbortSignal(options.signal, writer);
    return writer;
  }

  /**
   * Another descriptor on the file `full` with O_DIRECT, where the filesystem takes it; undefined
   * on one that refuses it (EINVAL), which the driver then stops asking.
   */
  async #openDirect(full: string, access = fsConstants.O_RDWR): Promise<FileHandle | undefined> {
    if (!this.#direct) return undefined;
    try {
      return await fs.open(full, access | fsConstants.O_DIRECT);
    } catch (err) {
      if (errnoCode(err) !== 'EINVAL') throw err;
      this.#direct = false;
      return undefined;
    }
  }

  async *list(path: string, _options?: CallOptions): AsyncIterable<string> {
    const full = this.fullPath(path);
    let names: string[];
    try {
      names = await fs.readdir(full);
    } catch (err) {
      throw this.#notFound(err, path);
    }
    const prefix = path === '/' ? '/' : `${path}/`;
    const children = names
      .filter((n) => isValidComponent(n) && !LOCAL_TEMP_RE.test(n) && !(path === '/' && n === STAGING_DIRECTORY))
      .sort(byteOrder);
    for (const name of children) yield prefix + name;
  }

  async move(from: string, to: string, _options?: CallOptions): Promise<void> {
    const source = this.fullPath(from);
    const target = this.fullPath(to);
    if (source === target) {
      if (!(await exists(source))) throw new PathNotFoundError(this.name, from);
      return;
    }
    try {
      await this.#renameInto(source, target, false);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && !(await exists(source))) throw new PathNotFoundError(this.name, from, { cause: err });
      if (errnoCode(err) !== 'EXDEV') throw err;
      await this.#copyAcross(source, target);
    }
  }

  /** move across filesystems: durable copy beside the target, rename it over, drop the source. */
  async #copyAcross(source: string, target: string): Promise<void> {
    const local = localTempPath(target);
    try {
      await fs.copyFile(source, local, fs.constants.COPYFILE_EXCL);
      const fh = await fs.open(local, 'r');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fs.rename(local, target);
    } catch (err) {
      await fs.rm(local, { force: true });
      throw err;
    }
    await fs.rm(source);
  }

  async delete(path: string, _options?: CallOptions): Promise<void> {
    const full = this.fullPath(path);
    try {
      if ((await fs.lstat(full)).isDirectory()) await removeDirectory(full);
      else await fs.unlink(full);
    } catch (err) {
      throw this.#notFound(err, path);
    }
  }
}
