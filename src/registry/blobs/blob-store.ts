/**
 * Blobs: the global content-addressed store (`blobs/<alg>/<xx>/<hex>/data`) and the per-repository
 * `_layers` links that say which repository may serve which blob.
 */
import type { Readable } from 'node:stream';
import { MemoryBody } from '../../runtime/memory-body.js';
import type { StorageDriver } from '../../storage/driver.js';
import { isPathNotFound } from '../../storage/driver.js';
import { paths } from '../paths.js';
import { RegistryError } from '../errors.js';
import type { Digest } from '../digest.js';
import { linkHolds, statIfPresent, writeLink, deleteIfPresent } from '../links.js';
import type { BlobHandle, BlobInfo, OpContext } from '../registry.js';

/**
 * Blobs up to this size are read whole with getContent, which the storage's read cache answers
 * from memory once it holds them (config blobs, signatures, small layers and artifacts: what every
 * pull asks for first). A stream costs an open, a stat, a read and a close each time, and on the
 * 2-core test machine 64 connections GETting a 4 KiB blob got 1,800 answers a second that way
 * against 9,800 for its HEAD (docs/benchmarks.md, "Thirteenth pass").
 */
export const SMALL_BLOB_BYTES = 64 * 1024;

export class BlobStore {
  constructor(private readonly driver: StorageDriver) {}

  /** Size of a stored blob, or undefined when the blob is not in the store. */
  async size(digest: Digest, ctx: OpContext): Promise<number | undefined> {
    const info = await statIfPresent(this.driver, paths.blobData(digest), ctx);
    return info === undefined || info.isDirectory ? undefined : info.size;
  }

  /** The bytes of a small blob (a manifest). */
  async getContent(digest: Digest, ctx: OpContext): Promise<Buffer | undefined> {
    try {
      return await this.driver.getContent(paths.blobData(digest), ctx);
    } catch (err) {
      if (isPathNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Stores a small blob whose digest the caller computed from `content`. */
  async putContent(digest: Digest, content: Buffer, ctx: OpContext): Promise<void> {
    const existing = await this.size(digest, ctx);
    if (existing === content.length) return;
    await this.driver.putContent(paths.blobData(digest), content, ctx);
  }

  /**
   * Moves verified upload data into the store. When the blob is there already (same digest, so the
   * same bytes) the upload's copy is left for the caller to delete.
   */
  async adopt(uploadDataPath: string, digest: Digest, ctx: OpContext): Promise<void> {
    if ((await this.size(digest, ctx)) !== undefined) return;
    await this.driver.move(uploadDataPath, paths.blobData(digest), ctx);
  }

  /**
   * A stream of the blob's bytes, or of `range` of them; `size` is the blob's size as stat'd. A
   * small blob comes from getContent (see SMALL_BLOB_BYTES), unless what it reads is not `size`
   * bytes (the file is being replaced): then it is streamed as any other.
   */
  async open(digest: Digest, size: number, range: { offset: number; length: number } | undefined, ctx: OpContext): Promise<Readable> {
    if (size <= SMALL_BLOB_BYTES) {
      const content = await this.getContent(digest, ctx);
      if (content === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
      if (content.length === size) return new MemoryBody(range === undefined ? content : content.subarray(range.offset, range.offset + range.length));
    }
    try {
      return await this.driver.reader(paths.blobData(digest), { ...range, signal: ctx.signal });
    } catch (err) {
      if (isPathNotFound(err)) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
      throw err;
    }
  }

  redirectURL(digest: Digest, method: 'GET' | 'HEAD', ctx: OpContext): Promise<string | undefined> {
    return this.driver.redirectURL?.(paths.blobData(digest), method, ctx) ?? Promise.resolve(undefined);
  }
}

/** The blobs one repository may serve: `_layers` links over the global store. */
export class RepositoryBlobs {
  constructor(
    private readonly driver: StorageDriver,
    private readonly store: BlobStore,
  ) {}

  /** Whether `name` links the blob. */
  isLinked(name: string, digest: Digest, ctx: OpContext): Promise<boolean> {
    return linkHolds(this.driver, paths.layerLink(name, digest), digest, ctx);
  }

  /** The linked blob's facts, or undefined when the repository may not serve it or it is gone. */
  async info(name: string, digest: Digest, ctx: OpContext): Promise<BlobInfo | undefined> {
    if (!(await this.isLinked(name, digest, ctx))) return undefined;
    const size = await this.store.size(digest, ctx);
    return size === undefined ? undefined : { digest, size };
  }

  async handle(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    const info = await this.info(name, digest, ctx);
    if (info === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
    const store = this.store;
    return {
      ...info,
      open: (range, openCtx) => store.open(digest, info.size, range, openCtx),
      redirectURL: (method, urlCtx) => store.redirectURL(digest, method, urlCtx),
    };
  }

  link(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    return writeLink(this.driver, paths.layerLink(name, digest), digest, ctx);
  }

  /** Unlinks a blob from the repository; BLOB_UNKNOWN when it was not linked. Space returns at GC. */
  async unlink(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    if (!(await this.isLinked(name, digest, ctx))) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
    await deleteIfPresent(this.driver, paths.layerLinkDir(name, digest), ctx);
  }

  /** Links a blob that exists in `from` (or anywhere, without `from`) into `name`. */
  async mount(name: string, digest: Digest, from: string | undefined, ctx: OpContext): Promise<BlobInfo | undefined> {
    if (from !== undefined && !(await this.isLinked(from, digest, ctx))) return undefined;
    const size = await this.store.size(digest, ctx);
    if (size === undefined) return undefined;
    await this.link(name, digest, ctx);
    return { digest, size };
  }
}
