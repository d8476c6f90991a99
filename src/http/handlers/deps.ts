/** What handlers are given: the registry, the URL builder, and the limits from the configuration. */
import type { Registry } from '../../registry/registry.js';
import type { HttpContext } from '../context.js';
import type { HandlerName } from '../routes.js';
import type { UrlBuilder } from '../urls.js';
import type { ReadinessStatus } from '../debug.js';
import type { Authorizer } from '../../auth/authorizer.js';
import type { TokenService } from '../../auth/token-service.js';

export interface HandlerLimits {
  /** Largest manifest body accepted (413 above). */
  readonly manifestMaxSize: number;
  /** `catalog.maxentries`: the largest `n` of a catalog request, and its default page is 100 or less. */
  readonly catalogMaxEntries: number;
  /** `tags.maxtags`: the largest `n` of a tags request; 0 for no limit. */
  readonly tagsMaxTags: number;
  /** Answer blob GETs with a redirect where the storage offers one (`storage.redirect.disable` off). */
  readonly redirect: boolean;
  /** `OCI-Chunk-Min-Length` for upload responses: the storage's preferred smallest chunk, if it has one. */
  readonly chunkMinLength?: number | undefined;
}

export interface HandlerDeps {
  readonly registry: Registry;
  readonly urls: UrlBuilder;
  readonly limits: HandlerLimits;
  /** For /readyz: ready unless draining or a health check fails; always ready when undefined. */
  readonly readiness?: (() => ReadinessStatus) | undefined;
  /** Who may do what; no checks at all when undefined (auth off). */
  readonly auth?: Authorizer | undefined;
  /** The built-in token service, served at /auth/token when configured. */
  readonly tokenService?: TokenService | undefined;
}

export type Handler = (ctx: HttpContext) => Promise<void>;
export type Handlers = Readonly<Partial<Record<HandlerName, Handler>>>;

/** Ends a response with no body. */
export function sendEmpty(ctx: HttpContext, status: number, headers: Readonly<Record<string, string | number>> = {}): void {
  ctx.res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
  // RFC 9110 forbids Content-Length on a 204, and Envoy-based proxies (Istio, Contour) answer 502
  // to one that has it; distribution sends none there either.
  if (status !== 204) ctx.res.setHeader('Content-Length', 0);
  ctx.res.end();
}

/** Ends a response with a JSON body (no body for HEAD, same headers). */
export function sendJson(ctx: HttpContext, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}, contentType = 'application/json'): void {
  const body = Buffer.from(JSON.stringify(value));
  ctx.res.statusCode = status;
  for (const [name, header] of Object.entries(headers)) ctx.res.setHeader(name, header);
  ctx.res.setHeader('Content-Type', contentType);
  ctx.res.setHeader('Content-Length', body.length);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
}
