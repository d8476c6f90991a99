/**
 * What the HTTP layer asks before it runs a handler: may this request do what its route needs?
 * One Authorizer is composed at start-up (htpasswd, token or silly); with `auth` off there is none
 * and the dispatcher asks nothing.
 *
 * 401 vs 403, as Wharf decides it (distribution has no access rules to tell them apart):
 * - no credentials, bad credentials, a bad or expired token: 401 with the challenge;
 * - a token that lacks a right: 401 `error="insufficient_scope"`, so the client fetches a new token;
 * - an anonymous caller lacking a right under htpasswd: 401 (logging in may help);
 * - a known user lacking a right under htpasswd: 403 DENIED (logging in again will not help).
 */
import { RegistryError } from '../registry/errors.js';
import type { AccessItem, AccessRequirement, Identity, RepositoryAction } from './access.js';

export interface AuthRequest {
  /** The Authorization header, as sent. */
  readonly authorization: string | undefined;
  /** The client's address, for the failed-login limiter. */
  readonly remoteAddress: string | undefined;
  /** The common name of a verified TLS client certificate, when one was presented. */
  readonly certificateName: string | undefined;
  /** The Host header and whether the request came over TLS (for `auth.token.autoredirect`). */
  readonly host?: string | undefined;
  readonly secure?: boolean | undefined;
}

export interface Caller {
  readonly identity: Identity;
  /** Whether the caller may do `action` on repository `name` (filters the catalog, gates blob mounts). */
  may(name: string, action: RepositoryAction): boolean;
  /** Which repositories the catalog shows this caller; all when undefined. */
  readonly listable?: ((name: string) => boolean) | undefined;
}

export interface Authorizer {
  /** Resolves with the caller when the request may proceed; rejects with a RegistryError (401, 403, 429) carrying its challenge. */
  authorize(request: AuthRequest, required: AccessRequirement): Promise<Caller>;
}

/** distribution's error detail for auth failures: the access records asked for. */
export function accessDetail(items: readonly AccessItem[]): unknown {
  return items.flatMap((item) => item.actions.map((action) => ({ Type: item.type, Class: '', Name: item.name, Action: action })));
}

export function unauthorized(challenge: string, items: readonly AccessItem[], message?: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', accessDetail(items), { headers: { 'WWW-Authenticate': challenge }, ...(message !== undefined && { message }) });
}

export function denied(items: readonly AccessItem[]): RegistryError {
  return new RegistryError('DENIED', accessDetail(items));
}

/** Splits an Authorization header into its scheme (lower-cased) and the rest. */
export function authorizationParts(header: string | undefined): { scheme: string; value: string } | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  if (space <= 0) return { scheme: trimmed.toLowerCase(), value: '' };
  return { scheme: trimmed.slice(0, space).toLowerCase(), value: trimmed.slice(space + 1).trim() };
}

/** Basic credentials from an Authorization header; undefined when absent, malformed or empty (`:`, which clients send for anonymous). */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const parts = authorizationParts(header);
  if (parts?.scheme !== 'basic') return undefined;
  const decoded = Buffer.from(parts.value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (user === '' && password === '') return undefined;
  return { user, password };
}
