/**
 * `auth.htpasswd`: Basic credentials checked against the htpasswd file, then the access rules.
 * Without credentials the caller is anonymous, or the user named by a verified TLS client
 * certificate. Failed logins count against the client's address.
 */
import { ANONYMOUS, type AccessItem, type AccessRequirement, type Identity, type RepositoryAction } from './access.js';
import type { AccessRules } from './access-rules.js';
import { basicChallenge } from './challenge.js';
import { basicCredentials, denied, unauthorized, type AuthRequest, type Authorizer, type Caller } from './authorizer.js';
import type { HtpasswdFile } from './htpasswd.js';
import type { LoginLimiter } from './login-limiter.js';

export class BasicAuthorizer implements Authorizer {
  private readonly challenge: string;

  constructor(
    private readonly htpasswd: HtpasswdFile,
    realm: string,
    private readonly rules: AccessRules,
    private readonly limiter: LoginLimiter,
  ) {
    this.challenge = basicChallenge(realm);
  }

  async authorize(request: AuthRequest, required: AccessRequirement): Promise<Caller> {
    const identity = await this.identify(request, required.items);
    const refused = required.items.filter((item) => !this.permits(identity, item));
    if (identity.name === undefined && (refused.length > 0 || required.items.length === 0)) {
      throw unauthorized(this.challenge, required.items);
    }
    if (refused.length > 0) throw denied(refused);
    const may = (name: string, action: RepositoryAction): boolean => this.rules.may(identity, name, action);
    return { identity, may, listable: (name) => may(name, 'pull') };
  }

  private async identify(request: AuthRequest, items: readonly AccessItem[]): Promise<Identity> {
    const credentials = basicCredentials(request.authorization);
    if (credentials === undefined) {
      return request.certificateName === undefined ? ANONYMOUS : { name: request.certificateName, via: 'certificate' };
    }
    this.limiter.check(request.remoteAddress);
    if (!(await this.htpasswd.verify(credentials.user, credentials.password))) {
      this.limiter.fail(request.remoteAddress);
      throw unauthorized(this.challenge, items, 'invalid username or password');
    }
    return { name: credentials.user, via: 'htpasswd' };
  }

  private permits(identity: Identity, item: AccessItem): boolean {
    if (item.type === 'registry') return identity.name !== undefined;
    const allowed = this.rules.allowed(identity, item.name);
    return item.actions.every((action) => allowed.has(action as RepositoryAction));
  }
}
