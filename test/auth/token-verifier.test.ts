/** Token verification as distribution does it: trusted keys (x5c, kid, jwks), issuer, audience, times, algorithms. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { libtrustKeyId, trustedKeys } from '../../src/auth/token-keys.js';
import { issue, makeCA } from '../helpers/certs.js';

const ISSUER = 'test-issuer';
const SERVICE = 'test-registry';
const NOW = Math.floor(Date.now() / 1000);
const ACCESS = [{ type: 'repository', name: 'app', actions: ['pull', 'push'] }];

interface Signer {
  readonly key: KeyObject;
  readonly alg: string;
  readonly header: Record<string, unknown>;
}

function sign(signer: Signer, claims: Record<string, unknown> = {}, times: { iat?: number; nbf?: number; exp?: number | null } = {}): Promise<string> {
  const jwt = new SignJWT({ access: ACCESS, ...claims })
    .setProtectedHeader({ alg: signer.alg, ...signer.header })
    .setIssuer((claims['iss'] as string | undefined) ?? ISSUER)
    .setAudience((claims['aud'] as string | string[] | undefined) ?? SERVICE)
    .setSubject('alice')
    .setIssuedAt(times.iat ?? NOW)
    .setNotBefore(times.nbf ?? NOW);
  if (times.exp !== null) jwt.setExpirationTime(times.exp ?? NOW + 300);
  return jwt.sign(signer.key);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('token verifier', () => {
  let dir: string;
  let chainSigner: Signer;
  let kidSigner: Signer;
  let jwksSigner: Signer;
  let strangerChain: Signer;
  let verifier: TokenVerifier;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-token-'));
    const root = await makeCA(dir, 'root');
    const leaf = await issue(dir, root, 'signer', { cn: 'token signer' });
    const leafDer = new X509Certificate(await readFile(leaf.cert)).raw.toString('base64');
    chainSigner = { key: createPrivateKey(await readFile(leaf.key)), alg: 'ES256', header: { x5c: [leafDer] } };
    const rootKey = createPrivateKey(await readFile(root.key));
    kidSigner = { key: rootKey, alg: 'ES256', header: { kid: libtrustKeyId(new X509Certificate(await readFile(root.cert)).publicKey) } };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'jwks-key-1' }] }));
    jwksSigner = { key: rsa.privateKey, alg: 'RS256', header: { kid: 'jwks-key-1' } };
    const otherRoot = await makeCA(dir, 'other');
    const otherLeaf = await issue(dir, otherRoot, 'other-signer', { cn: 'stranger' });
    strangerChain = {
      key: createPrivateKey(await readFile(otherLeaf.key)),
      alg: 'ES256',
      header: { x5c: [new X509Certificate(await readFile(otherLeaf.cert)).raw.toString('base64')] },
    };
    verifier = new TokenVerifier({ issuer: ISSUER, service: SERVICE, keys: trustedKeys({ rootCertBundle: root.cert, jwks: join(dir, 'jwks.json') }) });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('accepts an x5c chain leading to rootcertbundle, and reads subject and access', async () => {
    const token = await verifier.verify(await sign(chainSigner));
    assert.equal(token.subject, 'alice');
    assert.deepEqual(token.access, ACCESS);
  });

  it('accepts a kid naming a rootcertbundle key (libtrust key ID) and a jwks key', async () => {
    assert.deepEqual((await verifier.verify(await sign(kidSigner))).access, ACCESS);
    assert.deepEqual((await verifier.verify(await sign(jwksSigner))).access, ACCESS);
  });

  it('accepts the service among several audiences', async () => {
    await verifier.verify(await sign(chainSigner, { aud: ['other', SERVICE] }));
  });

  it('allows 60 s of leeway on exp and nbf', async () => {
    await verifier.verify(await sign(chainSigner, {}, { iat: NOW - 400, nbf: NOW - 400, exp: NOW - 30 }));
    await verifier.verify(await sign(chainSigner, {}, { nbf: NOW + 30 }));
  });

  const refusals: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: SERVICE, exp: NOW + 300, access: ACCESS })}.`],
    ['alg none with a trusted kid', async () => `${b64({ alg: 'none', kid: kidSigner.header['kid'] })}.${b64({ iss: ISSUER, aud: SERVICE, exp: NOW + 300, access: ACCESS })}.`],
    ['the wrong audience', () => sign(chainSigner, { aud: 'another-registry' })],
    ['the wrong issuer', () => sign(chainSigner, { iss: 'someone-else' })],
    ['an expired token (past the leeway)', () => sign(chainSigner, {}, { iat: NOW - 600, nbf: NOW - 600, exp: NOW - 90 })],
    ['a token not yet valid (past the leeway)', () => sign(chainSigner, {}, { nbf: NOW + 120 })],
    ['a token without exp', () => sign(chainSigner, {}, { exp: null })],
    ['an x5c chain from an untrusted CA', () => sign(strangerChain)],
    ['an unknown kid', () => sign({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, alg: 'ES256', header: { kid: 'nobody' } })],
    ['a bad signature', async () => {
      const [h, p] = (await sign(chainSigner)).split('.');
      const [, , s] = (await sign(chainSigner, { sub: 'mallory' })).split('.');
      return `${h}.${p}.${s}`;
    }],
    ['an HMAC token made with a public key as secret', async () =>
      new SignJWT({ access: ACCESS }).setProtectedHeader({ alg: 'HS256', kid: kidSigner.header['kid'] as string })
        .setIssuer(ISSUER).setAudience(SERVICE).setExpirationTime(NOW + 300)
        .sign(Buffer.from(String((await readFile(join(dir, 'root.pem'))))))],
  ];
  for (const [what, make] of refusals) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(verifier.verify(await make()));
    });
  }

  it('refuses an algorithm outside signingalgorithms', async () => {
    const strict = new TokenVerifier({ issuer: ISSUER, service: SERVICE, keys: trustedKeys({ jwks: join(dir, 'jwks.json') }), algorithms: ['ES256'] });
    await assert.rejects(strict.verify(await sign(jwksSigner)));
  });

  it('forgets a cached token once it expires', async () => {
    let now = Date.now();
    const clocked = new TokenVerifier({ issuer: ISSUER, service: SERVICE, keys: trustedKeys({ jwks: join(dir, 'jwks.json') }) }, () => now);
    const token = await sign(jwksSigner, {}, { exp: NOW + 10 });
    await clocked.verify(token);
    now += 200_000;
    await assert.rejects(clocked.verify(token));
  });
});
