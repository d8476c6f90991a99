/** Maps `auth`, `access`, `tokenservice` and `http.tls` of the configuration onto WharfOptions. */
import { join } from 'node:path';
import type { AuthOptions } from '../auth/compose.js';
import type { WharfConfig } from '../config/schema.js';
import type { TlsSettings } from '../http/tls.js';

/** Where the token signing key is kept when `tokenservice.signingkey` is not set (filesystem storage only). */
export function defaultSigningKeyPath(rootDirectory: string): string {
  return join(rootDirectory, '.wharf', 'token-signing-key.pem');
}

export function authOptions(config: Readonly<WharfConfig>): AuthOptions | undefined {
  const auth = config.auth;
  const access = { groups: config.access.groups, rules: config.access.rules };
  const loginLimit = { failures: config.access.loginlimit.failures, windowMs: config.access.loginlimit.window };
  if (auth?.htpasswd !== undefined) {
    return { provider: { kind: 'htpasswd', realm: auth.htpasswd.realm, path: auth.htpasswd.path }, access, loginLimit };
  }
  if (auth?.silly !== undefined) return { provider: { kind: 'silly', realm: auth.silly.realm, service: auth.silly.service }, access, loginLimit };
  if (auth?.token !== undefined) {
    const token = auth.token;
    const service = config.tokenservice;
    const root = config.storage.driver === 'filesystem' ? config.storage.filesystem.rootdirectory : undefined;
    const signingKey = service?.signingkey ?? (root === undefined ? undefined : defaultSigningKeyPath(root));
    return {
      provider: {
        kind: 'token',
        realm: token.realm,
        service: token.service,
        issuer: token.issuer,
        rootCertBundle: token.rootcertbundle,
        jwks: token.jwks,
        algorithms: token.signingalgorithms,
        autoRedirectPath: token.autoredirect ? token.autoredirectpath : undefined,
      },
      access,
      loginLimit,
      tokenService: service === undefined || signingKey === undefined
        ? undefined
        : { htpasswd: service.htpasswd, signingKey, expirationMs: service.expiration, refreshExpirationMs: service.refreshexpiration },
    };
  }
  return undefined;
}

export function tlsSettings(http: WharfConfig['http']): TlsSettings | undefined {
  const tls = http.tls;
  if (tls?.certificate === undefined || tls.key === undefined) return undefined;
  return { certificate: tls.certificate, key: tls.key, clientCAs: tls.clientcas, minimumTls: tls.minimumtls, cipherSuites: tls.ciphersuites };
}
