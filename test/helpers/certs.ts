/**
 * Test certificates made with the openssl CLI (Debian package "openssl"): a CA, server
 * certificates for 127.0.0.1/localhost, client certificates with a common name, and signing
 * certificates for tokens (x5c chains).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireProgram, runOk } from './process.js';

export interface Issued {
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: readonly string[]): Promise<void> {
  await runOk('openssl', args, { timeoutMs: 60_000 });
}

/** A self-signed CA (EC P-256) in `dir`, named `name`. */
export async function makeCA(dir: string, name = 'ca', validDays = 30): Promise<Issued> {
  requireProgram('openssl');
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await openssl(['req', '-x509', '-new', '-key', key, '-out', cert, '-days', String(validDays), '-subj', `/CN=Wharf test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  return { cert, key };
}

/** A certificate signed by `ca`: a server certificate (SAN 127.0.0.1, localhost) or a client one with CN `cn`. */
export async function issue(dir: string, ca: Issued, name: string, options: { cn: string; server?: boolean; days?: number; keyType?: 'ec' | 'rsa' }): Promise<Issued> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  if (options.keyType === 'rsa') await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
  else await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${options.cn}`]);
  await writeFile(ext, options.server === true
    ? 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n'
    : 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', String(options.days ?? 30), '-extfile', ext]);
  return { cert, key };
}
