/**
 * Verifies registry bearer tokens as distribution does: a JWS signed by a trusted key (x5c chain or
 * kid), one of the allowed algorithms (never `none`), the configured issuer, the service among the
 * audiences, `exp` required, `exp`/`nbf` with 60 s of leeway. The `access` claim lists what it grants.
 * Verified tokens are cached by their text until they expire (verification costs a signature check).
 */
import type { KeyObject } from 'node:crypto';
import { jwtVerify, type JWTHeaderParameters } from 'jose';
import type { AccessItem } from './access.js';
import { verifyChain, type TrustedKeys } from './token-keys.js';

export const LEEWAY_SECONDS = 60;
/** distribution's default signing algorithms (v3's list without the HMAC ones, which need a shared secret). */
export const DEFAULT_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const MAX_CACHED = 10_000;

export interface VerifiedToken {
  readonly subject: string | undefined;
  readonly access: readonly AccessItem[];
  /** When it expires, in ms since the epoch (leeway included). */
  readonly expiresAt: number;
}

export interface TokenVerifierOptions {
  readonly issuer: string;
  readonly service: string;
  readonly keys: TrustedKeys;
  readonly algorithms?: readonly string[] | undefined;
}

function accessClaim(value: unknown): AccessItem[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error('the access claim is not a list');
  return value.map((entry: unknown) => {
    const item = entry as { type?: unknown; name?: unknown; actions?: unknown };
    if (typeof item.type !== 'string' || typeof item.name !== 'string' || !Array.isArray(item.actions) || !item.actions.every((a) => typeof a === 'string')) {
      throw new Error('malformed access claim entry');
    }
    return { type: item.type, name: item.name, actions: item.actions as string[] };
  });
}

export class TokenVerifier {
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(private readonly options: TokenVerifierOptions, private readonly now: () => number = Date.now) {}

  /** The verified token; throws when it is not acceptable (the message says why, without the token). */
  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > this.now()) return cached;
      this.cache.delete(token);
    }
    const { payload } = await jwtVerify(token, (header) => this.keyFor(header), {
      issuer: this.options.issuer,
      audience: this.options.service,
      clockTolerance: LEEWAY_SECONDS,
      algorithms: [...(this.options.algorithms ?? DEFAULT_ALGORITHMS)],
      requiredClaims: ['exp'],
      currentDate: new Date(this.now()),
    });
    const verified: VerifiedToken = {
      subject: typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined,
      access: accessClaim(payload['access']),
      expiresAt: (payload.exp! + LEEWAY_SECONDS) * 1000,
    };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(token, verified);
    return verified;
  }

  private keyFor(header: JWTHeaderParameters): KeyObject {
    if (Array.isArray(header.x5c) && header.x5c.length > 0) return verifyChain(header.x5c, this.options.keys.roots, new Date(this.now()));
    if (typeof header.kid === 'string') {
      const key = this.options.keys.byKid.get(header.kid);
      if (key !== undefined) return key;
    }
    throw new Error('the token is not signed by a trusted key');
  }
}
