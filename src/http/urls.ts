/**
 * Builds the URLs Wharf answers with (`Location`, `Link`): relative when `http.relativeurls` is
 * set, else absolute on `http.host` or on the host the client called (honouring X-Forwarded-*).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface UrlOptions {
  /** `/` or `/some/prefix/` */
  readonly prefix: string;
  /** Absolute base such as `https://registry.example.com`, from `http.host`. */
  readonly host?: string | undefined;
  readonly relative: boolean;
}

export class UrlBuilder {
  private readonly base: string;
  constructor(private readonly options: UrlOptions) {
    this.base = `${options.prefix.replace(/\/$/, '')}/v2`;
  }

  private origin(req: IncomingMessage): string {
    if (this.options.relative) return '';
    if (this.options.host !== undefined) return this.options.host.replace(/\/$/, '');
    const forwardedProto = firstValue(req.headers['x-forwarded-proto']);
    const forwardedHost = firstValue(req.headers['x-forwarded-host']);
    const encrypted = (req.socket as TLSSocket).encrypted === true;
    const proto = forwardedProto ?? (encrypted ? 'https' : 'http');
    const host = forwardedHost ?? req.headers.host ?? 'localhost';
    return `${proto}://${host}`;
  }

  /** A URL of the API, `path` relative to `/v2` (e.g. `/library/alpine/blobs/sha256:...`). */
  api(req: IncomingMessage, path: string): string {
    return `${this.origin(req)}${this.base}${path}`;
  }

  /** A path-only URL of the API, as distribution writes in `Link` headers. */
  relative(path: string): string {
    return `${this.base}${path}`;
  }
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const first = value.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}
