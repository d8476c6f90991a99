/**
 * What a blob push costs the filesystem driver: each file it makes is made durable once, on the
 * descriptor that wrote it, and the upload leaves nothing behind. Every such call is a round trip
 * through libuv's thread pool, which on this project's machine costs more than the bytes of a small
 * blob (docs/benchmarks.md, "Ninth pass").
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { mkdtemp, readdir, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, sha256 } from '../helpers/client.js';
import { createStorageDriver } from '../../src/storage/drivers.js';

const NAME = 'calls/app';
let dir: string;
let wharf: TestWharf;
let client: TestClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-calls-'));
  wharf = await startTestWharf({ driver: await createStorageDriver('filesystem', { rootdirectory: dir }) });
  client = new TestClient(wharf.url);
});
after(async () => {
  await wharf.stop(0);
  await rm(dir, { recursive: true, force: true });
});

/** The fdatasyncs, and the files opened read-only under `_uploads`, while `run` runs. */
async function watch(run: () => Promise<void>): Promise<{ syncs: number; uploadReopens: number }> {
  const probe = await fs.open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  await rm(join(dir, 'probe'));
  const originalSync = proto.datasync;
  const originalOpen = fs.open;
  const seen = { syncs: 0, uploadReopens: 0 };
  proto.datasync = function (this: FileHandle) {
    seen.syncs++;
    return originalSync.call(this);
  };
  fs.open = (async (path: Parameters<typeof fs.open>[0], flags?: Parameters<typeof fs.open>[1], mode?: Parameters<typeof fs.open>[2]) => {
    if (String(path).includes('/_uploads/') && (flags === 'r' || flags === undefined)) seen.uploadReopens++;
    return originalOpen(path, flags, mode);
  }) as typeof fs.open;
  try {
    await run();
  } finally {
    proto.datasync = originalSync;
    fs.open = originalOpen;
  }
  return seen;
}

async function uploadsLeft(): Promise<string[]> {
  return readdir(join(dir, 'docker/registry/v2/repositories', NAME, '_uploads')).catch(() => []);
}

describe('a blob push on the filesystem driver', () => {
  it('POST + PUT: one fdatasync each for startedat, the data and the link; the data is not opened again', async () => {
    const content = randomBytes(100_000);
    const seen = await watch(async () => {
      await client.pushBlob(NAME, content);
    });
    assert.deepEqual(seen, { syncs: 3, uploadReopens: 0 });
    assert.deepEqual(await uploadsLeft(), []);
    const got = await client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(content));
  });

  it('POST, PATCHes and an empty PUT: the PUT syncs the data on the descriptor it appends with', async () => {
    const content = randomBytes(300_000);
    const digest = sha256(content);
    const seen = await watch(async () => {
      const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      let location = start.headers.get('location') ?? '';
      for (let from = 0; from < content.length; from += 100_000) {
        const chunk = content.subarray(from, from + 100_000);
        const res = await client.request(location, {
          method: 'PATCH',
          body: chunk,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${from}-${from + chunk.length - 1}` },
        });
        assert.equal(res.status, 202);
        location = res.headers.get('location') ?? '';
      }
      const put = await client.request(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
      assert.equal(put.status, 201);
    });
    assert.deepEqual(seen, { syncs: 3, uploadReopens: 0 });
    assert.deepEqual(await uploadsLeft(), []);
  });

  it('a PUT shorter than announced commits nothing and stays resumable at what it stored', async () => {
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const content = randomBytes(50_000);
    const url = new URL(`${location}${location.includes('?') ? '&' : '?'}digest=${sha256(content)}`, wharf.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: ${content.length}\r\n\r\n`);
    socket.write(content.subarray(0, 20_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    let status: Response | undefined;
    for (let i = 0; i < 50; i++) {
      status = await client.request(location);
      if (status.status === 204 && status.headers.get('range') === '0-19999') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(status?.status, 204);
    assert.equal(status?.headers.get('range'), '0-19999', 'the bytes that arrived stay');
    assert.equal((await client.request(`/v2/${NAME}/blobs/${sha256(content)}`, { method: 'HEAD' })).status, 404, 'nothing was committed');
  });
});
