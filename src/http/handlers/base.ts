/** `GET /v2/` (API version check) and `GET /` (liveness). */
import type { HandlerDeps, Handlers } from './deps.js';
import { sendJson } from './deps.js';

export function baseHandlers(_deps: HandlerDeps): Handlers {
  return {
    base: async (ctx) => sendJson(ctx, 200, {}),
    liveness: async (ctx) => sendJson(ctx, 200, { status: 'ok' }),
  };
}
