/** `GET /v2/` (API version check), `GET /` (liveness) and `GET /readyz` (readiness). */
import type { HandlerDeps, Handlers } from './deps.js';
import { sendJson } from './deps.js';

export function baseHandlers(deps: HandlerDeps): Handlers {
  return {
    readiness: async (ctx) => {
      const status = deps.readiness?.() ?? { ready: true, failing: {} };
      ctx.res.setHeader('Cache-Control', 'no-store');
      sendJson(ctx, status.ready ? 200 : 503, status.ready ? { status: 'ready' } : { status: 'not ready', failing: status.failing });
    },
    base: async (ctx) => sendJson(ctx, 200, {}),
    liveness: async (ctx) => sendJson(ctx, 200, { status: 'ok' }),
  };
}
