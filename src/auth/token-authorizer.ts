/**
 * `auth.token`: a bearer token, verified, must grant what the request needs. Without one, or with
 * one that fails verification, the answer is 401 with the Bearer challenge (`error="invalid_token"`
 * for a bad token); a good token that lacks a right gets `error="insufficient_scope"`, so the client
 * asks the token service again. With the built-in token service the access rules also decide which
 * repositories the catalog lists; with an outside token service the catalog lists them all, as
 * distribution does, once the token grants `registry:catalog:*`.
 */
import { challengedAccess, covers, repositoryAccess, type AccessRequirement, type Identity } from './access.js';
import type { AccessRules } from './access-rules.js';
import { bearerChallenge } from './challenge.js';
import { authorizationParts, unauthorized, type AuthRequest, type Authorizer, type Caller } from './authorizer.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

export class TokenAuthorizer implements Authorizer {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly realm: string,
    private readonly service: string,
    /** The built-in token service's rules, when it issues the tokens. */
    private readonly rules: AccessRules | undefined,
    /** `autoredirect`: the realm is this path on the host the client asked for. */
    private readonly autoRedirectPath?: string | undefined,
  ) {}

  async authorize(request: AuthRequest, required: AccessRequirement): Promise<Caller> {
    const realm = this.autoRedirectPath !== undefined && request.host !== undefined
      ? `${request.secure === true ? 'https' : 'http'}://${request.host}${this.autoRedirectPath}`
      : this.realm;
    const asked = challengedAccess(required);
    const parts = authorizationParts(request.authorization);
    if (parts?.scheme !== 'bearer' || parts.value === '') throw unauthorized(bearerChallenge(realm, this.service, asked), asked);
    let token: VerifiedToken;
    try {
      token = await this.verifier.verify(parts.value);
    } catch {
      throw unauthorized(bearerChallenge(realm, this.service, asked, 'invalid_token'), asked, 'invalid token');
    }
    if (!covers(token.access, required.items)) {
      throw unauthorized(bearerChallenge(realm, this.service, asked, 'insufficient_scope'), asked, 'insufficient scope');
    }
    const identity: Identity = { name: token.subject, via: 'token' };
    const rules = this.rules;
    return {
      identity,
      may: (name, action) => covers(token.access, [repositoryAccess(name, [action])]),
      ...(rules !== undefined && { listable: (name: string) => rules.may(identity, name, 'pull') }),
    };
  }
}
