/**
 * The debug listener (`http.debug.addr`): Prometheus metrics, distribution's /debug/health and
 * /readyz. It serves nothing of the registry API and is meant for a private network.
 */
import type { RequestListener } from './app.js';

export interface ReadinessStatus {
  readonly ready: boolean;
  readonly failing: Readonly<Record<string, string>>;
}

export interface DebugOptions {
  /** The metrics path and exposition, when Prometheus metrics are enabled. */
  readonly metrics?: { readonly path: string; readonly exposition: () => Promise<{ readonly contentType: string; readonly body: string }> } | undefined;
  /** Failing health checks and their errors. */
  readonly health: () => Readonly<Record<string, string>>;
  readonly readiness: () => ReadinessStatus;
}

/** The /readyz answer, on the debug listener and on the main one. */
export function readinessBody(status: ReadinessStatus): { readonly code: number; readonly body: string } {
  return status.ready
    ? { code: 200, body: JSON.stringify({ status: 'ready' }) }
    : { code: 503, body: JSON.stringify({ status: 'not ready', failing: status.failing }) };
}

export function createDebugApp(options: DebugOptions): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (code: number, contentType: string, body: string): void => {
      res.statusCode = code;
      res.setHeader('Content-Type', contentType);
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (options.metrics !== undefined && path === options.metrics.path) {
      options.metrics.exposition().then(
        ({ contentType, body }) => send(200, contentType, body),
        (err: unknown) => send(500, 'text/plain; charset=utf-8', `metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`),
      );
      return;
    }
    if (path === '/debug/health') {
      const failing = options.health();
      send(Object.keys(failing).length === 0 ? 200 : 503, 'application/json; charset=utf-8', JSON.stringify(failing));
      return;
    }
    if (path === '/readyz') {
      const { code, body } = readinessBody(options.readiness());
      send(code, 'application/json; charset=utf-8', body);
      return;
    }
    send(404, 'text/plain; charset=utf-8', 'not found\n');
  };
}
