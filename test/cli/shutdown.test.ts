/**
 * Graceful shutdown of the real process: SIGTERM during a large upload lets the upload finish
 * within http.draintimeout and exits 0; an upload still arriving when the drain time is up is cut,
 * the process exits 0, and after a restart on the same root the client resumes where storage
 * stands and completes the blob with the right digest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWharfProcess, type WharfProcess } from '../helpers/process.js';

const SIZE = 24 * 1024 * 1024;
const NAME = 'shutdown/app';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-shutdown-'));
});
after(() => rm(work, { recursive: true, force: true }));

function start(root: string, drain: string): Promise<WharfProcess> {
  return startWharfProcess({
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root,
    REGISTRY_HTTP_DRAINTIMEOUT: drain,
    REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
  });
}

/** Bytes the upload holds, from its status (`Range: 0-<last>`). */
async function stored(wharf: WharfProcess, path: string): Promise<number> {
  const response = await fetch(`${wharf.url}${path}`);
  assert.equal(response.status, 204);
  const range = /^0-(\d+)$/.exec(response.headers.get('range') ?? '');
  assert.ok(range, `a Range header, got ${response.headers.get('range')}`);
  const last = Number(range[1]);
  return last === 0 ? 0 : last + 1; // distribution writes 0-0 for an empty upload
}

async function startUpload(wharf: WharfProcess): Promise<string> {
  const response = await fetch(`${wharf.url}/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
  assert.equal(response.status, 202);
  return new URL(response.headers.get('location') ?? '', wharf.url).pathname;
}

/** A PATCH over a raw socket, so the test decides when each part of the body is sent. */
function openPatch(wharf: WharfProcess, path: string, length: number): { socket: Socket; answer: Promise<string> } {
  const [host, port] = wharf.host.split(':');
  const socket = connect({ host, port: Number(port) });
  socket.write(`PATCH ${path} HTTP/1.1\r\nHost: ${wharf.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const answer = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
  return { socket, answer };
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

async function until(predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('graceful shutdown', () => {
  it('lets an upload in flight at SIGTERM finish, then exits 0', async () => {
    const root = join(work, 'finish');
    const blob = randomBytes(SIZE);
    const wharf = await start(root, '60s');
    const path = await startUpload(wharf);
    const { socket, answer } = openPatch(wharf, path, SIZE);
    await write(socket, blob.subarray(0, SIZE / 2));
    await until(async () => (await stored(wharf, path)) > 0);
    const exited = wharf.stop('SIGTERM');
    await until(async () => wharf.logs.some((l) => l.msg === 'shutting down'));
    // New connections are refused from now on, while the upload in flight goes on.
    await until(async () => fetch(`${wharf.url}/v2/`).then(() => false, () => true));
    await write(socket, blob.subarray(SIZE / 2));
    const response = await answer;
    assert.match(response, /^HTTP\/1\.1 202 /);
    assert.match(response, new RegExp(`\\r\\nrange: 0-${SIZE - 1}\\r\\n`, 'i'));
    assert.equal(await exited, 0);
    assert.ok(wharf.logs.some((l) => l.msg === 'stopped'));

    // The finished chunk is all there after a restart, and completes to the right digest.
    const again = await start(root, '5s');
    try {
      assert.equal(await stored(again, path), SIZE);
      const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      assert.equal((await fetch(`${again.url}${path}?digest=${digest}`, { method: 'PUT' })).status, 201);
    } finally {
      assert.equal(await again.stop('SIGINT'), 0);
    }
  });

  it('cuts an upload still arriving at the drain timeout, exits 0, and the upload resumes after a restart', async () => {
    const root = join(work, 'cut');
    const blob = randomBytes(SIZE);
    const wharf = await start(root, '1s');
    const path = await startUpload(wharf);
    const { socket, answer } = openPatch(wharf, path, SIZE);
    await write(socket, blob.subarray(0, SIZE / 3));
    await until(async () => (await stored(wharf, path)) > 0);
    // SIGTERM, and the client stalls: the drain time runs out with the body two-thirds missing.
    assert.equal(await wharf.stop('SIGTERM'), 0);
    const cut = await answer;
    assert.doesNotMatch(cut, /^HTTP\/1\.1 202 /, 'the cut request was not acknowledged');
    socket.destroy();

    const again = await start(root, '5s');
    try {
      const have = await stored(again, path);
      assert.ok(have > 0 && have <= SIZE / 3, `the upload holds what arrived before the cut (${have} bytes)`);
      const rest = blob.subarray(have);
      const resumed = await fetch(`${again.url}${path}`, {
        method: 'PATCH',
        body: rest,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${have}-${SIZE - 1}` },
      });
      assert.equal(resumed.status, 202);
      assert.equal(resumed.headers.get('range'), `0-${SIZE - 1}`);
      const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      const done = await fetch(`${again.url}${path}?digest=${digest}`, { method: 'PUT' });
      assert.equal(done.status, 201);
      const fetched = Buffer.from(await (await fetch(`${again.url}/v2/${NAME}/blobs/${digest}`)).arrayBuffer());
      assert.equal(`sha256:${createHash('sha256').update(fetched).digest('hex')}`, digest);
    } finally {
      assert.equal(await again.stop('SIGTERM'), 0);
    }
  });
});
