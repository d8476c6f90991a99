/**
 * Asks the Authorizer whether a routed request may run, before its handler. What the request needs
 * comes from the route table (`Route.access`): `pull` on the repository for reads, `pull,push` for
 * a push, `delete`, the catalog, or only an identity for `/v2/`. A blob mount (`POST …/uploads/?
 * mount=&from=`) needs `pull` on `from` as well; a caller without it is not refused but gets a
 * plain upload session (202), as if it had not asked to mount, so a mount never reveals a blob of a
 * repository the caller cannot read. A challenge to a mount names that `pull` too, as distribution's
 * does, so a client that asks for the scopes it is challenged with gets a token that can mount.
 */
import type { TLSSocket } from 'node:tls';
import { CATALOG_ACCESS, LOGIN_ONLY, repositoryAccess, type AccessRequirement } from '../auth/access.js';
import type { Authorizer, Caller } from '../auth/authorizer.js';
import { isValidName } from '../registry/reference.js';
import type { HttpContext } from './context.js';
import type { Method, Route } from './routes.js';

function requirement(route: Route, method: string, ctx: HttpContext): AccessRequirement | undefined {
  const access = route.access[method as Method] ?? 'login';
  switch (access) {
    case 'public':
      return undefined;
    case 'login':
      return LOGIN_ONLY;
    case 'catalog':
      return { items: [CATALOG_ACCESS] };
    case 'push':
      return { items: [repositoryAccess(ctx.params.name ?? '', ['pull', 'push'])] };
    default:
      return { items: [repositoryAccess(ctx.params.name ?? '', [access])] };
  }
}

/** The common name of a verified TLS client certificate. */
function certificateName(ctx: HttpContext): string | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** Resolves with the caller when the request may proceed (undefined for a public route); rejects with a 401/403/429 RegistryError. */
export async function authorizeRequest(auth: Authorizer, route: Route, ctx: HttpContext): Promise<Caller | undefined> {
  const needed = requirement(route, ctx.req.method ?? 'GET', ctx);
  if (needed === undefined) return undefined;
  const from = ctx.query.get('from');
  const mounting = ctx.route === 'uploads' && ctx.query.has('mount') && from !== null;
  const required = mounting && isValidName(from) ? { ...needed, wanted: [repositoryAccess(from, ['pull'])] } : needed;
  const caller = await auth.authorize({
    authorization: ctx.req.headers.authorization,
    remoteAddress: ctx.req.socket.remoteAddress,
    certificateName: certificateName(ctx),
    host: ctx.req.headers.host,
    secure: (ctx.req.socket as Partial<TLSSocket>).encrypted === true,
  }, required);
  if (mounting && !caller.may(from, 'pull')) {
    ctx.query.delete('mount');
    ctx.query.delete('from');
  }
  return caller;
}
