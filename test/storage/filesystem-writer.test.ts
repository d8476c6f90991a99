/**
 * The filesystem writer (filesystem-writer.ts). Its background fdatasync: a stream that ends
 * without a commit (a PATCH) does not wait for it, and its descriptor closes once it is done; a
 * commit waits for it (the FileHandle is a real one whose datasync the test holds back). And where
 * O_DIRECT starts: at 64 MiB, or at the first byte of a stream announced to get there.
 */
import assert from 'node:assert/strict';
import fs, { type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants as fsConstants } from 'node:fs';
import { DIRECT_FROM_BYTES, FilesystemWriter } from '../../src/storage/filesystem/filesystem-writer.js';
import { cachedBytes } from '../helpers/page-cache.js';

const MiB = 1024 * 1024;

/** A FileHandle whose datasync() calls wait until `release()`; counts calls to close(). */
async function heldHandle(path: string): Promise<{ fh: FileHandle; syncs: () => number; closes: () => number; release(): void }> {
  const real = await fs.open(path, 'a');
  let syncs = 0;
  let closes = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const fh = {
    get fd() {
      return real.fd;
    },
    async datasync() {
      syncs++;
      await released;
      await real.datasync();
    },
    async close() {
      closes++;
      await real.close();
    },
  } as unknown as FileHandle;
  return { fh, syncs: () => syncs, closes: () => closes, release };
}

async function writeMiB(writer: FilesystemWriter, mib: number): Promise<void> {
  const chunk = Buffer.alloc(MiB, 7);
  for (let i = 0; i < mib; i++) {
    if (!writer.write(chunk)) await new Promise((resolve) => writer.once('drain', resolve));
  }
}

describe('filesystem writer and its background fdatasync', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'wharf-writer-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a stream ended without a commit finishes while the fdatasync runs, and closes its file after it', { timeout: 30_000 }, async () => {
    const full = join(dir, 'patch');
    const held = await heldHandle(full);
    const writer = new FilesystemWriter('filesystem', '/patch', full, held.fh, 0);
    await writeMiB(writer, 17); // past 16 MiB: a background fdatasync starts
    for (let i = 0; i < 100 && held.syncs() === 0; i++) await sleep(10);
    assert.equal(held.syncs(), 1, 'the background fdatasync started');
    await new Promise<void>((resolve, reject) => writer.end((err?: Error | null) => (err ? reject(err) : resolve())));
    assert.equal(held.closes(), 0, 'the file stays open for the fdatasync');
    assert.equal((await fs.stat(full)).size, 17 * MiB, 'every byte was written before the stream finished');
    held.release();
    for (let i = 0; i < 100 && held.closes() === 0; i++) await sleep(10);
    assert.equal(held.closes(), 1, 'closed once the fdatasync was done');
  });

  it('a commit waits for the background fdatasync', { timeout: 30_000 }, async () => {
    const full = join(dir, 'put');
    const held = await heldHandle(full);
    const writer = new FilesystemWriter('filesystem', '/put', full, held.fh, 0);
    await writeMiB(writer, 17);
    for (let i = 0; i < 100 && held.syncs() === 0; i++) await sleep(10);
    await new Promise<void>((resolve) => writer.end(resolve));
    let committed = false;
    const commit = writer.commit().then(() => (committed = true));
    await sleep(200);
    assert.equal(committed, false, 'the commit waits while the fdatasync is held');
    held.release();
    await commit;
    assert.equal(held.closes(), 1);
  });
});

describe('filesystem writer: where O_DIRECT starts', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'wharf-writer-direct-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** 8 MiB into a new file with O_DIRECT allowed (page cache left alone); the bytes it has cached. */
  async function cachedAfter8MiB(name: string, expectedBytes?: number): Promise<number> {
    const full = join(dir, name);
    const writer = new FilesystemWriter('filesystem', `/${name}`, full, await fs.open(full, 'a'), 0, {
      openDirect: () => fs.open(full, fsConstants.O_RDWR | fsConstants.O_DIRECT),
      ...(expectedBytes === undefined ? {} : { expectedBytes }),
    });
    await writeMiB(writer, 8);
    await writer.commit();
    const cached = cachedBytes(full); // before reading the file back fills the page cache
    const bytes = await fs.readFile(full);
    assert.equal(bytes.length, 8 * MiB);
    assert.ok(bytes.every((b) => b === 7), 'every byte is where it was written');
    return cached;
  }

  it('a stream announced to take the file to 64 MiB goes past the page cache from its first byte', { timeout: 30_000 }, async () => {
    // The stream brings less than it announced (the registry then refuses the upload): the hint
    // only says how to write, and the writer stores what came.
    assert.ok((await cachedAfter8MiB('announced', DIRECT_FROM_BYTES)) < MiB);
  });

  it('one announced to stay below 64 MiB, or not announced, goes through the page cache', { timeout: 30_000 }, async () => {
    assert.equal(await cachedAfter8MiB('small', DIRECT_FROM_BYTES - 1), 8 * MiB);
    assert.equal(await cachedAfter8MiB('unknown'), 8 * MiB);
  });
});
