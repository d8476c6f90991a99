/**
 * Helpers for the pull-through cache tests: an Upstream definition, a gate in front of an
 * upstream (counts requests, can answer 429 or refuse connections, can demand a Bearer token),
 * and a cache started in-process.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anonymous, type CredentialSource } from '../../src/proxy/credentials.js';
import { defaultNamespaces, type Upstream } from '../../src/proxy/routing.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import type { WharfOptions } from '../../src/startup.js';
import type { PullThroughEvent } from '../../src/proxy/setup.js';

export function upstream(name: string, url: string, overrides: Partial<Upstream> = {}): Upstream {
  const base = new URL(url);
  return {
    name,
    url: base,
    credentials: anonymous as CredentialSource,
    prefixes: [],
    patterns: [],
    namespaces: defaultNamespaces(base),
    freshnessMs: 60_000,
    ttlMs: 0,
    writable: false,
    officialImages: false,
    ...overrides,
  };
}

export interface CacheUnderTest extends TestWharf {
  readonly events: PullThroughEvent[];
}

export async function startCache(upstreams: readonly Upstream[], overrides: Partial<WharfOptions> = {}): Promise<CacheUnderTest> {
  const events: PullThroughEvent[] = [];
  const wharf = await startTestWharf({ upstreams, proxyListener: { pulledThrough: (e) => events.push(e) }, ...overrides });
  return { ...wharf, events };
}

export type GateMode = 'pass' | '429' | '503';

/** A loopback HTTP front of an upstream that counts what it forwards and can misbehave on demand. */
export interface Gate {
  readonly url: string;
  /** `METHOD path` → how many times it was asked (query strings dropped). */
  readonly counts: Map<string, number>;
  mode: GateMode;
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401 with the challenge). */
  bearer: { token: string; challenge: string } | undefined;
  count(method: string, path: string): number;
  /** Total requests whose path matches. */
  total(pattern: RegExp): number;
  close(): Promise<void>;
}

export async function startGate(target: string): Promise<Gate> {
  const counts = new Map<string, number>();
  const targetUrl = new URL(target);
  const gate: Gate = {
    url: '',
    counts,
    mode: 'pass',
    bearer: undefined,
    count: (method, path) => counts.get(`${method} ${path}`) ?? 0,
    total: (pattern) => [...counts.entries()].filter(([key]) => pattern.test(key)).reduce((sum, [, n]) => sum + n, 0),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const key = `${req.method} ${path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (gate.mode === '429') {
      res.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    if (gate.mode === '503') {
      res.writeHead(503);
      res.end();
      return;
    }
    if (gate.bearer !== undefined && req.headers.authorization !== `Bearer ${gate.bearer.token}`) {
      res.writeHead(401, { 'WWW-Authenticate': gate.bearer.challenge, 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const forward = httpRequest({
      host: targetUrl.hostname,
      port: targetUrl.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: targetUrl.host },
    }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    forward.on('error', () => {
      res.destroy();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(gate, { url: `http://127.0.0.1:${port}` });
}

/** Reads a response body and returns its sha256 digest. */
export async function bodyDigest(res: Response): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  if (res.body === null) return `sha256:${hash.digest('hex')}`;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}
