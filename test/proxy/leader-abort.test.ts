/**
 * The first client of a cold blob is streamed the upstream's download while it is stored; when
 * that client goes away mid-blob, the fetch goes on into storage and later pulls are served
 * locally, with no second upstream fetch. A digest mismatch upstream stores nothing.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, errorCode, sha256 } from '../helpers/client.js';
import { bodyDigest, startCache, startGate, upstream, type Gate } from './helpers.js';

let origin: TestWharf;
let gate: Gate;
before(async () => {
  origin = await startTestWharf();
  gate = await startGate(origin.url);
});
after(async () => {
  await gate.close();
  await origin.stop(0);
});

it('keeps fetching into storage when the first client leaves mid-blob', async () => {
  const layer = await new TestClient(origin.url).pushBlob('abort/app', randomBytes(16 * 1024 * 1024));
  const cache = await startCache([upstream('origin', gate.url, { prefixes: ['a/'] })]);
  try {
    const client = new TestClient(cache.url);
    const controller = new AbortController();
    const res = await client.request(`/v2/a/abort/app/blobs/${layer.digest}`, { signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    const link = `/docker/registry/v2/repositories/a/abort/app/_layers/sha256/${layer.digest.slice(7)}/link`;
    for (let i = 0; i < 600 && !(await cache.driver.stat(link).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await bodyDigest(await client.request(`/v2/a/abort/app/blobs/${layer.digest}`)), layer.digest);
    assert.equal(gate.count('GET', `/v2/abort/app/blobs/${layer.digest}`), 1);
  } finally {
    await cache.stop(0);
  }
});

it('stores nothing when the upstream sends bytes that do not match the digest', async () => {
  const claimed = sha256('what the client asked for');
  const liar: Server = createServer((req, res) => {
    const body = Buffer.from('something else entirely');
    res.writeHead(200, { 'Content-Length': body.length, 'Docker-Content-Digest': claimed });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
  const cache = await startCache([upstream('liar', `http://127.0.0.1:${(liar.address() as AddressInfo).port}`, { prefixes: ['l/'] })]);
  try {
    const client = new TestClient(cache.url);
    await assert.rejects(async () => bodyDigest(await client.request(`/v2/l/x/blobs/${claimed}`)));
    const again = await client.request(`/v2/l/x/blobs/${claimed}`, { method: 'HEAD' });
    assert.equal(again.status, 200, 'still answered from the upstream, not from storage');
    await assert.rejects(cache.driver.stat(`/docker/registry/v2/blobs/sha256/${claimed.slice(7, 9)}/${claimed.slice(7)}/data`));
    const missing = await client.request(`/v2/l/x/manifests/${claimed}`);
    assert.equal(await errorCode(missing), 'DIGEST_INVALID', 'a manifest that does not match its digest is refused, not stored');
  } finally {
    await cache.stop(0);
    await new Promise<void>((resolve) => liar.close(() => resolve()));
  }
});
