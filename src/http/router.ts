/** Matches a request against the route table. */
import { ROUTES, type HandlerName, type Method, type Route } from './routes.js';
import type { RouteParams } from './context.js';

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly handler: HandlerName; readonly params: RouteParams }
  | { readonly kind: 'method-not-allowed'; readonly route: Route; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

const METHODS = new Set<string>(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE']);

export function matchRoute(method: string, path: string, routes: readonly Route[] = ROUTES): RouteMatch {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const handler = METHODS.has(method) ? route.methods[method as Method] : undefined;
    if (handler === undefined) return { kind: 'method-not-allowed', route, allowed: Object.keys(route.methods) };
    return { kind: 'found', route, handler, params: { ...match.groups } };
  }
  return { kind: 'not-found' };
}
