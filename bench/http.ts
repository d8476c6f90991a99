/**
 * The harness's HTTP client: small requests and streamed blob uploads (monolithic and chunked) on
 * `node:http` with one keep-alive Agent per target, and a digest-checked download on a socket of
 * its own (see `download`).
 *
 * Blob content is synthetic: one random 1 MiB buffer, made once, repeated with a 16-byte header
 * (run nonce, blob id, MiB index) at the front of every MiB so every blob and every MiB differs.
 * Digests are computed by streaming the same pieces through SHA-256; nothing large is held.
 */
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const MiB = 1024 * 1024;
const HEADER = 16;
const base = randomBytes(MiB);
const body = base.subarray(HEADER);
const nonce = randomBytes(8);

export interface BlobSpec {
  readonly id: number;
  /** A whole number of MiB. */
  readonly size: number;
  readonly digest: string;
}

function header(id: number, index: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER);
  nonce.copy(h, 0);
  h.writeUInt32BE(id >>> 0, 8);
  h.writeUInt32BE(index >>> 0, 12);
  return h;
}

/** The pieces of MiB `from` (inclusive) to `to` (exclusive) of blob `id`. */
function* pieces(id: number, from: number, to: number): Generator<Buffer> {
  for (let i = from; i < to; i++) {
    yield header(id, i);
    yield body;
  }
}

/** Describes blob `id` of `mib` MiB, hashing it once (≈ 0.6 ms per MiB with SHA-NI). */
export function makeBlob(id: number, mib: number): BlobSpec {
  const hash = createHash('sha256');
  for (const piece of pieces(id, 0, mib)) hash.update(piece);
  return { id, size: mib * MiB, digest: `sha256:${hash.digest('hex')}` };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export class Client {
  readonly agent: http.Agent;
  readonly host: string;
  readonly port: number;

  constructor(readonly url: string, maxSockets = 64) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  close(): void {
    this.agent.destroy();
  }

  /** A path (`/v2/...`) from a Location header that may be absolute or relative. */
  path(location: string): string {
    const u = new URL(location, this.url);
    return u.pathname + u.search;
  }

  private open(method: string, path: string, headers: http.OutgoingHttpHeaders): http.ClientRequest {
    return http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent });
  }

  private static collect(req: http.ClientRequest): Promise<Reply> {
    return new Promise((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
    });
  }

  /** One request with an optional in-memory body; the whole reply is read. */
  request(method: string, path: string, headers: http.OutgoingHttpHeaders = {}, payload?: Buffer): Promise<Reply> {
    const req = this.open(method, path, { ...headers, 'content-length': payload?.length ?? 0 });
    const reply = Client.collect(req);
    req.end(payload);
    return reply;
  }

  /** Like `request`, but throws unless the status is the expected one. */
  async expect(status: number, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, payload?: Buffer): Promise<Reply> {
    const reply = await this.request(method, path, headers, payload);
    if (reply.status !== status) {
      throw new Error(`${method} ${path}: expected ${status}, got ${reply.status}: ${reply.body.toString().slice(0, 300)}`);
    }
    return reply;
  }

  /** Sends MiB `from`..`to` of a blob as the body of one request. */
  private async stream(method: string, path: string, headers: http.OutgoingHttpHeaders, blob: BlobSpec, from: number, to: number): Promise<Reply> {
    const req = this.open(method, path, { ...headers, 'content-type': 'application/octet-stream', 'content-length': (to - from) * MiB });
    const reply = Client.collect(req);
    let answered: Reply | undefined;
    reply.then((r) => (answered = r), () => {});
    try {
      await Promise.all([pipeline(Readable.from(pieces(blob.id, from, to)), req), reply]);
    } catch (err) {
      // A server that answers before taking the whole body closes the connection under it: say what it answered.
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (answered === undefined) throw err;
      throw new Error(`${method} ${path}: answered ${answered.status} before the body was sent: ${answered.body.toString().slice(0, 300)}`);
    }
    return reply;
  }

  async startUpload(repo: string): Promise<string> {
    const reply = await this.expect(202, 'POST', `/v2/${repo}/blobs/uploads/`);
    return this.location(reply);
  }

  private location(reply: Reply): string {
    const location = reply.headers.location;
    if (location === undefined) throw new Error('no Location header');
    return this.path(location);
  }

  private static withDigest(path: string, digest: string): string {
    return `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
  }

  /** POST, then one PUT carrying the whole blob. */
  async uploadMonolithic(repo: string, blob: BlobSpec): Promise<void> {
    const location = await this.startUpload(repo);
    const reply = await this.stream('PUT', Client.withDigest(location, blob.digest), {}, blob, 0, blob.size / MiB);
    if (reply.status !== 201) throw new Error(`PUT blob: ${reply.status}: ${reply.body.toString().slice(0, 300)}`);
  }

  /** POST, one PATCH per chunk (with Content-Range), then an empty closing PUT. */
  async uploadChunked(repo: string, blob: BlobSpec, chunkMiB: number): Promise<void> {
    let location = await this.startUpload(repo);
    const total = blob.size / MiB;
    for (let from = 0; from < total; from += chunkMiB) {
      const to = Math.min(total, from + chunkMiB);
      const range = `${from * MiB}-${to * MiB - 1}`;
      const reply = await this.stream('PATCH', location, { 'content-range': range }, blob, from, to);
      if (reply.status !== 202) throw new Error(`PATCH ${range}: ${reply.status}: ${reply.body.toString().slice(0, 300)}`);
      location = this.location(reply);
    }
    await this.expect(201, 'PUT', Client.withDigest(location, blob.digest));
  }

  /** Small blob in one POST+PUT. */
  async pushSmall(repo: string, content: Buffer, digest: string): Promise<void> {
    const location = await this.startUpload(repo);
    await this.expect(201, 'PUT', Client.withDigest(location, digest), { 'content-type': 'application/octet-stream' }, content);
  }

  /**
   * GETs a blob, hashing as it streams; throws on a digest or size mismatch. Returns the bytes read.
   * Follows up to 3 redirects.
   */
  async download(repo: string, blob: BlobSpec, path = `/v2/${repo}/blobs/${blob.digest}`): Promise<number> {
    let url = new URL(path, this.url);
    for (let hops = 0; ; hops++) {
      const answer = await getHashed(url);
      if (answer.status >= 300 && answer.status < 400 && answer.location !== undefined && hops < 3) {
        url = new URL(answer.location, url);
        continue;
      }
      if (answer.status !== 200) throw new Error(`GET blob: ${answer.status}`);
      if (answer.digest !== blob.digest || answer.bytes !== blob.size) {
        throw new Error(`download: got ${answer.digest} (${answer.bytes} bytes), want ${blob.digest}`);
      }
      return answer.bytes;
    }
  }

  /** Follows `Link: <...>; rel="next"` from `first`, returning every page's JSON array under `key`. */
  async listAll(first: string, key: 'tags' | 'repositories'): Promise<string[]> {
    const all: string[] = [];
    let path: string | undefined = first;
    while (path !== undefined) {
      const reply = await this.expect(200, 'GET', path);
      const page = JSON.parse(reply.body.toString()) as Record<string, unknown>;
      const items = page[key];
      if (Array.isArray(items)) for (const item of items) all.push(String(item));
      const link = reply.headers.link;
      const match = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      path = match?.[1] === undefined ? undefined : this.path(match[1]);
    }
    return all;
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function forEachConcurrent(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * The download's socket reads land here. node:http's client takes a fresh buffer from malloc for
 * every socket read, and on this machine, which hands freed memory back to its host, that cost
 * the load generator 0.57-3.15 s of CPU for the same 512 MiB from the same server, so the client
 * set the download's pace; reading into one buffer it costs 0.38-0.43 s (docs/benchmarks.md,
 * "Seventh pass").
 */
const READ_BUFFER = Buffer.allocUnsafe(MiB);
const HEAD_LIMIT = 64 * 1024;

interface HashedAnswer {
  readonly status: number;
  readonly location?: string;
  /** `sha256:<hex>` of the body, and its length. */
  readonly digest: string;
  readonly bytes: number;
}

/**
 * One GET of `url` over a connection of its own, its body hashed as it arrives. The answer must
 * say its length (Content-Length), as blob answers do; a 3xx answer's body is not read.
 */
function getHashed(url: URL): Promise<HashedAnswer> {
  if (url.protocol !== 'http:') return Promise.reject(new Error(`download: ${url.protocol} is not supported`));
  return new Promise((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    let answer: { status: number; location?: string; length: number } | undefined;
    let bytes = 0;
    let settled = false;
    const hash = createHash('sha256');
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) return reject(error);
      const { status, location, length } = answer!;
      if (status === 200 && bytes !== length) return reject(new Error(`download: the body ended after ${bytes} of ${length} bytes`));
      resolve({ status, ...(location === undefined ? {} : { location }), digest: `sha256:${hash.digest('hex')}`, bytes });
    };
    const take = (n: number, buffer: Buffer): boolean => {
      let body = buffer.subarray(0, n);
      if (answer === undefined) {
        head = Buffer.concat([head, body]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > HEAD_LIMIT) finish(new Error('download: no end to the answer\'s head'));
          return true;
        }
        const [statusLine = '', ...lines] = head.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
        const length = Number(headers.get('content-length') ?? NaN);
        if (!Number.isInteger(status)) {
          finish(new Error(`download: not an HTTP answer: ${statusLine}`));
          return false;
        }
        const location = headers.get('location');
        answer = { status, ...(location === undefined ? {} : { location }), length };
        if (status !== 200) {
          finish(); // a redirect's or an error's body is not needed
          return false;
        }
        if (!Number.isSafeInteger(length) || headers.has('transfer-encoding')) {
          finish(new Error('download: the answer does not say its length (Content-Length)'));
          return false;
        }
        body = head.subarray(end + 4);
      }
      bytes += body.length;
      hash.update(body);
      if (bytes >= answer.length) finish();
      return true;
    };
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 80), onread: { buffer: READ_BUFFER, callback: take } });
    socket.once('connect', () => socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`));
    socket.once('error', (err) => finish(err));
    socket.once('end', () => (answer === undefined ? finish(new Error('download: the connection closed before an answer')) : finish()));
  });
}
