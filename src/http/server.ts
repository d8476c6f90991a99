/**
 * The HTTP server: Node's own, with the timeouts that cut off slow clients (a client trickling
 * headers, an idle connection, optionally a whole request) and a graceful close.
 */
import { createServer, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { RequestListener } from './app.js';
import { tlsServerOptions, type TlsSettings } from './tls.js';

export interface ServerTimeouts {
  /** Time to receive a request's headers. */
  readonly headerMs: number;
  /** Time a connection may stay silent (keep-alive, or mid-body). */
  readonly idleMs: number;
  /** Time for a whole request; 0 for none (uploads of large blobs take long). */
  readonly requestMs: number;
}

export interface ListenAddress {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** A unix socket path instead of host and port. */
  readonly path?: string | undefined;
}

export interface RunningServer {
  readonly server: Server;
  /** The port listened on (useful with port 0), or undefined on a unix socket. */
  readonly port: number | undefined;
  /** Stops accepting, lets in-flight requests finish up to `drainMs`, then closes what is left. */
  close(drainMs?: number): Promise<void>;
}

/**
 * The most a request's header block may hold; past it the answer is 431. Node's default is 16 KiB,
 * which refuses a large bearer token (a JWT carrying many scopes or group claims) that distribution,
 * taking up to Go's 1 MiB, serves. 64 KiB is above Envoy's default limit (60 KiB), so anything such
 * a proxy passes on gets through.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Serves HTTPS when `tls` is given (`http.tls`), plain HTTP otherwise. */
export async function startServer(listener: RequestListener, address: ListenAddress, timeouts: ServerTimeouts, tls?: TlsSettings): Promise<RunningServer> {
  const options: ServerOptions = {
    headersTimeout: timeouts.headerMs,
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: Math.min(timeouts.idleMs, 65_000),
    connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(timeouts.headerMs / 4))),
  };
  // An https.Server is an http.Server underneath (same events, same close methods).
  const server: Server = tls === undefined ? createServer(options, listener) : (createHttpsServer({ ...options, ...tlsServerOptions(tls) }, listener) as unknown as Server);
  server.timeout = timeouts.idleMs;
  server.on('timeout', (socket: Socket) => {
    // Silence while a whole request is being worked on (a large blob's server-side move on an
    // object store, say) is the server's, not the client's: the response's first byte re-arms the
    // idle timer. A stalled body, or an idle keep-alive connection, is cut off.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableEnded && inFlight.req.complete) return;
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const reply = (): void => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy();
    };
    // Bytes that fail to parse may follow a complete request whose response is still being made
    // (a body longer than its Content-Length): answer that request first, as a server reading one
    // request at a time would, then the garbage. `_httpMessage` is the response Node ties to the socket.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableEnded && err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // The request timeout struck while a request (its body, say) was still arriving: its response
      // waits for that body, so waiting for the response would keep the connection for ever.
      socket.destroy();
      return;
    }
    // Only when that request arrived whole: an error inside its body (cut off, say) is about it,
    // and its response would wait for a body that never comes.
    if (inFlight && !inFlight.writableEnded && inFlight.req.complete) {
      inFlight.once('finish', reply);
      inFlight.once('close', () => socket.destroy());
      return;
    }
    reply();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (address.path !== undefined) server.listen(address.path, done);
    else server.listen(address.port ?? 5000, address.host, done);
  });
  const bound = server.address();
  return {
    server,
    port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
    close: (drainMs = 30_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), drainMs).unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
