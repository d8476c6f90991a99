/** The origin of a registry operation made over HTTP, for notification events: request, actor, URLs. */
import type { OpContext } from '../registry/registry.js';
import type { EventOrigin, OriginOf } from '../notifications/envelope.js';
import type { HttpContext } from './context.js';
import type { UrlBuilder } from './urls.js';

function isHttpContext(ctx: OpContext): ctx is HttpContext {
  return 'req' in ctx && 'requestId' in ctx;
}

function first(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const head = value?.split(',')[0]?.trim();
  return head === '' ? undefined : head;
}

/** The client's address as distribution reports it: X-Forwarded-For, X-Real-Ip, else the peer. */
function remoteAddr(ctx: HttpContext): string {
  const headers = ctx.req.headers;
  const forwarded = first(headers['x-forwarded-for']) ?? first(headers['x-real-ip']);
  if (forwarded !== undefined) return forwarded;
  const socket = ctx.req.socket;
  return socket.remoteAddress === undefined ? '' : `${socket.remoteAddress}:${socket.remotePort ?? ''}`;
}

export function httpOrigin(urls: UrlBuilder): OriginOf {
  return (ctx: OpContext): EventOrigin | undefined => {
    if (!isHttpContext(ctx)) return undefined;
    const { req } = ctx;
    return {
      request: {
        id: ctx.requestId,
        addr: remoteAddr(ctx),
        host: req.headers.host ?? '',
        method: req.method ?? '',
        useragent: req.headers['user-agent'] ?? '',
      },
      actor: ctx.caller?.identity.name === undefined ? {} : { name: ctx.caller.identity.name },
      url: (path) => urls.api(req, path),
    };
  };
}
