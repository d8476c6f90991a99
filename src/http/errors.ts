/**
 * The only place that writes the error envelope `{"errors":[{code,message,detail}]}`. A
 * RegistryError is answered with its code's status; anything else is logged with the request id
 * and answered UNKNOWN without internals.
 */
import { ERROR_TABLE, RegistryError } from '../registry/errors.js';
import type { HttpContext } from './context.js';

/** Errors that only say the client went away: nothing to answer, nothing to alarm anyone about. */
function isClientGone(err: unknown, ctx: HttpContext): boolean {
  if (ctx.signal.aborted) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ABORT_ERR';
}

export function sendError(ctx: HttpContext, err: unknown): void {
  const { res } = ctx;
  if (isClientGone(err, ctx) && !(err instanceof RegistryError)) {
    ctx.log.debug({ err: String(err) }, 'client went away');
    if (!res.headersSent) res.statusCode = 499;
    res.destroy();
    return;
  }
  let registryError: RegistryError;
  if (err instanceof RegistryError) {
    registryError = err;
    if (err.status >= 500) ctx.log.error({ err, cause: err.cause }, 'request failed');
  } else {
    ctx.log.error({ err }, 'unexpected failure');
    registryError = new RegistryError('UNKNOWN', undefined, { message: `${ERROR_TABLE.UNKNOWN.message} (request id ${ctx.requestId})` });
  }
  if (res.headersSent) {
    // Part of a body went out: the client must see a broken response, not a truncated success.
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({
    errors: [{ code: registryError.code, message: registryError.message, detail: registryError.detail ?? {} }],
  }));
  for (const name of res.getHeaderNames()) {
    if (SUCCESS_HEADERS.has(name) || name.startsWith('oci-')) res.removeHeader(name);
  }
  res.statusCode = registryError.status;
  for (const [name, value] of Object.entries(registryError.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', body.length);
  // A body the handler never read would be parsed as the next request: close instead.
  if (!ctx.req.complete) res.setHeader('Connection', 'close');
  res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

/** Headers a handler may have set for a success it did not reach; the common ones stay. */
const SUCCESS_HEADERS = new Set([
  'location', 'docker-content-digest', 'docker-upload-uuid', 'etag', 'range', 'content-range', 'accept-ranges',
  'cache-control', 'content-type', 'content-length', 'link',
]);
