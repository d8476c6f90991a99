/**
 * Builds the Authorizer (and the built-in token service) that startup.ts hands to the HTTP layer,
 * from options the CLI maps out of `auth`, `access` and `tokenservice`.
 */
import type { Logger } from '../log/logger.js';
import { AccessRules, type AccessConfig } from './access-rules.js';
import type { Authorizer } from './authorizer.js';
import { BasicAuthorizer } from './basic-authorizer.js';
import { HtpasswdFile, PROVISIONED_USER, provisionHtpasswd } from './htpasswd.js';
import { LoginLimiter, type LoginLimit } from './login-limiter.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import { SillyAuthorizer } from './silly-authorizer.js';
import { TokenAuthorizer } from './token-authorizer.js';
import { trustedKeys } from './token-keys.js';
import { TokenService } from './token-service.js';
import { TokenVerifier } from './token-verifier.js';

export type AuthProvider =
  | { readonly kind: 'htpasswd'; readonly realm: string; readonly path: string }
  | {
      readonly kind: 'token';
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      readonly rootCertBundle?: string | undefined;
      readonly jwks?: string | undefined;
      readonly algorithms?: readonly string[] | undefined;
      /** `autoredirect`: the realm's path on the host the client asked for. */
      readonly autoRedirectPath?: string | undefined;
    }
  | { readonly kind: 'silly'; readonly realm: string; readonly service: string };

export interface TokenServiceSettings {
  /** The users (an htpasswd file). */
  readonly htpasswd: string;
  /** The signing key's PEM file, created on first start when missing. */
  readonly signingKey: string;
  readonly expirationMs: number;
  readonly refreshExpirationMs: number;
}

export interface AuthOptions {
  readonly provider: AuthProvider;
  readonly access?: AccessConfig | undefined;
  readonly loginLimit: LoginLimit;
  /** The built-in token service; needs a `token` provider, whose issuer and service it uses. */
  readonly tokenService?: TokenServiceSettings | undefined;
}

export interface AuthSetup {
  readonly authorizer: Authorizer;
  readonly tokenService?: TokenService | undefined;
}

export function createAuth(options: AuthOptions, log: Logger): AuthSetup {
  const provider = options.provider;
  const rules = new AccessRules(options.access);
  const limiter = new LoginLimiter(options.loginLimit);
  const warn = (message: string): void => log.warn(message);
  switch (provider.kind) {
    case 'silly':
      return { authorizer: new SillyAuthorizer(provider.realm, provider.service) };
    case 'htpasswd': {
      const password = provisionHtpasswd(provider.path);
      // Logged once, as distribution does, so the operator can log in; `password` itself is a redacted key.
      if (password !== undefined) log.warn({ path: provider.path, user: PROVISIONED_USER, initialPassword: password }, 'htpasswd is missing, provisioning with default user');
      return { authorizer: new BasicAuthorizer(new HtpasswdFile(provider.path, warn), provider.realm, rules, limiter) };
    }
    case 'token': {
      const settings = options.tokenService;
      let tokenService: TokenService | undefined;
      const extra = [];
      if (settings !== undefined) {
        const { key, created } = loadOrCreateSigningKey(settings.signingKey);
        if (created) log.info({ path: settings.signingKey, kid: key.kid }, 'generated the token signing key');
        extra.push(key.publicKey);
        tokenService = new TokenService({
          issuer: provider.issuer,
          service: provider.service,
          key,
          htpasswd: new HtpasswdFile(settings.htpasswd, warn),
          rules,
          limiter,
          expirationMs: settings.expirationMs,
          refreshExpirationMs: settings.refreshExpirationMs,
        });
      }
      const verifier = new TokenVerifier({
        issuer: provider.issuer,
        service: provider.service,
        keys: trustedKeys({ rootCertBundle: provider.rootCertBundle, jwks: provider.jwks, extra }),
        algorithms: provider.algorithms,
      });
      const authorizer = new TokenAuthorizer(verifier, provider.realm, provider.service, tokenService === undefined ? undefined : rules, provider.autoRedirectPath);
      return { authorizer, tokenService };
    }
  }
}
