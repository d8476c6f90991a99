/**
 * Blob uploads. State lives in storage (`_uploads/<id>/data` and `startedat`), so any instance can
 * take the next chunk of any upload after any restart, with no shared secret. The running hash is
 * an in-process shortcut (HasherCache); without it the commit hashes the stored bytes once.
 */
import { randomUUID } from 'node:crypto';
import { Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Hash } from 'node:crypto';
import type { StorageDriver } from '../../storage/driver.js';
import { FileTooLargeError, isPathNotFound } from '../../storage/driver.js';
import { paths } from '../paths.js';
import { RegistryError } from '../errors.js';
import { digestFromHash, newHash, type Digest, type DigestAlgorithm } from '../digest.js';
import { deleteIfPresent } from '../links.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { BlobInfo, OpContext, UploadBody, UploadStatus } from '../registry.js';
import type { BlobStore, RepositoryBlobs } from '../blobs/blob-store.js';
import { HasherCache } from './hasher-cache.js';

/** Upload ids Wharf hands out are UUIDs; anything of this shape is looked up, nothing else. */
const UPLOAD_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

/** The 416 answer for a chunk that does not start where the upload stands. */
export function rangeMismatch(size: number, detail: Record<string, unknown>): RegistryError {
  return new RegistryError('RANGE_INVALID', detail, {
    message: `the upload has ${size} bytes; the next chunk must start at byte ${size}`,
    headers: { Range: `0-${Math.max(size - 1, 0)}` },
  });
}

/** How long an upload status waits at most for this process's write to the same upload. */
const STATUS_SETTLE_MS = 2_000;

export class UploadStore {
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly driver: StorageDriver,
    private readonly store: BlobStore,
    private readonly blobs: RepositoryBlobs,
    private readonly hashers: HasherCache = new HasherCache(),
  ) {}

  async start(name: string, ctx: OpContext): Promise<UploadStatus> {
    const id = randomUUID();
    await this.driver.putContent(paths.uploadStartedAt(name, id), Buffer.from(new Date().toISOString()), ctx);
    await this.driver.putContent(paths.uploadData(name, id), Buffer.alloc(0), ctx);
    return { name, id, size: 0 };
  }

  /**
   * Waits a little for a write to the upload in this process, so that the size is what a write
   * that is ending (a cut PATCH closing its writer) left; a write still receiving a slow client's
   * body does not hold the status up longer than STATUS_SETTLE_MS: the size is then what is stored.
   */
  async status(name: string, id: string, ctx: OpContext): Promise<UploadStatus> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.locks.idle(id), new Promise<void>((resolve) => (timer = setTimeout(resolve, STATUS_SETTLE_MS)))]);
    clearTimeout(timer);
    return { name, id, size: await this.size(name, id, ctx) };
  }

  append(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus> {
    return this.locks.run(id, async () => ({ name, id, size: await this.write(name, id, body, false, ctx) }));
  }

  complete(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    return this.locks.run(id, async () => {
      const size = await this.write(name, id, body ?? { stream: Readable.from([]) }, true, ctx);
      const hash = this.hashers.take(id, size);
      const actual = hash !== undefined && digest.algorithm === 'sha256'
        ? digestFromHash('sha256', hash)
        : await this.hashStored(paths.uploadData(name, id), digest.algorithm, ctx);
      if (actual.value !== digest.value) {
        await deleteIfPresent(this.driver, paths.uploadDir(name, id), ctx);
        throw new RegistryError('DIGEST_INVALID', { digest: digest.value }, {
          message: `the uploaded content does not match digest ${digest.value}; the upload was cancelled`,
        });
      }
      await this.store.adopt(paths.uploadData(name, id), digest, ctx);
      await this.blobs.link(name, digest, ctx);
      await deleteIfPresent(this.driver, paths.uploadDir(name, id), ctx);
      return { digest, size };
    });
  }

  cancel(name: string, id: string, ctx: OpContext): Promise<void> {
    return this.locks.run(id, async () => {
      this.hashers.drop(id);
      if (!(await deleteIfPresent(this.driver, paths.uploadDir(name, id), ctx))) {
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid: id });
      }
    });
  }

  private async size(name: string, id: string, ctx: OpContext): Promise<number> {
    try {
      const info = await this.driver.stat(paths.uploadData(name, id), ctx);
      if (!info.isDirectory) return info.size;
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
    }
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid: id });
  }

  /**
   * Streams a body onto the end of the upload, checking its range, and returns the new size. Bytes
   * that reached storage stay there even when the body is cut off: the client resumes at the size
   * a status request reports. With `commit`, the data is made durable (one fdatasync) at the end.
   */
  private async write(name: string, id: string, body: UploadBody, commit: boolean, ctx: OpContext): Promise<number> {
    const size = await this.size(name, id, ctx);
    let expected = body.contentLength;
    if (body.range !== undefined) {
      if (body.range.start !== size) throw rangeMismatch(size, { start: body.range.start });
      const length = body.range.end - body.range.start + 1;
      if (expected !== undefined && expected !== length) {
        throw new RegistryError('SIZE_INVALID', { contentLength: expected, range: `${body.range.start}-${body.range.end}` }, {
          message: `Content-Length ${expected} does not match Content-Range ${body.range.start}-${body.range.end} (${length} bytes)`,
        });
      }
      expected = length;
    }
    const hash: Hash | undefined = this.hashers.take(id, size) ?? (size === 0 ? newHash('sha256') : undefined);
    const meter = new ByteMeter(expected, hash);
    const writer = await this.driver.writer(paths.uploadData(name, id), {
      append: true,
      signal: ctx.signal,
      handOverChunks: body.chunksHandedOver === true,
      ...(expected === undefined ? {} : { expectedBytes: expected }),
    });
    // On failure the hash may have seen bytes the writer did not store: it is not put back, and
    // the commit re-hashes what storage holds. A body that is to be committed leaves the writer
    // open, so that commit() ends it and makes it durable on the way out (a filesystem writer then
    // syncs the descriptor it has instead of opening the file again); a short one ends it below.
    const failed = async (err: unknown): Promise<never> => {
      // A writer may still be storing what it took (an object store's last part): the upload's
      // size is only known, and the next request only safe, once it has closed.
      if (!writer.closed) await new Promise((resolve) => writer.once('close', resolve));
      const tooLarge = causeOf(err, FileTooLargeError);
      if (tooLarge) {
        throw new RegistryError('BLOB_UPLOAD_INVALID', { limit: tooLarge.limit }, { message: `the blob would be larger than ${tooLarge.limit} bytes, the largest the storage holds` });
      }
      throw err;
    };
    await pipeline(body.stream, meter, writer, { end: !commit, ...(ctx.signal ? { signal: ctx.signal } : {}) }).catch(failed);
    const newSize = size + meter.bytes;
    if (hash !== undefined) this.hashers.put(id, newSize, hash);
    if (expected !== undefined && meter.bytes !== expected) {
      if (commit) await endStored(writer);
      throw new RegistryError('SIZE_INVALID', { expected, received: meter.bytes }, {
        message: `the body held ${meter.bytes} bytes where ${expected} were announced; the upload stands at ${newSize} bytes`,
      });
    }
    // The chunks the writer had not taken yet when the body ended fail here, if they fail.
    if (commit) await writer.commit().catch(failed);
    return newSize;
  }

  private async hashStored(path: string, algorithm: DigestAlgorithm, ctx: OpContext): Promise<Digest> {
    const hash = newHash(algorithm);
    const stream = await this.driver.reader(path, { signal: ctx.signal });
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return digestFromHash(algorithm, hash);
  }
}

/** `err`, or the error it was caused by, when that is a `type`. */
function causeOf<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}

/** Ends a writer the pipeline left open and waits until what it took is stored (or it failed). */
async function endStored(writer: Writable): Promise<void> {
  writer.end();
  await finished(writer).catch(() => {}); // the size the client resumes at is what storage holds
}

/** Counts the bytes of a body, feeds the running hash, and stops a body longer than announced. */
class ByteMeter extends Transform {
  bytes = 0;
  constructor(
    private readonly limit: number | undefined,
    private readonly hash: Hash | undefined,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.limit !== undefined && this.bytes + chunk.length > this.limit) {
      callback(new RegistryError('SIZE_INVALID', { expected: this.limit }, { message: `the body is longer than the ${this.limit} bytes announced` }));
      return;
    }
    this.bytes += chunk.length;
    this.hash?.update(chunk);
    callback(null, chunk);
  }
}
