/**
 * `auth.silly`, for development, as distribution has it: any request carrying an Authorization
 * header (any value) may do anything; one without gets a Bearer challenge with realm and service.
 */
import { challengedAccess, type AccessRequirement } from './access.js';
import { bearerChallenge } from './challenge.js';
import { unauthorized, type AuthRequest, type Authorizer, type Caller } from './authorizer.js';

const SILLY: Caller = { identity: { name: 'silly', via: 'silly' }, may: () => true };

export class SillyAuthorizer implements Authorizer {
  constructor(private readonly realm: string, private readonly service: string) {}

  async authorize(request: AuthRequest, required: AccessRequirement): Promise<Caller> {
    if (request.authorization === undefined || request.authorization === '') {
      const asked = challengedAccess(required);
      throw unauthorized(bearerChallenge(this.realm, this.service, asked), asked);
    }
    return SILLY;
  }
}
