/** The small typed context every handler receives: the request, its parameters and its lifetime. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import type { OpContext } from '../registry/registry.js';
import type { Caller } from '../auth/authorizer.js';

export interface RouteParams {
  readonly name?: string;
  readonly reference?: string;
  readonly digest?: string;
  readonly uuid?: string;
}

export interface HttpContext extends OpContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly log: Logger;
  /** Aborted when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  readonly query: URLSearchParams;
  // Set by the dispatcher as it routes the request:
  /** The path below the configured prefix, undecoded (`/v2/...`). */
  path: string;
  params: RouteParams;
  /** The route's name in the route table, for logs and metrics. */
  route: string;
  /** Who is asking, once auth has let the request through (undefined with auth off). */
  caller?: Caller | undefined;
}

/** The repository name of a repository route; the router has validated it. */
export function repositoryName(ctx: HttpContext): string {
  const name = ctx.params.name;
  if (name === undefined) throw new Error(`route ${ctx.route} has no repository name`);
  return name;
}

/** A Content-Length header as a number, or undefined when absent. */
export function contentLength(ctx: HttpContext): number | undefined {
  const raw = ctx.req.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Whether the request announces a body (Content-Length above zero, or a chunked transfer). */
export function hasBody(ctx: HttpContext): boolean {
  const length = contentLength(ctx);
  return (length !== undefined && length > 0) || ctx.req.headers['transfer-encoding'] !== undefined;
}
