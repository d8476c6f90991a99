/**
 * Unit tests of src/http/errors.ts (the only writer of the error envelope), on a bare node:http
 * server: statuses and headers a RegistryError carries (Retry-After on 429, Content-Range on 416),
 * success headers dropped, HEAD without a body, unexpected failures as UNKNOWN without internals.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendError } from '../../src/http/errors.js';
import type { HttpContext } from '../../src/http/context.js';
import { RegistryError } from '../../src/registry/errors.js';
import { silentLogger } from '../../src/log/logger.js';

let server: Server;
let base: string;
let nextError: () => unknown = () => new RegistryError('UNKNOWN');

before(async () => {
  server = createServer((req, res) => {
    res.setHeader('Docker-Content-Digest', `sha256:${'a'.repeat(64)}`);
    res.setHeader('ETag', '"x"');
    res.setHeader('Location', '/somewhere');
    res.setHeader('OCI-Subject', 'x');
    res.setHeader('X-Kept', 'yes');
    const ctx = {
      req, res, requestId: 'req-123', log: silentLogger(), signal: new AbortController().signal,
      path: req.url ?? '/', query: new URLSearchParams(), params: {}, route: 'test',
    } as HttpContext;
    const read = req.url === '/read-body';
    const fail = (): void => sendError(ctx, nextError());
    if (read) req.resume().on('end', fail);
    else fail();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function call(error: unknown, init: RequestInit = {}, path = '/read-body') {
  nextError = () => error;
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { res, body: text === '' ? undefined : (JSON.parse(text) as { errors: { code: string; message: string; detail: unknown }[] }) };
}

describe('sendError', () => {
  it('writes the envelope with the code’s status, message and detail', async () => {
    const { res, body } = await call(new RegistryError('BLOB_UNKNOWN', { digest: 'd' }));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(body, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'd' } }] });
  });

  it('detail defaults to {}', async () => {
    const { body } = await call(new RegistryError('NAME_UNKNOWN'));
    assert.deepEqual(body?.errors[0]?.detail, {});
  });

  it('a 429 carries the Retry-After its error names', async () => {
    const { res, body } = await call(new RegistryError('TOOMANYREQUESTS', undefined, { headers: { 'Retry-After': '7' } }));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(body?.errors[0]?.code, 'TOOMANYREQUESTS');
  });

  it('a 416 keeps the Content-Range its error names', async () => {
    const { res } = await call(new RegistryError('RANGE_INVALID', undefined, { headers: { 'Content-Range': 'bytes */10' } }));
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), 'bytes */10');
  });

  it('a status override (413) and custom message are used', async () => {
    const { res, body } = await call(new RegistryError('MANIFEST_INVALID', undefined, { status: 413, message: 'too big' }));
    assert.equal(res.status, 413);
    assert.equal(body?.errors[0]?.message, 'too big');
  });

  it('drops headers meant for a success, keeps the others', async () => {
    const { res } = await call(new RegistryError('DIGEST_INVALID'));
    for (const name of ['docker-content-digest', 'etag', 'location', 'oci-subject']) assert.equal(res.headers.get(name), null, name);
    assert.equal(res.headers.get('x-kept'), 'yes');
  });

  it('HEAD gets the status and headers without a body', async () => {
    const { res, body } = await call(new RegistryError('MANIFEST_UNKNOWN'), { method: 'HEAD' });
    assert.equal(res.status, 404);
    assert.equal(body, undefined);
  });

  it('an unexpected failure → 500 UNKNOWN naming the request id, without internals', async () => {
    const { res, body } = await call(new Error('ENOENT: /secret/internal/path'));
    assert.equal(res.status, 500);
    assert.equal(body?.errors[0]?.code, 'UNKNOWN');
    assert.match(body?.errors[0]?.message ?? '', /req-123/);
    assert.ok(!JSON.stringify(body).includes('secret'));
  });

  it('a body left unread closes the connection', async () => {
    const { res } = await call(new RegistryError('UNSUPPORTED'), { method: 'POST', body: Buffer.alloc(1024 * 1024) }, '/no-read');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('connection'), 'close');
  });
});
