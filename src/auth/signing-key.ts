/**
 * The built-in token service's signing key: a PEM private key (PKCS#8 or the traditional EC/RSA
 * forms) read from `tokenservice.signingkey`, or generated (ECDSA P-256) and written there, mode
 * 0600, on first start. Several instances must share the file (or be given the same key), so that
 * each accepts the tokens the others sign; the exclusive create lets the first writer win.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecretFile, fileExists } from './secret-file.js';
import { libtrustKeyId } from './token-keys.js';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly alg: string;
  readonly kid: string;
}

function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  throw new Error(`unsupported signing key type ${key.asymmetricKeyType ?? 'unknown'} (use EC P-256/P-384/P-521, RSA or Ed25519)`);
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, alg: algorithmFor(privateKey), kid: libtrustKeyId(publicKey) };
}

/** Reads the key at `path`, creating it first when there is none. `created` says which happened. */
export function loadOrCreateSigningKey(path: string): { key: SigningKey; created: boolean } {
  let created = false;
  if (!fileExists(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    created = createSecretFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  return { key: signingKeyFrom(createPrivateKey(readFileSync(path))), created };
}
