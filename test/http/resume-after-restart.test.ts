/**
 * Upload state lives in storage: a session started on one instance continues after a restart (a
 * new process on the same filesystem root) and on another instance serving the same root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cutOffPatch, startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, sha256, sha512 } from '../helpers/client.js';
import { createStorageDriver } from '../../src/storage/drivers.js';

const NAME = 'restart/app';
let dir: string;
let root: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-restart-'));
  root = join(dir, 'root');
});
after(() => rm(dir, { recursive: true, force: true }));

async function startOnRoot(): Promise<{ wharf: TestWharf; client: TestClient }> {
  const driver = await createStorageDriver('filesystem', { rootdirectory: root });
  const wharf = await startTestWharf({ driver });
  return { wharf, client: new TestClient(wharf.url) };
}

function pathOf(location: string): string {
  return new URL(location, 'http://placeholder').pathname;
}

function patch(client: TestClient, path: string, body: Uint8Array, start: number): Promise<Response> {
  return client.request(path, { method: 'PATCH', body, headers: { 'Content-Range': `${start}-${start + body.length - 1}`, 'Content-Type': 'application/octet-stream' } });
}

describe('upload status after a restart', () => {
  for (const algorithm of ['sha256', 'sha512'] as const) {
    it(`PATCH, stop, start a new server on the same root, GET status, continue, complete (${algorithm})`, async () => {
      const content = randomBytes(200_000);
      const digest = algorithm === 'sha256' ? sha256(content) : sha512(content);

      const first = await startOnRoot();
      const start = await first.client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const path = pathOf(start.headers.get('location') ?? '');
      const uuid = start.headers.get('docker-upload-uuid');
      const chunk = await patch(first.client, path, content.subarray(0, 70_000), 0);
      assert.equal(chunk.status, 202);
      assert.equal(chunk.headers.get('range'), '0-69999');
      await first.wharf.stop(0);

      const second = await startOnRoot();
      try {
        const status = await second.client.request(path);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), '0-69999');
        assert.equal(status.headers.get('docker-upload-uuid'), uuid);
        assert.equal(pathOf(status.headers.get('location') ?? ''), path);

        const retry = await patch(second.client, path, content.subarray(0, 70_000), 0);
        assert.equal(retry.status, 416, 'the first chunk is still known to have arrived');
        await retry.arrayBuffer();

        const next = await patch(second.client, path, content.subarray(70_000, 150_000), 70_000);
        assert.equal(next.status, 202);
        assert.equal(next.headers.get('range'), '0-149999');
        const put = await second.client.request(`${path}?digest=${digest}`, {
          method: 'PUT',
          body: content.subarray(150_000),
          headers: { 'Content-Range': '150000-199999' },
        });
        assert.equal(put.status, 201);
        assert.equal(put.headers.get('docker-content-digest'), digest);
        const get = await second.client.request(`/v2/${NAME}/blobs/${digest}`);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
      } finally {
        await second.wharf.stop(0);
      }
    });
  }

  it('a wrong digest after a restart is still refused (the commit hashes what storage holds)', async () => {
    const content = randomBytes(10_000);
    const first = await startOnRoot();
    const start = await first.client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const path = pathOf(start.headers.get('location') ?? '');
    assert.equal((await patch(first.client, path, content.subarray(0, 4000), 0)).status, 202);
    await first.wharf.stop(0);
    const second = await startOnRoot();
    try {
      assert.equal((await patch(second.client, path, content.subarray(4000), 4000)).status, 202);
      const wrong = await second.client.request(`${path}?digest=${sha256(Buffer.concat([content, Buffer.from('x')]))}`, { method: 'PUT' });
      assert.equal(wrong.status, 400);
      const get = await second.client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
      assert.equal(get.status, 404);
      await get.arrayBuffer();
    } finally {
      await second.wharf.stop(0);
    }
  });
});

describe('a body cut off mid-PATCH on the filesystem driver', () => {
  it('stays resumable at the stored size, across a restart too', async () => {
    const content = randomBytes(400_000);
    const first = await startOnRoot();
    const start = await first.client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const path = pathOf(start.headers.get('location') ?? '');
    assert.equal((await patch(first.client, path, content.subarray(0, 100_000), 0)).status, 202);
    const sent = content.subarray(100_000, 250_000);
    await cutOffPatch(first.wharf, NAME, path, 300_000, sent, 100_000 + sent.length);
    const expected = `0-${100_000 + sent.length - 1}`;
    let range: string | null = null;
    for (let i = 0; i < 40 && range !== expected; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 25));
      range = (await first.client.request(path)).headers.get('range');
    }
    assert.equal(range, expected, 'every received byte is kept');
    await first.wharf.stop(0);

    const second = await startOnRoot();
    try {
      const status = await second.client.request(path);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), expected);
      const stored = 100_000 + sent.length;
      assert.equal((await patch(second.client, path, content.subarray(stored), stored)).status, 202);
      const put = await second.client.request(`${path}?digest=${sha256(content)}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      const get = await second.client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
    } finally {
      await second.wharf.stop(0);
    }
  });
});

describe('two instances on one root', () => {
  it('chunks alternate between instances; either can report status and complete', async () => {
    const a = await startOnRoot();
    const b = await startOnRoot();
    try {
      const content = randomBytes(90_000);
      const start = await a.client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
      const path = pathOf(start.headers.get('location') ?? '');
      const clients = [a.client, b.client];
      for (let i = 0; i < 3; i++) {
        const c = clients[i % 2] as TestClient;
        const res = await patch(c, path, content.subarray(i * 30_000, (i + 1) * 30_000), i * 30_000);
        assert.equal(res.status, 202);
        const other = clients[(i + 1) % 2] as TestClient;
        const status = await other.request(path);
        assert.equal(status.headers.get('range'), `0-${(i + 1) * 30_000 - 1}`);
      }
      const put = await a.client.request(`${path}?digest=${sha256(content)}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      const get = await b.client.request(`/v2/${NAME}/blobs/${sha256(content)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
    } finally {
      await a.wharf.stop(0);
      await b.wharf.stop(0);
    }
  });
});
