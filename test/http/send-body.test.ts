/**
 * sendBody gives a pooled chunk back only once the socket write that carried it has completed: a
 * chunk recycled earlier would be filled with the next bytes while still queued, and the client
 * would receive those instead. A real server and a client that stops reading.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendBody } from '../../src/http/send-body.js';
import { BufferPool, RECYCLE } from '../../src/runtime/buffer-recycling.js';

const CHUNK = 64 * 1024;

/** Chunk `i` is filled with bytes that tell it apart from its neighbours. */
function fill(buffer: Buffer, i: number): void {
  buffer.fill(i % 251);
  buffer.writeUInt32BE(i, 0);
}

/** A source that lends its chunks from a pool, as the filesystem reader does, and counts. */
class PooledSource extends Readable {
  readonly pool = new BufferPool(CHUNK, 1024);
  pushed = 0;
  recycled = 0;
  constructor(
    private readonly chunks: number,
    private readonly failAt?: number,
  ) {
    super({ highWaterMark: 16 * CHUNK }); // reads ahead while a write is queued
  }
  override _read(): void {
    if (this.pushed === this.failAt) {
      this.destroy(new Error('the disk went away'));
      return;
    }
    if (this.pushed === this.chunks) {
      this.push(null);
      return;
    }
    const buffer = this.pool.lend();
    fill(buffer, this.pushed++);
    this.push(buffer);
  }
  [RECYCLE](chunk: Buffer): void {
    this.recycled++;
    this.pool.recycle(chunk);
  }
}

function expected(chunks: number): Buffer {
  const out = Buffer.alloc(chunks * CHUNK);
  for (let i = 0; i < chunks; i++) fill(out.subarray(i * CHUNK, (i + 1) * CHUNK), i);
  return out;
}

async function serve(source: PooledSource): Promise<{ url: string; sent: Promise<void>; close(): Promise<void> }> {
  let sent!: Promise<void>;
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/octet-stream');
    sent = sendBody(source, res);
    sent.catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    get sent() {
      return sent;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('sendBody with a pooled source', () => {
  it('recycles a chunk only after its write completed: a client that stops reading gets every byte right', { timeout: 30_000 }, async () => {
    const chunks = 512; // 32 MiB: far more than the socket buffers hold
    const source = new PooledSource(chunks);
    const server = await serve(source);
    try {
      const received: Buffer[] = [];
      const done = new Promise<void>((resolve, reject) => {
        http.get(server.url, (res) => {
          res.pause();
          // Long enough for the server to fill the socket buffers and queue a write behind them.
          void sleep(500).then(() => {
            assert.ok(source.pushed < chunks, `back-pressure held the source (${source.pushed} of ${chunks} read)`);
            assert.ok(source.recycled < source.pushed, `chunks still being written are not recycled (${source.recycled} of ${source.pushed})`);
            res.on('data', (d: Buffer) => received.push(d));
            res.on('end', resolve);
            res.on('error', reject);
            res.resume();
          }, reject);
        }).on('error', reject);
      });
      await done;
      await server.sent;
      assert.ok(Buffer.concat(received).equals(expected(chunks)), 'the body arrived byte for byte');
      assert.equal(source.recycled, chunks, 'every chunk went back once written');
      assert.ok(source.pool.idle > 0);
    } finally {
      await server.close();
    }
  });

  it('fails and destroys the source when the client goes away mid-body', { timeout: 30_000 }, async () => {
    const source = new PooledSource(4096);
    const server = await serve(source);
    try {
      await new Promise<void>((resolve, reject) => {
        http.get(server.url, (res) => {
          res.once('data', () => {
            res.destroy();
            resolve();
          });
        }).on('error', () => {});
        setTimeout(() => reject(new Error('no data')), 10_000).unref();
      });
      await assert.rejects(server.sent);
      assert.ok(source.destroyed, 'the source was destroyed');
      assert.ok(source.pushed < 4096);
    } finally {
      await server.close();
    }
  });

  it('cuts the response off when the source fails mid-body', { timeout: 30_000 }, async () => {
    const source = new PooledSource(64, 8);
    const server = await serve(source);
    try {
      const outcome = await new Promise<{ bytes: number; complete: boolean }>((resolve) => {
        http.get(server.url, (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('close', () => resolve({ bytes, complete: res.complete }));
        }).on('error', () => {});
      });
      await assert.rejects(server.sent, /the disk went away/);
      assert.equal(outcome.complete, false, 'the client sees the body cut off');
      assert.ok(outcome.bytes <= 8 * CHUNK);
    } finally {
      await server.close();
    }
  });
});
