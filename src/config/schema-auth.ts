/**
 * The configuration of authentication, authorisation and TLS: distribution's `auth` (htpasswd,
 * token, silly, none) and `http.tls`, and Wharf's own `access` (rules, groups, the failed-login
 * limit) and `tokenservice` (the built-in token realm) sections. `checkAuth` holds the rules that
 * span sections (the token service needs `auth.token`; access rules need someone to apply them).
 */
import * as z from 'zod';
import { duration, int, nonEmptyStr, str, strList } from './schema-helpers.js';
import { refused } from './support.js';

const htpasswdSchema = z.strictObject({ realm: nonEmptyStr(), path: nonEmptyStr() });

const tokenSchema = z.strictObject({
  realm: nonEmptyStr(),
  service: nonEmptyStr(),
  issuer: nonEmptyStr(),
  rootcertbundle: nonEmptyStr().optional(),
  jwks: nonEmptyStr().optional(),
  signingalgorithms: strList().optional(),
  autoredirect: z.boolean().default(false),
  autoredirectpath: str().default('/auth/token'),
});

const sillySchema = z.strictObject({ realm: nonEmptyStr(), service: nonEmptyStr() });

export const authSchema = z
  .preprocess((value) => {
    // distribution also reads `auth: none` (a string) as "no authentication".
    if (value === 'none') return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    // A provider named without parameters (`htpasswd:`, or REGISTRY_AUTH=htpasswd alone) is that
    // provider missing its required keys, which distribution refuses too; never no authentication.
    return Object.fromEntries(Object.entries(value).map(([key, params]) => [key, params === null && key !== 'none' ? {} : params]));
  }, z.strictObject({
    none: z.unknown().optional(),
    htpasswd: htpasswdSchema.optional(),
    token: tokenSchema.optional(),
    silly: sillySchema.optional(),
  })
  .superRefine((auth, ctx) => {
    const chosen = Object.keys(auth).filter((key) => key === 'none' || auth[key as keyof typeof auth] !== undefined);
    if (chosen.length > 1) ctx.addIssue({ code: 'custom', message: `must name exactly one auth provider, got ${chosen.join(', ')}` });
  }))
  .optional();

export const MINIMUM_TLS = ['tls1.0', 'tls1.1', 'tls1.2', 'tls1.3'] as const;

export const tlsSchema = z
  .strictObject({
    certificate: nonEmptyStr().optional(),
    key: nonEmptyStr().optional(),
    clientcas: strList().default([]),
    minimumtls: z.enum(MINIMUM_TLS).default('tls1.2'),
    ciphersuites: strList().default([]),
    letsencrypt: refused('http.tls.letsencrypt'),
  })
  .superRefine((tls, ctx) => {
    if ((tls.certificate === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'certificate and key must be given together' });
    }
    if (tls.certificate === undefined && tls.clientcas.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['clientcas'], message: 'client certificates need HTTPS: set certificate and key too' });
    }
  })
  .optional();

const principals = strList().optional();

export const accessSchema = z
  .strictObject({
    groups: z.record(z.string(), strList()).default({}),
    rules: z.array(z.strictObject({ repository: nonEmptyStr(), pull: principals, push: principals, delete: principals })).optional(),
    loginlimit: z
      .strictObject({ failures: int().min(0).default(10), window: duration('zero-only').prefault('1m') })
      .prefault({}),
  })
  .prefault({});

export const tokenServiceSchema = z
  .strictObject({
    htpasswd: nonEmptyStr(),
    signingkey: nonEmptyStr().optional(),
    expiration: duration('zero-only').prefault('5m'),
    refreshexpiration: duration('zero-only').prefault('720h'),
  })
  .optional();

interface AuthDocument {
  readonly auth?: z.output<typeof authSchema>;
  readonly access: z.output<typeof accessSchema>;
  readonly tokenservice?: z.output<typeof tokenServiceSchema>;
  readonly storage: { readonly driver?: unknown; readonly filesystem?: unknown };
}

/** Checks across sections; add to the document schema with `superRefine`. */
export function checkAuth(doc: AuthDocument, ctx: z.core.$RefinementCtx): void {
  const token = doc.auth?.token;
  if (doc.tokenservice !== undefined) {
    if (token === undefined) ctx.addIssue({ code: 'custom', path: ['tokenservice'], message: 'the token service issues the tokens of auth.token: configure auth.token (realm, service, issuer) too' });
    if (doc.tokenservice.signingkey === undefined && doc.storage.filesystem === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokenservice', 'signingkey'], message: 'required unless the storage driver is filesystem (the key is then kept under its root directory)' });
    }
  } else if (token !== undefined && token.rootcertbundle === undefined && token.jwks === undefined) {
    ctx.addIssue({ code: 'custom', path: ['auth', 'token'], message: 'needs rootcertbundle or jwks to verify tokens, or a tokenservice section to issue them' });
  }
  const rulesInUse = doc.access.rules !== undefined || Object.keys(doc.access.groups).length > 0;
  if (rulesInUse && doc.auth?.htpasswd === undefined && doc.tokenservice === undefined) {
    ctx.addIssue({ code: 'custom', path: ['access'], message: 'access rules apply to users of auth.htpasswd or of the built-in tokenservice: configure one of them' });
  }
}
