/**
 * `http.tls` as Node's TLS options: certificate and key, `minimumtls` (distribution's spellings,
 * tls1.0 … tls1.3), `ciphersuites` (Go's names, translated to OpenSSL's; TLS 1.3 suites are not
 * configurable, as in Go) and `clientcas`: with them, a client must present a certificate signed by
 * one of those CAs (distribution's RequireAndVerifyClientCert), and its common name is the caller's
 * user name for the access rules when the request carries no other credentials.
 */
import { readFileSync } from 'node:fs';
import type { SecureVersion, TlsOptions } from 'node:tls';

export interface TlsSettings {
  readonly certificate: string;
  readonly key: string;
  readonly clientCAs: readonly string[];
  readonly minimumTls: 'tls1.0' | 'tls1.1' | 'tls1.2' | 'tls1.3';
  readonly cipherSuites: readonly string[];
}

const VERSIONS: Readonly<Record<TlsSettings['minimumTls'], SecureVersion>> = {
  'tls1.0': 'TLSv1',
  'tls1.1': 'TLSv1.1',
  'tls1.2': 'TLSv1.2',
  'tls1.3': 'TLSv1.3',
};

/** Go's cipher suite names (crypto/tls) → OpenSSL's. */
const GO_CIPHERS: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** The OpenSSL cipher list for Go suite names; throws naming an unknown one. */
export function opensslCiphers(suites: readonly string[]): string | undefined {
  const names = suites.filter((s) => !TLS13_SUITES.has(s)).map((suite) => {
    const name = GO_CIPHERS[suite];
    if (name === undefined) throw new Error(`http.tls.ciphersuites: unknown cipher suite ${suite}`);
    return name;
  });
  return names.length === 0 ? undefined : names.join(':');
}

/** Node TLS server options for the settings (reads the files now: a missing file fails the start). */
export function tlsServerOptions(settings: TlsSettings): TlsOptions {
  const ciphers = opensslCiphers(settings.cipherSuites);
  const requireClientCert = settings.clientCAs.length > 0;
  return {
    cert: readFileSync(settings.certificate),
    key: readFileSync(settings.key),
    minVersion: VERSIONS[settings.minimumTls],
    ...(ciphers !== undefined && { ciphers }),
    ...(requireClientCert && {
      ca: settings.clientCAs.map((path) => readFileSync(path)),
      requestCert: true,
      rejectUnauthorized: true,
    }),
  };
}
