/**
 * The request dispatcher: common headers, request id, prefix, routing, name validation, the
 * request's AbortSignal, errors and the access log. Handlers come from handlers/, bound by name.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { RegistryError } from '../registry/errors.js';
import { validateName } from '../registry/reference.js';
import type { HttpContext } from './context.js';
import { sendError } from './errors.js';
import { namespaceParam, noticeWriter } from './notices.js';
import { matchRoute } from './router.js';
import type { HandlerName } from './routes.js';
import type { Handler, HandlerDeps } from './handlers/deps.js';
import { baseHandlers } from './handlers/base.js';
import { manifestHandlers } from './handlers/manifests.js';
import { blobHandlers } from './handlers/blobs.js';
import { uploadHandlers } from './handlers/uploads.js';
import { listingHandlers } from './handlers/listings.js';
import { UNMATCHED_ROUTE, type RequestObserver } from './observer.js';
import { tokenHandlers } from './handlers/token.js';
import { authorizeRequest } from './auth-gate.js';

export interface AppOptions {
  readonly log: Logger;
  /** `/` or `/prefix/` (`http.prefix`). */
  readonly prefix: string;
  /** `http.headers`: added to every response. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly accessLog: boolean;
  /** Told about every request (metrics); none when undefined. */
  readonly observer?: RequestObserver | undefined;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Body bytes of a request: its Content-Length when the whole body arrived; otherwise what the
 * socket read meanwhile (a lower bound: the first part of a body arrives with the headers).
 */
function bodyBytes(req: IncomingMessage, socketDelta: number): number {
  const length = Number(req.headers['content-length']);
  return req.complete && Number.isSafeInteger(length) ? length : Math.max(socketDelta, 0);
}

export function createApp(deps: HandlerDeps, options: AppOptions): RequestListener {
  const handlers: Partial<Record<HandlerName, Handler>> = {
    ...baseHandlers(deps),
    ...manifestHandlers(deps),
    ...blobHandlers(deps),
    ...uploadHandlers(deps),
    ...listingHandlers(deps),
    ...tokenHandlers(deps),
  };
  const auth = deps.auth;
  const prefix = options.prefix.replace(/\/$/, '');
  const staticHeaders = Object.entries(options.headers);
  const log = options.log;
  const observer = options.observer;

  return (req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    const controller = new AbortController();
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    let path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    const socket = req.socket;
    const bytesRead = socket.bytesRead;
    const bytesWritten = socket.bytesWritten;

    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    res.setHeader('X-Request-Id', requestId);
    for (const [name, values] of staticHeaders) res.setHeader(name, values as string[]);

    let requestLog: Logger | undefined;
    const ctx: HttpContext = {
      req, res, requestId, path, query,
      // Most requests never log through it: the child logger is made on first use.
      get log(): Logger {
        return (requestLog ??= log.child({ requestId }));
      },
      signal: controller.signal,
      namespace: namespaceParam(query),
      notice: noticeWriter(res),
      params: {},
      route: UNMATCHED_ROUTE,
    };
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
      if (!options.accessLog && observer === undefined) return;
      const status = res.writableFinished ? res.statusCode : 499;
      const bytesIn = bodyBytes(req, socket.bytesRead - bytesRead);
      const bytesOut = socket.bytesWritten - bytesWritten;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      observer?.finished(ctx.route, req.method ?? 'GET', status, durationMs / 1000, bytesIn, bytesOut);
      if (options.accessLog) {
        log.info({
          requestId,
          method: req.method,
          path,
          route: ctx.route,
          status,
          bytesIn,
          bytesOut,
          durationMs,
          remote: socket.remoteAddress,
          userAgent: req.headers['user-agent'],
        }, 'request');
      }
    });

    if (prefix !== '') {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) {
        sendError(ctx, new RegistryError('NOT_FOUND', { path: path.slice(0, 200) }));
        return;
      }
      path = path.slice(prefix.length) || '/';
      ctx.path = path;
    }

    const match = matchRoute(req.method ?? 'GET', path);
    if (match.kind === 'not-found') {
      sendError(ctx, new RegistryError('NOT_FOUND', { path: path.slice(0, 200) }));
      return;
    }
    ctx.route = match.route.name;
    observer?.routed(ctx.route, req.method ?? 'GET');
    if (match.kind === 'method-not-allowed' && req.method === 'OPTIONS') {
      // What a route takes, as distribution answers it: a browser's CORS preflight needs a 2xx, with
      // the `http.headers` added to every answer. Preflights carry no credentials, so none are asked.
      res.setHeader('Allow', match.allowed.join(', '));
      res.setHeader('Content-Length', 0);
      res.end();
      return;
    }
    if (match.kind === 'method-not-allowed') {
      res.setHeader('Allow', match.allowed.join(', '));
      sendError(ctx, new RegistryError('UNSUPPORTED', { method: req.method }, { message: `${req.method} is not allowed on ${match.route.name}` }));
      return;
    }
    const handler = handlers[match.handler];
    ctx.params = match.params;
    if (handler === undefined) {
      sendError(ctx, new RegistryError('UNSUPPORTED', { route: match.route.name }));
      return;
    }
    void (async () => {
      try {
        if (match.params.name !== undefined) validateName(match.params.name);
        if (auth !== undefined) ctx.caller = await authorizeRequest(auth, match.route, ctx);
        await handler(ctx);
      } catch (err) {
        sendError(ctx, err);
      }
    })();
  };
}
