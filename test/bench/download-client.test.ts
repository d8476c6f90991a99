/**
 * The bench's download (bench/http.ts, Client.download): its own socket and HTTP answer parsing,
 * so it must hash every body byte across reads, follow redirects, and fail on a wrong digest, a
 * body cut short, an answer without Content-Length, and an error status.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client, makeBlob, MiB } from '../../bench/http.js';

const blob = makeBlob(7, 3);
const other = makeBlob(8, 3);

/** The blob's bytes, as the bench's uploads send them: a monolithic upload to a server that keeps the body. */
async function bytesOf(spec: typeof blob): Promise<Buffer> {
  let kept = Buffer.alloc(0);
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      kept = Buffer.concat(parts);
      res.writeHead(req.method === 'POST' ? 202 : 201, { location: '/upload' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await client.uploadMonolithic('r', spec);
  client.close();
  server.close();
  return kept;
}

describe('bench download client', () => {
  let server: http.Server;
  let client: Client;
  let body: Buffer;

  before(async () => {
    body = await bytesOf(blob);
    assert.equal(body.length, 3 * MiB);
    server = http.createServer((req, res) => {
      const path = req.url ?? '';
      if (path === '/v2/r/blobs/redirect') return res.writeHead(307, { location: `/v2/r/blobs/${blob.digest}`, 'content-length': 5 }).end('moved');
      if (path === '/v2/r/blobs/missing') return res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[]}');
      if (path === '/v2/r/blobs/cut') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, MiB), () => res.destroy());
        return;
      }
      if (path === '/v2/r/blobs/chunked') {
        res.writeHead(200); // no Content-Length: node sends it chunked
        return res.end(body);
      }
      // Small writes, so the head and the body arrive in pieces of every shape.
      res.writeHead(200, { 'content-length': body.length, 'docker-content-digest': blob.digest });
      let at = 0;
      const next = (): void => {
        if (at >= body.length) return void res.end();
        const size = at === 0 ? 1 : 70_001;
        res.write(body.subarray(at, at + size), next);
        at += size;
      };
      next();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    client.close();
    server.close();
  });

  it('reads and checks the whole body, and follows a redirect', async () => {
    assert.equal(await client.download('r', blob), body.length);
    assert.equal(await client.download('r', blob, '/v2/r/blobs/redirect'), body.length);
  });

  it('fails on a body that is not the blob', async () => {
    await assert.rejects(client.download('r', other, `/v2/r/blobs/${blob.digest}`), /download: got sha256:[0-9a-f]{64} \(3145728 bytes\), want/);
  });

  it('fails on an error status, a body cut short, and an answer without its length', async () => {
    await assert.rejects(client.download('r', blob, '/v2/r/blobs/missing'), /GET blob: 404/);
    await assert.rejects(client.download('r', blob, '/v2/r/blobs/cut'), /the body ended after 1048576 of 3145728 bytes/);
    await assert.rejects(client.download('r', blob, '/v2/r/blobs/chunked'), /does not say its length/);
  });
});
