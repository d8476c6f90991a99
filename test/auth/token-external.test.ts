/**
 * `auth.token` with an outside token service (distribution's setup): tokens signed by a key whose
 * certificate chains to rootcertbundle. Every refused token gets 401 with `error="invalid_token"`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { TestClient } from '../helpers/client.js';
import { issue, makeCA } from '../helpers/certs.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { AuthClient } from './helpers.js';

const REALM = 'https://auth.example.com/token';
const NOW = Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('auth.token with rootcertbundle', () => {
  let dir: string;
  let seed: TestWharf;
  let wharf: TestWharf;
  let key: KeyObject;
  let x5c: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-token-ext-'));
    const root = await makeCA(dir, 'root');
    const leaf = await issue(dir, root, 'signer', { cn: 'token signer' });
    key = createPrivateKey(await readFile(leaf.key));
    x5c = [new X509Certificate(await readFile(leaf.cert)).raw.toString('base64')];
    const driver = wrapDriver(new MemoryDriver());
    seed = await startTestWharf({ driver });
    await new TestClient(seed.url).pushImage('app', 'v1');
    await new TestClient(seed.url).pushImage('other', 'v1');
    wharf = await startTestWharf({
      driver,
      auth: { provider: { kind: 'token', realm: REALM, service: 'registry', issuer: 'auth-server', rootCertBundle: root.cert }, loginLimit: { failures: 0, windowMs: 0 } },
    });
  });
  after(async () => {
    await seed?.stop(0);
    await wharf?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  function token(claims: { iss?: string; aud?: string; exp?: number; nbf?: number; access?: unknown } = {}): Promise<string> {
    return new SignJWT({ access: claims.access ?? [{ type: 'repository', name: 'app', actions: ['pull'] }] })
      .setProtectedHeader({ alg: 'ES256', x5c })
      .setIssuer(claims.iss ?? 'auth-server')
      .setAudience(claims.aud ?? 'registry')
      .setSubject('someone')
      .setIssuedAt(NOW - 10)
      .setNotBefore(claims.nbf ?? NOW - 10)
      .setExpirationTime(claims.exp ?? NOW + 300)
      .sign(key);
  }
  const pull = (t: string, repo = 'app') => new AuthClient(wharf.url, `Bearer ${t}`).request(`/v2/${repo}/manifests/v1`);

  it('a good token pulls what its access claim grants', async () => {
    assert.equal((await pull(await token())).status, 200);
  });

  const refused: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'auth-server', aud: 'registry', exp: NOW + 300, access: [{ type: 'repository', name: 'app', actions: ['pull'] }] })}.`],
    ['the wrong audience', () => token({ aud: 'another-registry' })],
    ['the wrong issuer', () => token({ iss: 'mallory' })],
    ['an expired token', () => token({ exp: NOW - 120 })],
    ['a token not yet valid', () => token({ nbf: NOW + 120 })],
  ];
  for (const [what, make] of refused) {
    it(`refuses ${what}: 401 invalid_token with the challenge`, async () => {
      const res = await pull(await make());
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${REALM}",service="registry",scope="repository:app:pull",error="invalid_token"`);
    });
  }

  it('a token without the right: 401 insufficient_scope', async () => {
    const res = await pull(await token(), 'other');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${REALM}",service="registry",scope="repository:other:pull",error="insufficient_scope"`);
  });

  it('the catalog needs registry:catalog:* and then lists everything, as distribution does', async () => {
    assert.equal((await new AuthClient(wharf.url, `Bearer ${await token()}`).request('/v2/_catalog')).status, 401);
    const res = await new AuthClient(wharf.url, `Bearer ${await token({ access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] })}`).request('/v2/_catalog');
    assert.deepEqual(((await res.json()) as { repositories: string[] }).repositories, ['app', 'other']);
  });
});
