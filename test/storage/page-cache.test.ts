/**
 * The page cache advice (page-cache.ts) and the filesystem writer that gives it: with `directIo`
 * on, an upload's pages leave the page cache once committed, in both ways a commit ends (the
 * writer's own stream, or a later commit of a stream a PATCH ended); with it off they stay. What
 * the page cache holds of a file is read with util-linux's fincore(1).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilesystemDriver } from '../../src/storage/filesystem/filesystem-driver.js';
import { dropAll, dropBelow, pageCacheAdviceWorks, startWriteback } from '../../src/storage/filesystem/page-cache.js';
import type { FileWriter } from '../../src/storage/driver.js';
import { cachedBytes as cached } from '../helpers/page-cache.js';

const MiB = 1024 * 1024;

async function writeMiB(writer: FileWriter, mib: number): Promise<void> {
  const chunk = Buffer.alloc(MiB, 3);
  for (let i = 0; i < mib; i++) {
    if (!writer.write(Buffer.from(chunk))) await new Promise((resolve) => writer.once('drain', resolve));
  }
}

describe('page cache advice', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'wharf-page-cache-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reaches the kernel on Linux: a range is written back and its clean pages dropped, the rest kept', async () => {
    assert.equal(pageCacheAdviceWorks(), process.platform === 'linux');
    const file = join(dir, 'plain');
    const fh = await fs.open(file, 'w');
    try {
      await fh.write(Buffer.alloc(8 * MiB, 1), 0, 8 * MiB, 0);
      assert.equal(cached(file), 8 * MiB, 'a file just written is in the page cache');
      startWriteback(fh.fd, 0, 8 * MiB);
      await fh.datasync();
      dropBelow(fh.fd, 4 * MiB);
      assert.equal(cached(file), 4 * MiB, 'the pages below 4 MiB left, the ones above stayed');
      await dropAll(fh.fd);
      assert.equal(cached(file), 0);
    } finally {
      await fh.close();
    }
    assert.deepEqual(await fs.readFile(file), Buffer.alloc(8 * MiB, 1), 'dropping pages loses no byte');
  });

  it('dirty pages stay until written back', async () => {
    const file = join(dir, 'dirty');
    const fh = await fs.open(file, 'w');
    try {
      await fh.write(Buffer.alloc(2 * MiB, 2), 0, 2 * MiB, 0);
      dropBelow(fh.fd, 2 * MiB); // no writeback asked for: the pages are dirty, and stay
      assert.equal(cached(file), 2 * MiB);
    } finally {
      await fh.close();
    }
  });

  for (const directIo of [true, false]) {
    describe(`an upload with directio ${directIo ? 'on' : 'off'}`, () => {
      let root: string;
      let driver: FilesystemDriver;
      before(async () => {
        root = await fs.mkdtemp(join(dir, `root-${directIo}-`));
        driver = await FilesystemDriver.open({ rootDirectory: root, directIo });
      });

      it(`committed by its own stream: its pages ${directIo ? 'leave' : 'stay in'} the page cache`, { timeout: 30_000 }, async () => {
        const writer = await driver.writer('/uploads/one', {});
        await writeMiB(writer, 24);
        await writer.commit();
        const file = join(root, 'uploads/one');
        assert.equal(cached(file), directIo ? 0 : 24 * MiB);
        assert.equal((await fs.stat(file)).size, 24 * MiB);
      });

      it(`written by PATCHes, its stream ended before the commit: its pages ${directIo ? 'leave' : 'stay in'} the page cache`, { timeout: 30_000 }, async () => {
        let writer: FileWriter | undefined;
        for (let patch = 0; patch < 2; patch++) {
          writer = await driver.writer('/uploads/two', { append: true });
          await writeMiB(writer, 10);
          await new Promise<void>((resolve) => writer!.end(() => resolve()));
        }
        assert.equal(writer!.size, 20 * MiB);
        await writer!.commit(); // the descriptor is closed: the file is opened again for its fdatasync
        const file = join(root, 'uploads/two');
        assert.equal(cached(file), directIo ? 0 : 20 * MiB);
        const bytes = await fs.readFile(file);
        assert.equal(bytes.length, 20 * MiB);
        assert.ok(bytes.every((b) => b === 3));
      });
    });
  }
});
