/**
 * Small blobs are read whole through getContent, so the read cache answers their GETs from memory;
 * larger ones stream from the storage's reader every time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BlobStore, RepositoryBlobs, SMALL_BLOB_BYTES } from '../../src/registry/blobs/blob-store.js';
import { digestOf } from '../../src/registry/digest.js';
import type { BlobHandle } from '../../src/registry/registry.js';
import { paths } from '../../src/registry/paths.js';
import { CachingDriver } from '../../src/storage/cache/caching-driver.js';
import type { CallOptions, ReaderOptions } from '../../src/storage/driver.js';
import { ForwardingDriver } from '../../src/storage/forwarding-driver.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';

const isBlobData = (path: string): boolean => path.includes('/blobs/') && path.endsWith('/data');

/** Counts the reads of blob data that reach the storage. */
class CountingDriver extends ForwardingDriver {
  readers = 0;
  contents = 0;
  override reader(path: string, options?: ReaderOptions): Promise<Readable> {
    if (isBlobData(path)) this.readers++;
    return super.reader(path, options);
  }
  override getContent(path: string, options?: CallOptions): Promise<Buffer> {
    if (isBlobData(path)) this.contents++;
    return super.getContent(path, options);
  }
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const ctx = {};

interface Stored {
  readonly content: Buffer;
  readonly blob: BlobHandle;
}

/** A blob store over counted storage behind a read cache, and a way to put a blob linked in `r`. */
function setUp(): { storage: CountingDriver; store: BlobStore; stored(size: number): Promise<Stored> } {
  const storage = new CountingDriver(new MemoryDriver());
  const cached = wrapDriver(new CachingDriver(storage, { ttlMs: 60_000, maxBytes: 1024 * 1024 }));
  const store = new BlobStore(cached);
  const blobs = new RepositoryBlobs(cached, store);
  const stored = async (size: number): Promise<Stored> => {
    const content = randomBytes(size);
    const digest = digestOf(content);
    await storage.putContent(paths.blobData(digest), content);
    await blobs.link('r', digest, ctx);
    return { content, blob: await blobs.handle('r', digest, ctx) };
  };
  return { storage, store, stored };
}

describe('small blobs', () => {
  it('are answered from the read cache after the first GET, ranges included', async () => {
    const { storage, stored } = setUp();
    const { content, blob } = await stored(4096);
    const before = { readers: storage.readers, contents: storage.contents };
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open({ offset: 100, length: 50 }, ctx))).equals(content.subarray(100, 150)));
    assert.equal(storage.readers, before.readers, 'no stream was opened on the storage');
    assert.equal(storage.contents - before.contents, 1, 'the blob was read from the storage once');
  });

  it('larger than SMALL_BLOB_BYTES stream from the storage on every GET', async () => {
    const { storage, stored } = setUp();
    const { content, blob } = await stored(SMALL_BLOB_BYTES + 1);
    const readers = storage.readers;
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open({ offset: SMALL_BLOB_BYTES, length: 1 }, ctx))).equals(content.subarray(SMALL_BLOB_BYTES)));
    assert.equal(storage.readers - readers, 2);
  });

  it('whose stored bytes are not the size the GET announced are streamed, not sent short', async () => {
    const { storage, store, stored } = setUp();
    const { content, blob } = await stored(1000);
    // The file changes under the handle (a repair rewriting it, say): the size it was stat'd at is stale.
    await storage.putContent(paths.blobData(blob.digest), Buffer.concat([content, content]));
    const readers = storage.readers;
    await bytesOf(await store.open(blob.digest, blob.size, undefined, ctx));
    assert.equal(storage.readers - readers, 1, 'the mismatch went to the stream');
  });
});
