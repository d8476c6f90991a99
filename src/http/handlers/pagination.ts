/** The `n`/`last` query parameters of listings and the `Link` header to the next page. */
import { RegistryError } from '../../registry/errors.js';
import type { HttpContext } from '../context.js';

/** `n` as a non-negative integer no larger than `max` (when set); undefined when absent. */
export function parseN(ctx: HttpContext, max: number | undefined): number | undefined {
  const raw = ctx.query.get('n');
  if (raw === null || raw === '') return undefined;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isNaN(n)) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: raw.slice(0, 50) }, { message: '`n` must be a non-negative integer' });
  }
  if (max !== undefined && n > max) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', { n }, { message: `\`n\` may be at most ${max}` });
  }
  return n;
}

export function parseLast(ctx: HttpContext): string | undefined {
  const last = ctx.query.get('last');
  return last === null || last === '' ? undefined : last;
}

/**
 * `Link: <path?query>; rel="next"`, the query keys sorted as distribution writes them (Go's
 * `url.Values.Encode`): `?last=…&n=…`.
 */
export function nextLink(path: string, params: Readonly<Record<string, string | number | undefined>>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  query.sort();
  return `<${path}?${query.toString()}>; rel="next"`;
}
