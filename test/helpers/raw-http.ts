/** One HTTP request whose path goes out exactly as written (no URL normalisation), answer read whole. */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Sends `method path` to the server at `base`; `path` may also be an absolute URL on it (a Location). */
export function rawRequest(base: string, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: Buffer | string): Promise<RawResponse> {
  const server = new URL(base);
  const target = /^https?:\/\//.test(path) ? `${new URL(path).pathname}${new URL(path).search}` : path;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: server.hostname, port: server.port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The first error code of a registry's error body; undefined when the body is no such JSON. */
export function firstErrorCode(res: RawResponse): string | undefined {
  try {
    return (JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
