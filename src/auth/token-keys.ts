/**
 * The keys a token may be signed with, as distribution trusts them: certificates of
 * `auth.token.rootcertbundle` (a token's `x5c` chain must lead to one of them; a `kid` may name one
 * by its libtrust key ID), the keys of a `jwks` file (by `kid`), and the built-in token service's key.
 */
import { X509Certificate, createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TrustedKeys {
  readonly roots: readonly X509Certificate[];
  /** kid → public key. */
  readonly byKid: ReadonlyMap<string, KeyObject>;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** libtrust's key ID, which distribution uses as `kid`: base32 of the first 240 bits of SHA-256(SPKI DER), in groups of four. */
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** The certificates of a PEM bundle. */
export function readCertificateBundle(path: string): X509Certificate[] {
  const pem = readFileSync(path, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${path} holds no PEM certificate`);
  return blocks.map((block) => new X509Certificate(block));
}

/** The public keys of a JWKS file, by `kid` (keys without one are named by their libtrust key ID). */
export function readJwks(path: string): Map<string, KeyObject> {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new Error(`${path} is not a JWKS document (no "keys" list)`);
  const out = new Map<string, KeyObject>();
  for (const jwk of parsed.keys as Record<string, unknown>[]) {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    out.set(typeof jwk['kid'] === 'string' ? jwk['kid'] : libtrustKeyId(key), key);
  }
  return out;
}

export function trustedKeys(options: { rootCertBundle?: string | undefined; jwks?: string | undefined; extra?: readonly KeyObject[] }): TrustedKeys {
  const roots = options.rootCertBundle === undefined ? [] : readCertificateBundle(options.rootCertBundle);
  const byKid = new Map<string, KeyObject>();
  for (const root of roots) byKid.set(libtrustKeyId(root.publicKey), root.publicKey);
  if (options.jwks !== undefined) for (const [kid, key] of readJwks(options.jwks)) byKid.set(kid, key);
  for (const key of options.extra ?? []) byKid.set(libtrustKeyId(key), key);
  return { roots, byKid };
}

/**
 * The leaf key of an `x5c` chain (base64 DER, leaf first) that leads to a trusted root: each
 * certificate is within its validity and signed by the next; the last is a root or signed by one.
 */
export function verifyChain(x5c: readonly string[], roots: readonly X509Certificate[], now = new Date()): KeyObject {
  if (x5c.length === 0) throw new Error('empty x5c chain');
  const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
  const valid = (cert: X509Certificate): boolean => new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (!valid(cert)) throw new Error('a certificate of the x5c chain is expired or not yet valid');
    const next = chain[i + 1];
    if (next !== undefined && !(cert.checkIssued(next) && cert.verify(next.publicKey))) throw new Error('the x5c chain is broken');
  }
  const top = chain[chain.length - 1]!;
  const anchored = roots.some((root) => (top.raw.equals(root.raw)) || (valid(root) && top.checkIssued(root) && top.verify(root.publicKey)));
  if (!anchored) throw new Error('the x5c chain does not lead to a certificate of rootcertbundle');
  return chain[0]!.publicKey;
}
