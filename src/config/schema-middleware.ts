/**
 * `middleware`: distribution's storage middleware `redirect` is implemented; every other
 * middleware is refused by its row in the support table.
 */
import { refused } from './support.js';

export interface MiddlewareConfig {
  /** `middleware.storage: [{name: redirect, options: {baseurl}}]`: the base URL, if configured. */
  readonly redirectBaseURL?: string;
}

/** The `baseurl` of the one redirect storage middleware, or a message saying what is wrong. */
export function redirectBaseURL(value: unknown): { baseurl?: string; problem?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const storage = (value as { storage?: unknown }).storage;
  if (!Array.isArray(storage)) return {};
  const entry = storage.find((m: unknown) => typeof m === 'object' && m !== null && (m as { name?: unknown }).name === 'redirect') as
    | { options?: { baseurl?: unknown } }
    | undefined;
  if (!entry) return {};
  const baseurl = entry.options?.baseurl;
  if (typeof baseurl !== 'string' || baseurl === '') return { problem: 'middleware.storage redirect needs options.baseurl (a URL)' };
  try {
    const url = new URL(baseurl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `middleware.storage redirect: baseurl ${JSON.stringify(baseurl)} is not an http(s) URL` };
  } catch {
    return { problem: `middleware.storage redirect: baseurl ${JSON.stringify(baseurl)} is not a URL` };
  }
  return { baseurl };
}

export const middlewareSchema = refused('middleware')
  .superRefine((value, ctx) => {
    const { problem } = redirectBaseURL(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value): MiddlewareConfig => {
    const { baseurl } = redirectBaseURL(value);
    return baseurl === undefined ? {} : { redirectBaseURL: baseurl };
  });
