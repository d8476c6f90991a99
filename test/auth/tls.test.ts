/** HTTPS (http.tls): certificate, minimumtls, and client certificates with clientcas identifying the user. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request, type RequestOptions } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { opensslCiphers } from '../../src/http/tls.js';
import { TestClient } from '../helpers/client.js';
import { issue, makeCA, type Issued } from '../helpers/certs.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { htpasswdAuth, writeHtpasswd } from './helpers.js';

function get(url: string, options: RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  let dir: string;
  let ca: Issued;
  let server: Issued;
  let bobCert: Issued;
  let strangerCert: Issued;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-tls-'));
    ca = await makeCA(dir, 'ca');
    server = await issue(dir, ca, 'server', { cn: '127.0.0.1', server: true });
    bobCert = await issue(dir, ca, 'bob', { cn: 'bob' });
    const otherCA = await makeCA(dir, 'other-ca');
    strangerCert = await issue(dir, otherCA, 'stranger', { cn: 'bob' });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('serves HTTPS with the certificate, refusing TLS older than minimumtls', async () => {
    const wharf = await startTestWharf({ tls: { certificate: server.cert, key: server.key, clientCAs: [], minimumTls: 'tls1.3', cipherSuites: [] } });
    try {
      assert.match(wharf.url, /^https:/);
      const caPem = await readFile(ca.cert);
      assert.equal((await get(`${wharf.url}/v2/`, { ca: caPem })).status, 200);
      await assert.rejects(get(`${wharf.url}/v2/`, { ca: caPem, maxVersion: 'TLSv1.2' }));
      await assert.rejects(get(`${wharf.url}/v2/`, {}), 'an untrusted server certificate is refused by the client');
    } finally {
      await wharf.stop(0);
    }
  });

  it('with clientcas: a client certificate is required, must chain to them, and its CN is the user', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const seed = await startTestWharf({ driver });
    await new TestClient(seed.url).pushImage('private/app', 'v1');
    const wharf = await startTestWharf({
      driver,
      tls: { certificate: server.cert, key: server.key, clientCAs: [ca.cert], minimumTls: 'tls1.2', cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'] },
      auth: htpasswdAuth(await writeHtpasswd(dir)),
    });
    try {
      const caPem = await readFile(ca.cert);
      const bob = { ca: caPem, cert: await readFile(bobCert.cert), key: await readFile(bobCert.key) };
      assert.equal((await get(`${wharf.url}/v2/private/app/manifests/v1`, bob)).status, 200, 'bob, by certificate, may pull');
      assert.equal((await get(`${wharf.url}/v2/private/app/blobs/uploads/`, { ...bob, method: 'POST' })).status, 403, 'but not push');
      await assert.rejects(get(`${wharf.url}/v2/`, { ca: caPem }), 'no client certificate: the handshake fails');
      const stranger = { ca: caPem, cert: await readFile(strangerCert.cert), key: await readFile(strangerCert.key) };
      await assert.rejects(get(`${wharf.url}/v2/`, stranger), 'a certificate from another CA: the handshake fails');
    } finally {
      await wharf.stop(0);
      await seed.stop(0);
    }
  });

  it("translates Go's cipher suite names and refuses unknown ones", () => {
    assert.equal(opensslCiphers(['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384']), 'ECDHE-RSA-AES256-GCM-SHA384');
    assert.equal(opensslCiphers([]), undefined);
    assert.throws(() => opensslCiphers(['TLS_MADE_UP']), /unknown cipher suite TLS_MADE_UP/);
  });
});
