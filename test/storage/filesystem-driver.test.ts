import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wrapDriver } from '../../src/storage/base.js';
import { InvalidPathError, type StorageDriver } from '../../src/storage/driver.js';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { FilesystemDriver, STAGING_DIRECTORY } from '../../src/storage/filesystem/filesystem-driver.js';
import { collect, driverSuite, endWriter, write } from '../../src/storage/testing/driver-suite.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-fs-'));
}

driverSuite('filesystem', async () => {
  const root = await tempDir();
  return { driver: await FilesystemDriver.open({ rootDirectory: root }), cleanup: () => fs.rm(root, { recursive: true, force: true }) };
});

describe('FilesystemDriver specifics', () => {
  let base: string;
  let root: string;
  let raw: FilesystemDriver;
  let d: StorageDriver;
  before(async () => {
    base = await tempDir();
    root = nodePath.join(base, 'root');
    raw = await FilesystemDriver.open({ rootDirectory: root });
    d = wrapDriver(raw);
  });
  after(() => fs.rm(base, { recursive: true, force: true }));

  it('maps /docker/registry/v2/x/link to <root>/docker/registry/v2/x/link', async () => {
    await d.putContent('/docker/registry/v2/x/link', Buffer.from('sha256:abc'));
    assert.equal(await fs.readFile(nodePath.join(root, 'docker/registry/v2/x/link'), 'utf8'), 'sha256:abc');
    await fs.writeFile(nodePath.join(root, 'docker/registry/v2/x/other'), 'written by distribution');
    assert.equal((await d.getContent('/docker/registry/v2/x/other')).toString(), 'written by distribution');
    await d.delete('/docker');
  });

  it('putContent is atomic to a concurrent reader of the file on disk', async () => {
    const file = nodePath.join(root, 'atomic/link');
    const version = (v: number): Buffer => Buffer.alloc(1_000_000 + v * 1000, v + 1);
    await d.putContent('/atomic/link', version(0));
    let done = false;
    let reads = 0;
    const reader = (async () => {
      do {
        const buf = await fs.readFile(file);
        const v = (buf[0] ?? 0) - 1;
        assert.ok(buf.equals(version(v)), `read ${buf.length} bytes starting with ${buf[0]}: not a complete version`);
        reads++;
      } while (!done);
    })();
    for (let v = 1; v < 30; v++) await d.putContent('/atomic/link', version(v));
    done = true;
    await reader;
    assert.ok(reads > 1);
    assert.deepEqual(await fs.readdir(raw.stagingDirectory), [], 'no temp file stays in staging');
    await d.delete('/atomic');
  });

  it('open removes staging files older than an hour and keeps younger ones', async () => {
    const other = nodePath.join(base, 'staging-root');
    const staging = nodePath.join(other, STAGING_DIRECTORY);
    await fs.mkdir(staging, { recursive: true });
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.writeFile(nodePath.join(staging, 'put-old'), 'crashed');
    await fs.utimes(nodePath.join(staging, 'put-old'), old, old);
    await fs.writeFile(nodePath.join(staging, 'put-young'), 'another process is writing this');
    const opened = wrapDriver(await FilesystemDriver.open({ rootDirectory: other }));
    assert.deepEqual(await fs.readdir(staging), ['put-young']);
    await opened.putContent('/a', Buffer.from('x'));
    assert.deepEqual(await collect(opened.list('/')), ['/a'], 'list("/") skips the staging directory');
    await assert.rejects(opened.stat(`/${STAGING_DIRECTORY}/put-young`), InvalidPathError);
  });

  it('never reads or writes outside the root, even unwrapped', async () => {
    const jail = await tempDir();
    const inner = await FilesystemDriver.open({ rootDirectory: nodePath.join(jail, 'root') });
    await fs.writeFile(nodePath.join(jail, 'outside'), 'secret');
    await inner.putContent('/a', Buffer.from('a'));
    for (const path of ['/../outside', '/a/../../outside', '/../escape', '/..']) {
      await assert.rejects(inner.getContent(path), InvalidPathError);
      await assert.rejects(inner.putContent(path, Buffer.from('x')), InvalidPathError);
      await assert.rejects(inner.writer(path), InvalidPathError);
      await assert.rejects(inner.delete(path), InvalidPathError);
      await assert.rejects(inner.move('/a', path), InvalidPathError);
      await assert.rejects(collect(inner.list(path)), InvalidPathError);
      await assert.rejects(wrapDriver(inner).putContent(path, Buffer.from('x')), InvalidPathError);
    }
    assert.equal(await fs.readFile(nodePath.join(jail, 'outside'), 'utf8'), 'secret');
    assert.deepEqual((await fs.readdir(jail)).sort(), ['outside', 'root']);
    assert.deepEqual((await fs.readdir(nodePath.join(jail, 'root'))).sort(), [STAGING_DIRECTORY, 'a']);
    await fs.rm(jail, { recursive: true });
  });

  it('a writer destroyed mid-stream leaves the bytes written so far, and can be appended to', async () => {
    const w = await d.writer('/up/data');
    w.on('error', () => {});
    const first = randomBytes(100_000);
    await write(w, first);
    w.destroy(new Error('client disconnected'));
    await new Promise((resolve) => w.once('close', resolve));
    assert.deepEqual(await fs.readFile(nodePath.join(root, 'up/data')), first);
    const resumed = await d.writer('/up/data', { append: true });
    assert.equal(resumed.size, first.length);
    const second = randomBytes(5000);
    await write(resumed, second);
    await resumed.commit();
    assert.deepEqual(await d.getContent('/up/data'), Buffer.concat([first, second]));
    await d.delete('/up');
  });

  it('batches writes with writev and makes a commit durable with one fdatasync', async () => {
    const probe = await fs.open(nodePath.join(base, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const originalSync = proto.datasync;
    const originalWritev = proto.writev;
    let syncs = 0;
    let writevs = 0;
    proto.datasync = function (this: FileHandle) {
      syncs++;
      return originalSync.call(this);
    };
    proto.writev = function (this: FileHandle, ...args: Parameters<FileHandle['writev']>) {
      writevs++;
      return originalWritev.apply(this, args);
    } as FileHandle['writev'];
    try {
      const w = await d.writer('/batch/data');
      for (let i = 0; i < 1000; i++) w.write(Buffer.alloc(1000, i % 256));
      await w.commit();
      assert.equal(syncs, 1, 'one fdatasync for a commit that ends the stream');
      assert.ok(writevs < 100, `1000 small chunks took ${writevs} writev calls`);
      assert.equal((await fs.stat(nodePath.join(root, 'batch/data'))).size, 1_000_000);
      syncs = 0;
      const ended = await d.writer('/batch/data', { append: true });
      await write(ended, 'tail');
      await endWriter(ended);
      assert.equal(syncs, 0, 'end() alone does not sync');
      await ended.commit();
      assert.equal(syncs, 1, 'one fdatasync for a commit after end()');
    } finally {
      proto.datasync = originalSync;
      proto.writev = originalWritev;
    }
    await d.delete('/batch');
  });

  /** Counts calls to the named node:fs/promises functions (the driver calls them through the module) while `run` runs. */
  async function counting(names: readonly ('lstat' | 'readdir' | 'rename' | 'mkdir' | 'open' | 'unlink' | 'rmdir')[], run: () => Promise<void>): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const module = fs as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const originals = names.map((name) => [name, module[name]!] as const);
    for (const [name, original] of originals) {
      counts[name] = 0;
      module[name] = (...args: unknown[]) => {
        counts[name]!++;
        return original(...args);
      };
    }
    try {
      await run();
    } finally {
      for (const [name, original] of originals) module[name] = original;
    }
    return counts;
  }

  it('deletes a tree with one readdir per directory, and removes symbolic links, not what they point to', async () => {
    const outside = nodePath.join(base, 'kept');
    await fs.mkdir(outside, { recursive: true });
    await fs.writeFile(nodePath.join(outside, 'file'), 'not the registry\'s');
    await d.putContent('/tree/a/b/file', Buffer.from('1'));
    await d.putContent('/tree/a/other', Buffer.from('2'));
    await d.putContent('/tree/c/file', Buffer.from('3'));
    await fs.symlink(outside, nodePath.join(root, 'tree/a/link'));
    await fs.symlink(outside, nodePath.join(root, 'alias'));
    const counts = await counting(['lstat', 'readdir', 'unlink', 'rmdir'], () => d.delete('/tree'));
    assert.deepEqual(counts, { lstat: 1, readdir: 4, unlink: 4, rmdir: 4 }, 'tree, a, a/b and c: one readdir and one rmdir each; 3 files and a link');
    await assert.rejects(fs.lstat(nodePath.join(root, 'tree')), { code: 'ENOENT' });
    await d.delete('/alias');
    await assert.rejects(fs.lstat(nodePath.join(root, 'alias')), { code: 'ENOENT' });
    assert.equal(await fs.readFile(nodePath.join(outside, 'file'), 'utf8'), 'not the registry\'s', 'the links\' target is untouched');
  });

  it('writes into a new directory without a stat, and creates a new empty file in place', async () => {
    const link = await counting(['lstat', 'rename', 'mkdir'], () => d.putContent('/fresh/dir/link', Buffer.from('sha256:abc')));
    assert.deepEqual(link, { lstat: 0, rename: 2, mkdir: 1 }, 'the rename fails for the missing directory, which is made, and is tried again');
    const empty = await counting(['rename', 'open'], () => d.putContent('/fresh/dir/data', Buffer.alloc(0)));
    assert.deepEqual(empty, { rename: 0, open: 1 }, 'an empty file is made where it belongs, with no staging');
    assert.equal((await fs.stat(nodePath.join(root, 'fresh/dir/data'))).size, 0);
    // Over an existing file, an empty one still goes through staging: a reader of the old one sees it whole.
    await d.putContent('/fresh/dir/link', Buffer.alloc(0));
    assert.equal((await fs.stat(nodePath.join(root, 'fresh/dir/link'))).size, 0);
    assert.deepEqual(await fs.readdir(raw.stagingDirectory), []);
    // A move whose source is missing fails without making the target's directories.
    await assert.rejects(d.move('/fresh/missing', '/elsewhere/new/data'), { name: 'PathNotFoundError' });
    await assert.rejects(fs.lstat(nodePath.join(root, 'elsewhere')), { code: 'ENOENT' });
    await d.delete('/fresh');
  });

  it('falls back to a temp file beside the target when staging is on another filesystem (EXDEV)', async () => {
    const originalRename = fs.rename;
    let exdevs = 0;
    fs.rename = async (from, to) => {
      if (String(from).startsWith(raw.stagingDirectory)) {
        exdevs++;
        throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
      }
      return originalRename(from, to);
    };
    try {
      await d.putContent('/mounted/dir/link', Buffer.from('sha256:def'));
    } finally {
      fs.rename = originalRename;
    }
    assert.equal(exdevs, 1);
    assert.equal(await fs.readFile(nodePath.join(root, 'mounted/dir/link'), 'utf8'), 'sha256:def');
    assert.deepEqual(await fs.readdir(nodePath.join(root, 'mounted/dir')), ['link']);
    assert.deepEqual(await fs.readdir(raw.stagingDirectory), []);
    await d.delete('/mounted');
  });

  it('reads large ranges with O_DIRECT four at a time, and any more buffered', async () => {
    const content = randomBytes(64 * 1024 * 1024 + 5);
    await fs.mkdir(nodePath.join(root, 'large'), { recursive: true });
    await fs.writeFile(nodePath.join(root, 'large/data'), content);
    /** This process's descriptors on the file, and which of them are open with O_DIRECT. */
    async function descriptors(): Promise<{ all: number; direct: number }> {
      let all = 0;
      let direct = 0;
      for (const fd of await fs.readdir('/proc/self/fd')) {
        const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target !== nodePath.join(root, 'large/data')) continue;
        all++;
        const flags = /flags:\s+(\d+)/.exec(await fs.readFile(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
        if ((parseInt(flags, 8) & fsConstants.O_DIRECT) !== 0) direct++;
      }
      return { all, direct };
    }
    const readers = await Promise.all(Array.from({ length: 6 }, () => raw.reader('/large/data')));
    assert.deepEqual(await descriptors(), { all: 6, direct: 4 });
    const last = readers.pop()!;
    assert.ok(Buffer.concat(await collect(last)).equals(content), 'a buffered reader of a large range reads it all');
    for (const reader of readers) reader.destroy();
    await Promise.all(readers.map((reader) => new Promise((resolve) => reader.once('close', resolve))));
    assert.deepEqual(await descriptors(), { all: 0, direct: 0 });
    const again = await raw.reader('/large/data');
    assert.deepEqual(await descriptors(), { all: 1, direct: 1 }, 'the slots came back');
    again.destroy();
    await new Promise((resolve) => again.once('close', resolve));
    await d.delete('/large');
  });

  it('createStorageDriver("filesystem") uses rootdirectory and wraps the driver', async () => {
    const dir = nodePath.join(base, 'configured');
    const configured = await createStorageDriver('filesystem', { rootdirectory: dir });
    await configured.putContent('/docker/registry/v2/y', Buffer.from('1'));
    assert.equal(await fs.readFile(nodePath.join(dir, 'docker/registry/v2/y'), 'utf8'), '1');
    await assert.rejects(configured.stat('/a//b'), InvalidPathError);
    await assert.rejects(createStorageDriver('filesystem', { rootdirectory: 42 }), /rootdirectory/);
    await fs.rm(dir, { recursive: true });
  });
});
