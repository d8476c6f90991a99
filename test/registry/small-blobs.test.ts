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

function setUp(): { storage: CountingDriver; store: BlobStore; blobs: RepositoryBlobs } {
  const storage = new CountingDriver(new MemoryDriver());
  const cached = wrapDriver(new CachingDriver(storage, { ttlMs: 60_000, maxBytes: 1024 * 1024 }));
  const store = new BlobStore(cached);
  return { storage, store, blobs: new RepositoryBlobs(cached, store) };
}

describe('small blobs', () => {
  it('are answered from the read cache after the first GET, ranges included', async () => {
    const { storage, store, blobs } = setUp();
    const content = randomBytes(4096);
    const digest = digestOf(content);
    await store.putContent(digest, content, ctx);
    await blobs.link('r', digest, ctx);
    const before = { readers: storage.readers, contents: storage.contents };
    const blob = await blobs.handle('r', digest, ctx);
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open({ offset: 100, length: 50 }, ctx))).equals(content.subarray(100, 150)));
    assert.equal(storage.readers, before.readers, 'no stream was opened on the storage');
    assert.equal(storage.contents - before.contents, 1, 'the blob was read from the storage once');
  });

  it('larger than SMALL_BLOB_BYTES stream from the storage on every GET', async () => {
    const { storage, blobs } = setUp();
    const content = randomBytes(SMALL_BLOB_BYTES + 1);
    const digest = digestOf(content);
    await storage.putContent(paths.blobData(digest), content);
    await blobs.link('r', digest, ctx);
    const blob = await blobs.handle('r', digest, ctx);
    const readers = storage.readers;
    assert.ok((await bytesOf(await blob.open(undefined, ctx))).equals(content));
    assert.ok((await bytesOf(await blob.open({ offset: SMALL_BLOB_BYTES, length: 1 }, ctx))).equals(content.subarray(SMALL_BLOB_BYTES)));
    assert.equal(storage.readers - readers, 2);
  });

  it('whose stored bytes are not the size the GET announced are streamed, not sent short', async () => {
    const { storage, store, blobs } = setUp();
    const content = randomBytes(1000);
    const digest = digestOf(content);
    await store.putContent(digest, content, ctx);
    await blobs.link('r', digest, ctx);
    const blob = await blobs.handle('r', digest, ctx);
    // The file changes under the handle (a repair rewriting it, say): the size it was stat'd at is stale.
    await storage.putContent(paths.blobData(digest), Buffer.concat([content, content]));
    const readers = storage.readers;
    await bytesOf(await store.open(digest, blob.size, undefined, ctx));
    assert.equal(storage.readers - readers, 1, 'the mismatch went to the stream');
  });
});
