/**
 * The client of one upstream registry (undici): manifests, blobs, tags and referrers, with docker's
 * authentication. A request goes out anonymously (or with what worked before); a 401 names the
 * scheme: `Basic` is answered with the credentials, `Bearer` with the token dance — GET the
 * challenge's realm with its service and the request's scope (`repository:<name>:pull`), Basic
 * credentials on that request when there are any, then retry with `Authorization: Bearer`. Tokens
 * are kept per scope until their `expires_in` (60 s when absent, as docker assumes) runs out, and
 * once a realm is known, new scopes fetch their token before the first request.
 *
 * Failures are UpstreamErrors: `unavailable` (network, 5xx, timeouts), `toomanyrequests` (429) and
 * `denied` (401/403 after authenticating). A 404 is an answer, not an error.
 */
import type { Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { pickChallenge, type Challenge } from './challenge.js';
import type { CredentialSource } from './credentials.js';

export type UpstreamFailure = 'unavailable' | 'toomanyrequests' | 'denied';

export class UpstreamError extends Error {
  constructor(
    readonly upstream: string,
    readonly failure: UpstreamFailure,
    message: string,
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface UpstreamManifestHead {
  readonly digest: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

export interface UpstreamManifest {
  readonly bytes: Buffer;
  readonly mediaType: string | undefined;
  readonly digest: string | undefined;
}

export interface UpstreamBlob {
  readonly size: number;
  readonly body: Readable;
}

export interface UpstreamClientOptions {
  readonly name: string;
  /** The registry's base URL (`https://registry-1.docker.io`). */
  readonly url: URL;
  readonly credentials: CredentialSource;
  /** The largest manifest read (bigger ones are refused). */
  readonly manifestMaxSize?: number;
  /** undici dispatcher to use; a keep-alive Agent following redirects by default. */
  readonly dispatcher?: Dispatcher;
}

interface Token {
  readonly value: string;
  readonly expires: number;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class UpstreamClient {
  /** Made on first use: undici (about 10 MiB of RSS) is loaded only where an upstream is asked. */
  private dispatcher: Promise<Dispatcher> | undefined;
  private readonly tokens = new Map<string, Token>();
  private readonly pendingTokens = new Map<string, Promise<string | undefined>>();
  /** What the upstream asked for last: the Bearer realm to go to directly, or Basic. */
  private challenge: Challenge | undefined;

  constructor(private readonly options: UpstreamClientOptions) {
    if (options.dispatcher !== undefined) this.dispatcher = Promise.resolve(options.dispatcher);
  }

  private agent(): Promise<Dispatcher> {
    this.dispatcher ??= import('undici').then(({ Agent, interceptors }) =>
      new Agent({ keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 120_000, connections: 32 }).compose(interceptors.redirect({ maxRedirections: 5 })),
    );
    return this.dispatcher;
  }

  /** undici's request through this client's dispatcher. */
  private async request(url: URL, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
    const [{ request }, dispatcher] = await Promise.all([import('undici'), this.agent()]);
    return request(url, { ...options, dispatcher });
  }

  get name(): string {
    return this.options.name;
  }

  async close(): Promise<void> {
    await (await this.dispatcher)?.close();
  }

  async headManifest(repository: string, reference: string, signal?: AbortSignal): Promise<UpstreamManifestHead | undefined> {
    const res = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, repository, { accept: MANIFEST_ACCEPT }, signal);
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    this.check(res, `HEAD manifest ${repository}:${reference}`);
    const length = Number(header(res.headers, 'content-length'));
    return {
      digest: header(res.headers, 'docker-content-digest'),
      mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(),
      size: Number.isSafeInteger(length) ? length : undefined,
    };
  }

  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<UpstreamManifest | undefined> {
    const res = await this.send('GET', `/v2/${repository}/manifests/${reference}`, repository, { accept: MANIFEST_ACCEPT }, signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    await this.checkAndDump(res, `GET manifest ${repository}:${reference}`);
    const max = this.options.manifestMaxSize ?? 4 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.body.destroy();
        throw new UpstreamError(this.name, 'unavailable', `the upstream's manifest ${repository}:${reference} is larger than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return {
      bytes: Buffer.concat(chunks),
      mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(),
      digest: header(res.headers, 'docker-content-digest'),
    };
  }

  /** The size of a blob upstream, or undefined when the upstream does not have it. */
  async headBlob(repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, repository, {}, signal);
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    this.check(res, `HEAD blob ${repository}@${digest}`);
    const length = Number(header(res.headers, 'content-length'));
    if (!Number.isSafeInteger(length)) throw new UpstreamError(this.name, 'unavailable', `the upstream sent no Content-Length for blob ${digest}`);
    return length;
  }

  /** The blob's body as a stream (the caller must consume or destroy it), or undefined on 404. */
  async getBlob(repository: string, digest: string, signal?: AbortSignal): Promise<UpstreamBlob | undefined> {
    const res = await this.send('GET', `/v2/${repository}/blobs/${digest}`, repository, {}, signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    await this.checkAndDump(res, `GET blob ${repository}@${digest}`);
    const length = Number(header(res.headers, 'content-length'));
    if (res.statusCode !== 200 || !Number.isSafeInteger(length)) {
      res.body.destroy();
      throw new UpstreamError(this.name, 'unavailable', `the upstream answered blob ${digest} with ${res.statusCode} and no usable Content-Length`);
    }
    return { size: length, body: res.body };
  }

  /** One page of the upstream's tag list, its `Link` next page as `last`, or undefined on 404. */
  async listTags(repository: string, page: { n?: number | undefined; last?: string | undefined }, signal?: AbortSignal): Promise<{ tags: string[]; more: boolean } | undefined> {
    const query = new URLSearchParams();
    if (page.n !== undefined) query.set('n', String(page.n));
    if (page.last !== undefined && page.last !== '') query.set('last', page.last);
    const qs = query.size > 0 ? `?${query.toString()}` : '';
    const res = await this.send('GET', `/v2/${repository}/tags/list${qs}`, repository, {}, signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    await this.checkAndDump(res, `GET tags ${repository}`);
    const body = (await res.body.json()) as { tags?: unknown };
    const tags = Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : [];
    return { tags, more: header(res.headers, 'link') !== undefined };
  }

  /** The upstream's referrers index for a digest, or undefined where it has none (404). */
  async referrers(repository: string, digest: string, artifactType: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const qs = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
    const res = await this.send('GET', `/v2/${repository}/referrers/${digest}${qs}`, repository, { accept: 'application/vnd.oci.image.index.v1+json' }, signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    await this.checkAndDump(res, `GET referrers ${repository}@${digest}`);
    return res.body.json();
  }

  private check(res: Dispatcher.ResponseData, what: string): void {
    const status = res.statusCode;
    if (status >= 200 && status < 300) return;
    if (status === 429) throw new UpstreamError(this.name, 'toomanyrequests', `the upstream ${this.name} asked to slow down (429) on ${what}`, header(res.headers, 'retry-after'));
    if (status === 401 || status === 403) throw new UpstreamError(this.name, 'denied', `the upstream ${this.name} refused ${what} (${status})`);
    throw new UpstreamError(this.name, 'unavailable', `the upstream ${this.name} answered ${status} to ${what}`);
  }

  private async checkAndDump(res: Dispatcher.ResponseData, what: string): Promise<void> {
    try {
      this.check(res, what);
    } catch (err) {
      await res.body.dump().catch(() => undefined);
      throw err;
    }
  }

  /** Sends a request with what authenticated last; answers one 401 challenge and retries once. */
  private async send(method: 'GET' | 'HEAD', path: string, repository: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const scope = `repository:${repository}:pull`;
    let authorization = await this.authorization(scope, this.challenge);
    let res = await this.raw(method, path, headers, authorization, signal);
    if (res.statusCode !== 401) return res;
    const challenge = pickChallenge(res.headers['www-authenticate']);
    if (challenge === undefined) return res;
    await res.body.dump();
    this.challenge = challenge;
    if (challenge.scheme === 'bearer') this.tokens.delete(scope);
    authorization = await this.authorization(scope, challenge);
    if (authorization === undefined) {
      throw new UpstreamError(this.name, 'denied', `the upstream ${this.name} asks for ${challenge.scheme} authentication and no credentials are configured`);
    }
    res = await this.raw(method, path, headers, authorization, signal);
    return res;
  }

  private async raw(method: 'GET' | 'HEAD', path: string, headers: Record<string, string>, authorization: string | undefined, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    const url = new URL(path, this.options.url);
    try {
      return await this.request(url, {
        method,
        headers: { ...headers, 'user-agent': 'wharf-proxy', ...(authorization !== undefined && { authorization }) },
        ...(signal !== undefined && { signal }),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UpstreamError(this.name, 'unavailable', `the upstream ${this.name} cannot be reached: ${(err as Error).message}`);
    }
  }

  private async authorization(scope: string, challenge: Challenge | undefined): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.options.credentials.get();
      return credentials === undefined ? undefined : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    const cached = this.tokens.get(scope);
    if (cached !== undefined && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    let pending = this.pendingTokens.get(scope);
    if (pending === undefined) {
      pending = this.fetchToken(scope, challenge).finally(() => this.pendingTokens.delete(scope));
      this.pendingTokens.set(scope, pending);
    }
    const token = await pending;
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  /** docker's token flow: GET <realm>?service=…&scope=…, Basic credentials when configured. */
  private async fetchToken(scope: string, challenge: Challenge): Promise<string | undefined> {
    const realm = challenge.params['realm'];
    if (realm === undefined) throw new UpstreamError(this.name, 'unavailable', `the upstream ${this.name} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UpstreamError(this.name, 'unavailable', `the upstream ${this.name} sent a Bearer realm that is not a URL`);
    }
    const service = challenge.params['service'];
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const credentials = await this.options.credentials.get();
    const headers: Record<string, string> = { 'user-agent': 'wharf-proxy' };
    if (credentials !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.request(url, { method: 'GET', headers });
    } catch (err) {
      throw new UpstreamError(this.name, 'unavailable', `the token server of ${this.name} cannot be reached: ${(err as Error).message}`);
    }
    await this.checkAndDump(res, 'token request');
    const body = (await res.body.json()) as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (token === undefined) throw new UpstreamError(this.name, 'unavailable', `the token server of ${this.name} answered without a token`);
    const lifetimeS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    const issued = typeof body.issued_at === 'string' && !Number.isNaN(Date.parse(body.issued_at)) ? Math.min(Date.parse(body.issued_at), Date.now()) : Date.now();
    // Renew a little early, so a token never expires between the check and the request.
    const margin = Math.min(10_000, (lifetimeS * 1000) / 10);
    this.tokens.set(scope, { value: token, expires: issued + lifetimeS * 1000 - margin });
    if (this.tokens.size > 10_000) this.tokens.delete(this.tokens.keys().next().value as string);
    return token;
  }
}
