/**
 * `/auth/token`, the built-in token service's realm (when `tokenservice` is configured):
 * - `GET ?service=&scope=…[&offline_token=true]`, with Basic credentials or none (anonymous): the
 *   Docker token protocol that docker, podman, skopeo and containerd speak;
 * - `POST` (form) with `grant_type=password` (`username`, `password`) or `grant_type=refresh_token`
 *   (`refresh_token`), plus `scope`, `service`, `access_type=offline`: the OAuth2 flow docker uses
 *   with a stored identity token.
 * Neither the query nor the form is logged (the access log records the path only).
 */
import { parseScopes } from '../../auth/access.js';
import { basicCredentials } from '../../auth/authorizer.js';
import type { TokenRequest } from '../../auth/token-service.js';
import { RegistryError } from '../../registry/errors.js';
import { readSmallBody } from '../body.js';
import type { HttpContext } from '../context.js';
import { sendJson, type HandlerDeps, type Handlers } from './deps.js';

const MAX_FORM_BYTES = 64 * 1024;

async function formRequest(ctx: HttpContext): Promise<TokenRequest> {
  const type = ctx.req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new RegistryError('UNSUPPORTED', undefined, { status: 400, message: 'expected an application/x-www-form-urlencoded body' });
  }
  const form = new URLSearchParams((await readSmallBody(ctx, MAX_FORM_BYTES)).toString('utf8'));
  const grant = form.get('grant_type');
  const base = {
    remoteAddress: ctx.req.socket.remoteAddress,
    scopes: parseScopes(form.getAll('scope')),
    offline: form.get('access_type') === 'offline',
  };
  if (grant === 'password') {
    return { ...base, credentials: { user: form.get('username') ?? '', password: form.get('password') ?? '' } };
  }
  if (grant === 'refresh_token') return { ...base, refreshToken: form.get('refresh_token') ?? '' };
  throw new RegistryError('UNSUPPORTED', { grant_type: grant }, { status: 400, message: 'grant_type must be password or refresh_token' });
}

export function tokenHandlers({ tokenService }: HandlerDeps): Handlers {
  if (tokenService === undefined) {
    return {
      token: async (ctx) => {
        throw new RegistryError('NOT_FOUND', { path: ctx.path }, { message: 'no token service is configured here (tokenservice)' });
      },
    };
  }
  return {
    token: async (ctx) => {
      const request: TokenRequest = ctx.req.method === 'POST'
        ? await formRequest(ctx)
        : {
            credentials: basicCredentials(ctx.req.headers.authorization),
            remoteAddress: ctx.req.socket.remoteAddress,
            scopes: parseScopes(ctx.query.getAll('scope')),
            offline: ctx.query.get('offline_token') === 'true',
          };
      const response = await tokenService.issue(request);
      sendJson(ctx, 200, response, { 'Cache-Control': 'no-store' });
    },
  };
}
