/**
 * The built-in token service (the Wharf-only `tokenservice` section): the token realm that
 * `docker login`, podman, skopeo and containerd talk to, so that nothing else has to run. It checks
 * Basic credentials (or a refresh token) against the htpasswd file, grants of each asked scope what
 * the access rules allow (anonymous callers included), and signs a JWT that `auth.token` accepts.
 * Refresh tokens (what docker stores as an identity token) are JWTs too, for an audience no
 * registry accepts, so any instance sharing the signing key can redeem them: no shared state.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { RegistryError } from '../registry/errors.js';
import { ANONYMOUS, CATALOG_ACCESS, type AccessItem, type Identity, type RepositoryAction } from './access.js';
import type { AccessRules } from './access-rules.js';
import { basicChallenge } from './challenge.js';
import { accessDetail } from './authorizer.js';
import type { HtpasswdFile } from './htpasswd.js';
import type { LoginLimiter } from './login-limiter.js';
import type { SigningKey } from './signing-key.js';

export interface TokenServiceOptions {
  readonly issuer: string;
  readonly service: string;
  readonly key: SigningKey;
  readonly htpasswd: HtpasswdFile;
  readonly rules: AccessRules;
  readonly limiter: LoginLimiter;
  /** Lifetime of access tokens. */
  readonly expirationMs: number;
  /** Lifetime of refresh tokens; 0 issues none. */
  readonly refreshExpirationMs: number;
}

export interface TokenRequest {
  readonly credentials?: { readonly user: string; readonly password: string } | undefined;
  readonly refreshToken?: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly scopes: readonly AccessItem[];
  /** Also issue a refresh token (`offline_token=true`, `access_type=offline`). */
  readonly offline: boolean;
}

export interface TokenResponse {
  readonly token: string;
  readonly access_token: string;
  readonly expires_in: number;
  readonly issued_at: string;
  readonly refresh_token?: string;
  readonly scope?: string;
}

const REPOSITORY_ACTIONS: readonly string[] = ['pull', 'push', 'delete'];

export class TokenService {
  private readonly refreshAudience: string;

  constructor(private readonly options: TokenServiceOptions, private readonly now: () => number = Date.now) {
    this.refreshAudience = `${options.service} (refresh)`;
  }

  async issue(request: TokenRequest): Promise<TokenResponse> {
    const identity = await this.identify(request);
    const granted = this.grant(identity, request.scopes);
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresIn = Math.max(1, Math.floor(this.options.expirationMs / 1000));
    const token = await this.sign({ access: granted }, identity.name ?? '', this.options.service, issuedAt, expiresIn);
    const refresh = request.offline && identity.name !== undefined && this.options.refreshExpirationMs > 0
      ? await this.sign({}, identity.name, this.refreshAudience, issuedAt, Math.floor(this.options.refreshExpirationMs / 1000))
      : undefined;
    return {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date(issuedAt * 1000).toISOString(),
      ...(refresh !== undefined && { refresh_token: refresh }),
    };
  }

  /** Of each asked scope, the actions the caller may have; scopes granting nothing are left out. */
  grant(identity: Identity, scopes: readonly AccessItem[]): AccessItem[] {
    const out: AccessItem[] = [];
    for (const scope of scopes) {
      if (scope.type === 'registry' && scope.name === 'catalog') {
        if (identity.name !== undefined) out.push(CATALOG_ACCESS);
        continue;
      }
      if (scope.type !== 'repository') continue;
      const allowed = this.options.rules.allowed(identity, scope.name);
      const actions = [...new Set(scope.actions.flatMap((a) => (a === '*' ? REPOSITORY_ACTIONS : [a])))]
        .filter((a) => allowed.has(a as RepositoryAction));
      if (actions.length > 0) out.push({ type: 'repository', name: scope.name, actions });
    }
    return out;
  }

  private async identify(request: TokenRequest): Promise<Identity> {
    if (request.refreshToken !== undefined) {
      this.options.limiter.check(request.remoteAddress);
      const user = await this.redeem(request.refreshToken);
      if (user === undefined) {
        this.options.limiter.fail(request.remoteAddress);
        throw this.refusal(request.scopes, 'invalid or expired refresh token');
      }
      return { name: user, via: 'token' };
    }
    if (request.credentials === undefined) return ANONYMOUS;
    this.options.limiter.check(request.remoteAddress);
    if (!(await this.options.htpasswd.verify(request.credentials.user, request.credentials.password))) {
      this.options.limiter.fail(request.remoteAddress);
      throw this.refusal(request.scopes, 'invalid username or password');
    }
    return { name: request.credentials.user, via: 'htpasswd' };
  }

  /** The user a refresh token was issued to, when it is genuine, unexpired and the user still exists. */
  private async redeem(refreshToken: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(refreshToken, this.options.key.publicKey, {
        issuer: this.options.issuer,
        audience: this.refreshAudience,
        algorithms: [this.options.key.alg],
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.now()),
      });
      await this.options.htpasswd.refresh(true);
      return payload.sub !== undefined && this.options.htpasswd.has(payload.sub) ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  private refusal(scopes: readonly AccessItem[], message: string): RegistryError {
    return new RegistryError('UNAUTHORIZED', accessDetail(scopes), { message, headers: { 'WWW-Authenticate': basicChallenge(this.options.service) } });
  }

  private sign(claims: Record<string, unknown>, subject: string, audience: string, issuedAt: number, lifetime: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.options.key.alg, kid: this.options.key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + lifetime)
      .setJti(randomUUID())
      .sign(this.options.key.privateKey);
  }
}
