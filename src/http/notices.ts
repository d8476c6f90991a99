/**
 * Facts the registry layer reports about an answer (OpNotice), as response headers:
 * - `stale` → `Warning: 110 - "Response is Stale"` (RFC 7234 §5.5.1): a pull-through cache served
 *   its copy because the upstream failed or asked it to slow down (429);
 * - `namespace` → `OCI-Namespace: <ns>`: the `?ns=` the request was routed by (containerd's mirror
 *   parameter), so the client knows the registry honoured it.
 * Headers set after the response started are dropped (the answer is already on its way).
 */
import type { ServerResponse } from 'node:http';
import type { OpNotice } from '../registry/registry.js';

export const STALE_WARNING = '110 - "Response is Stale"';

/** The `?ns=` parameter, when it names a registry host (`docker.io`, `ghcr.io`, `host:5000`). */
export function namespaceParam(query: URLSearchParams): string | undefined {
  const ns = query.get('ns');
  return ns !== null && /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(ns) && ns.length <= 255 ? ns.toLowerCase() : undefined;
}

export function noticeWriter(res: ServerResponse): (notice: OpNotice) => void {
  return (notice) => {
    if (res.headersSent) return;
    if (notice.kind === 'stale') res.setHeader('Warning', STALE_WARNING);
    else res.setHeader('OCI-Namespace', notice.namespace);
  };
}
