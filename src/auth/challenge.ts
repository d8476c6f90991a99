/**
 * The `WWW-Authenticate` challenges, spelled as distribution spells them (Go's `%q` quoting):
 * `Basic realm="…"` for htpasswd, `Bearer realm="…",service="…",scope="…"[,error="…"]` for token
 * and silly auth. Scope and error are left out when empty.
 */
import { formatScope, type AccessItem } from './access.js';

/** Quotes like Go's %q for the printable ASCII a realm or service holds. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

export type BearerError = 'invalid_token' | 'insufficient_scope';

export function bearerChallenge(realm: string, service: string, items: readonly AccessItem[], error?: BearerError): string {
  let header = `Bearer realm=${quote(realm)},service=${quote(service)}`;
  const scope = formatScope(items);
  if (scope !== '') header += `,scope=${quote(scope)}`;
  if (error !== undefined) header += `,error=${quote(error)}`;
  return header;
}
