/**
 * Slow clients are cut off (issue 3). Header, idle and request timeouts are configurable
 * (`timeouts: {headerMs, idleMs, requestMs}` in WharfOptions; `wharf.http.timeouts.{header,idle,request}`
 * in the config, and so `REGISTRY_WHARF_HTTP_TIMEOUTS_*` in the environment):
 * - a client that trickles its headers one byte at a time is cut off after the header timeout;
 * - an idle keep-alive connection is closed after the idle timeout;
 * - a client that stalls in the middle of a PATCH body is cut off after the idle timeout, and the
 *   upload stays resumable at the size that was stored;
 * - a body trickled past the request timeout (when one is set) is cut off.
 * Each cut-off must come within a bounded time after the timeout, and not (much) before it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { TestClient, sha256 } from '../helpers/client.js';
import { createStorageDriver } from '../../src/storage/drivers.js';
import { ForwardingDriver } from '../../src/storage/forwarding-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import type { CallOptions } from '../../src/storage/driver.js';

/** How late after its timeout a cut-off may come (the server checks headers every 250 ms or so). */
const SLACK_MS = 2500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Conn {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the time (ms since open) at which the server closed the connection. */
  readonly closed: Promise<number>;
}

async function open(url: string): Promise<Conn> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

/** Writes `text` one byte every `everyMs` until the connection closes; resolves with the bytes written. */
async function trickle(conn: Conn, text: string, everyMs: number): Promise<number> {
  let done = false;
  void conn.closed.then(() => (done = true));
  let written = 0;
  for (let i = 0; !done; i = (i + 1) % text.length) {
    if (conn.socket.writable) conn.socket.write(text[i]!);
    written++;
    await sleep(everyMs);
  }
  return written;
}

/** Rejects when the connection is still open `ms` from now. */
function within(conn: Conn, ms: number, what: string): Promise<number> {
  return Promise.race([
    conn.closed,
    sleep(ms).then(() => {
      conn.socket.destroy();
      throw new Error(`${what}: the connection was still open after ${ms} ms`);
    }),
  ]);
}

describe('slow clients (in-process, timeouts from WharfOptions)', () => {
  const HEADER_MS = 1000;
  const IDLE_MS = 1500;
  let wharf: TestWharf;
  let client: TestClient;
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-slow-'));
    wharf = await startTestWharf({
      driver: await createStorageDriver('filesystem', { rootdirectory: dir }),
      timeouts: { headerMs: HEADER_MS, idleMs: IDLE_MS, requestMs: 0 },
    });
    client = new TestClient(wharf.url);
  });
  after(async () => {
    await wharf.stop(0);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('cuts off a client that trickles its headers one byte at a time after the header timeout', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    const header = 'GET /v2/ HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowloris\r\n' + 'X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(1000);
    void trickle(conn, header, 50);
    const elapsed = await within(conn, HEADER_MS + SLACK_MS, 'trickled headers');
    assert.ok(elapsed >= HEADER_MS * 0.9, `cut off after ${elapsed} ms, before the ${HEADER_MS} ms header timeout`);
    const response = conn.received();
    assert.ok(response === '' || /^HTTP\/1\.1 408 /.test(response), `answered ${JSON.stringify(response.slice(0, 80))}`);
  });

  it('cuts off a client that opens a connection and sends nothing', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    const elapsed = await within(conn, Math.max(HEADER_MS, IDLE_MS) + SLACK_MS, 'silent connection');
    assert.ok(elapsed >= HEADER_MS * 0.9, `cut off after ${elapsed} ms`);
  });

  it('closes an idle keep-alive connection after the idle timeout', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    conn.socket.write('GET /v2/ HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    const answeredAt = Date.now();
    while (!conn.received().includes('\r\n\r\n')) await sleep(10);
    assert.match(conn.received(), /^HTTP\/1\.1 200 /);
    await within(conn, IDLE_MS + SLACK_MS, 'idle keep-alive connection');
    const idle = Date.now() - answeredAt;
    assert.ok(idle >= IDLE_MS * 0.9, `closed after ${idle} ms idle, before the ${IDLE_MS} ms idle timeout`);
  });

  it('keeps a keep-alive connection that is used more often than the idle timeout', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    let answers = 0;
    for (let i = 0; i < 4; i++) {
      conn.socket.write('GET /v2/ HTTP/1.1\r\nHost: localhost\r\n\r\n');
      while ((conn.received().match(/HTTP\/1\.1 200 /g) ?? []).length <= answers) await sleep(10);
      answers++;
      await sleep(IDLE_MS / 2);
    }
    assert.equal(conn.socket.destroyed, false, 'the connection was closed while in use');
    conn.socket.destroy();
  });

  it('cuts off a PATCH that stalls mid-body after the idle timeout; the upload resumes at the stored size', { timeout: 20_000 }, async () => {
    const content = randomBytes(100_000);
    const sent = 30_000;
    const start = await client.request('/v2/slow/stall/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    const location = new URL(start.headers.get('location') ?? '', wharf.url);
    const id = start.headers.get('docker-upload-uuid') ?? '';
    const conn = await open(wharf.url);
    conn.socket.write(
      `PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n` +
      `Content-Length: ${content.length}\r\nContent-Range: 0-${content.length - 1}\r\n\r\n`,
    );
    conn.socket.write(content.subarray(0, sent));
    const stalledAt = Date.now();
    await within(conn, IDLE_MS + SLACK_MS, 'stalled PATCH');
    const stalled = Date.now() - stalledAt;
    assert.ok(stalled >= IDLE_MS * 0.9, `cut off ${stalled} ms into the stall, before the ${IDLE_MS} ms idle timeout`);

    // The bytes that arrived are stored, and the status says so (the write may take a moment to settle).
    const dataFile = nodePath.join(dir, 'docker/registry/v2/repositories/slow/stall/_uploads', id, 'data');
    let range: string | null = null;
    for (let i = 0; i < 50; i++) {
      const status = await client.request(location.href);
      assert.equal(status.status, 204);
      range = status.headers.get('range');
      if (range === `0-${sent - 1}`) break;
      await sleep(50);
    }
    assert.equal(range, `0-${sent - 1}`, 'the upload stands at the bytes that were sent');
    assert.equal((await fs.stat(dataFile)).size, sent);
    assert.ok((await fs.readFile(dataFile)).equals(content.subarray(0, sent)));

    const rest = await client.request(location.href, {
      method: 'PATCH',
      body: content.subarray(sent),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${sent}-${content.length - 1}` },
    });
    assert.equal(rest.status, 202, await rest.text());
    assert.equal(rest.headers.get('range'), `0-${content.length - 1}`);
    const digest = sha256(content);
    const put = await client.request(`${location.href}${location.search === '' ? '?' : '&'}digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const pulled = await client.request(`/v2/slow/stall/blobs/${digest}`);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), digest);
  });
});

describe('slow clients (request timeout)', () => {
  const REQUEST_MS = 1500;
  let wharf: TestWharf;

  before(async () => {
    wharf = await startTestWharf({ timeouts: { headerMs: 1000, idleMs: 10_000, requestMs: REQUEST_MS } });
  });
  after(() => wharf.stop(0));

  it('cuts off a body trickled past the request timeout, even though it never goes idle', { timeout: 15_000 }, async () => {
    const start = await new TestClient(wharf.url).request('/v2/slow/trickle/blobs/uploads/', { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', wharf.url);
    const conn = await open(wharf.url);
    conn.socket.write(`PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`);
    void trickle(conn, 'x', 50);
    const elapsed = await within(conn, REQUEST_MS + SLACK_MS, 'trickled body');
    assert.ok(elapsed >= REQUEST_MS * 0.9, `cut off after ${elapsed} ms, before the ${REQUEST_MS} ms request timeout`);
  });
});

describe('slow clients (real process, timeouts from REGISTRY_WHARF_HTTP_TIMEOUTS_*)', () => {
  let wharf: WharfProcess;
  let dir: string;

  before(async () => {
    dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'wharf-slow-proc-'));
    wharf = await startWharfProcess({
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: dir,
      REGISTRY_WHARF_HTTP_TIMEOUTS_HEADER: '1s',
      REGISTRY_WHARF_HTTP_TIMEOUTS_IDLE: '1500ms',
    });
  });
  after(async () => {
    await wharf.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('cuts off trickled headers after the configured header timeout', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    void trickle(conn, 'GET /v2/ HTTP/1.1\r\nHost: localhost\r\n' + 'X-Slow: 1\r\n'.repeat(10_000), 50);
    const elapsed = await within(conn, 1000 + SLACK_MS, 'trickled headers (process)');
    assert.ok(elapsed >= 900, `cut off after ${elapsed} ms`);
  });

  it('closes an idle keep-alive connection after the configured idle timeout', { timeout: 15_000 }, async () => {
    const conn = await open(wharf.url);
    conn.socket.write('GET /v2/ HTTP/1.1\r\nHost: localhost\r\n\r\n');
    while (!conn.received().includes('\r\n\r\n')) await sleep(10);
    const answeredAt = Date.now();
    await within(conn, 1500 + SLACK_MS, 'idle keep-alive connection (process)');
    assert.ok(Date.now() - answeredAt >= 1300, `closed after ${Date.now() - answeredAt} ms`);
  });
});

describe('slow server work is not a slow client', () => {
  const IDLE_MS = 800;
  /** Moves take three idle timeouts, as a large blob's server-side copy on an object store can. */
  class SlowMoves extends ForwardingDriver {
    override async move(from: string, to: string, options?: CallOptions): Promise<void> {
      await sleep(3 * IDLE_MS);
      await super.move(from, to, options);
    }
  }
  let wharf: TestWharf;

  before(async () => {
    wharf = await startTestWharf({
      driver: wrapDriver(new SlowMoves(wrapDriver(new MemoryDriver()))),
      timeouts: { headerMs: 1000, idleMs: IDLE_MS, requestMs: 0 },
    });
  });
  after(async () => {
    await wharf.stop(0);
  });

  it('answers a PUT whose commit stays silent for longer than the idle timeout', { timeout: 20_000 }, async () => {
    const client = new TestClient(wharf.url);
    const content = randomBytes(64 * 1024);
    const pushed = await client.pushBlob('slow/commit', content);
    assert.equal(pushed.digest, sha256(content));
    const pulled = await client.request(`/v2/slow/commit/blobs/${pushed.digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), pushed.digest);
  });

  it('still closes the connection once it is idle after the response', { timeout: 20_000 }, async () => {
    const conn = await open(wharf.url);
    conn.socket.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAt = await conn.closed;
    assert.match(conn.received(), /^HTTP\/1\.1 200/);
    assert.ok(closedAt >= IDLE_MS - 100 && closedAt < IDLE_MS + SLACK_MS, `closed after ${closedAt} ms`);
  });
});
