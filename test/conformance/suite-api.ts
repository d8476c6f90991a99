/**
 * The requests of the data-driven conformance suite (api.go of its rewrite) and what it asserts on
 * each answer. Where the suite accepts several outcomes, the assertion is what Wharf answers according
 * to /work/shared/SPEC-CHECKLIST.md (the stricter "1.1+dev" settings of the suite are on: digest headers
 * required, upload cancel and tag parameters tested).
 *
 * The HTTP client sends what Go's client sends for the suite: a body given without a length goes out
 * chunked, a bodiless POST/PUT/PATCH says `Content-Length: 0`, and a Location is resolved against the
 * URL of the request that returned it.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { MT, detectMediaType } from './suite-data.js';

export const CHUNK_MIN = 1024;

export interface Res {
  readonly url: URL;
  readonly status: number;
  readonly body: Buffer;
  /** The first value of a header ('' when absent). */
  header(name: string): string;
  /** Every value of a header, one per header line. */
  values(name: string): string[];
  json<T>(): T;
}

export interface Req {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Buffer;
  /** Sent as Content-Length; without it a body goes out with chunked transfer encoding. */
  readonly contentLength?: number;
}

const ACCEPT_MANIFESTS = [MT.index, MT.image];
const OCTET = MT.octetStream;

export function withQuery(url: URL, params: Readonly<Record<string, string | readonly string[]>>): URL {
  const next = new URL(url);
  for (const [key, value] of Object.entries(params)) {
    next.searchParams.delete(key);
    for (const v of typeof value === 'string' ? [value] : value) next.searchParams.append(key, v);
  }
  return next;
}

export class SuiteApi {
  constructor(readonly base: string) {}

  url(path: string): URL {
    return new URL(path, this.base);
  }

  do(req: Req): Promise<Res> {
    const headers: Record<string, string | string[]> = { 'User-Agent': 'wharf-conformance-suite-port' };
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v];
    if (req.contentLength !== undefined) headers['Content-Length'] = String(req.contentLength);
    else if (req.body === undefined && ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const r = httpRequest(req.url, { method: req.method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = res.rawHeaders;
          const values = (name: string): string[] => {
            const out: string[] = [];
            for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]?.toLowerCase() === name.toLowerCase()) out.push(raw[i + 1] ?? '');
            return out;
          };
          const body = Buffer.concat(chunks);
          resolve({
            url: req.url,
            status: res.statusCode ?? 0,
            body,
            header: (name) => values(name)[0] ?? '',
            values,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      });
      r.on('error', reject);
      // Written before end(), a body of unstated length goes out chunked rather than measured.
      if (req.body !== undefined && req.contentLength === undefined) r.write(req.body);
      r.end(req.contentLength === undefined ? undefined : req.body);
    });
  }

  /** The Location of a reply, resolved against the request URL; fails when there is none. */
  location(res: Res): URL {
    const loc = res.header('Location');
    assert.notEqual(loc, '', `${res.status} reply to ${res.url.pathname} carries a Location`);
    return new URL(loc, res.url);
  }

  // ------------------------------------------------------------ blobs

  /** The answer to a successful blob push: digest header, then the Location serves the bytes. */
  private async verifyCreatedBlob(res: Res, digest: string, bytes: Buffer): Promise<void> {
    assert.equal(res.status, 201, `blob push answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    assert.equal(res.header('Docker-Content-Digest'), digest);
    const read = await this.do({ method: 'GET', url: this.location(res) });
    assert.equal(read.status, 200, `GET of the returned Location answered ${read.status}`);
    assert.ok(read.body.equals(bytes), 'the returned Location serves the pushed bytes');
  }

  private async verifyBadDigest(res: Res, what: string): Promise<void> {
    expectError(res, 400, 'DIGEST_INVALID', what);
  }

  async startUpload(repo: string): Promise<Res> {
    const res = await this.do({ method: 'POST', url: this.url(`/v2/${repo}/blobs/uploads/`) });
    assert.equal(res.status, 202, `POST of an upload answered ${res.status}`);
    this.location(res);
    return res;
  }

  async blobPostPut(repo: string, digest: string, bytes: Buffer, opts: { badDigest?: boolean } = {}): Promise<void> {
    const start = await this.startUpload(repo);
    const res = await this.do({
      method: 'PUT', url: withQuery(this.location(start), { digest }), headers: { 'Content-Type': OCTET }, body: bytes, contentLength: bytes.length,
    });
    if (opts.badDigest === true) return this.verifyBadDigest(res, 'PUT of the whole blob');
    await this.verifyCreatedBlob(res, digest, bytes);
  }

  async blobPostOnly(repo: string, digest: string, bytes: Buffer, opts: { badDigest?: boolean } = {}): Promise<void> {
    const res = await this.do({
      method: 'POST', url: withQuery(this.url(`/v2/${repo}/blobs/uploads/`), { digest }), headers: { 'Content-Type': OCTET }, body: bytes, contentLength: bytes.length,
    });
    if (opts.badDigest === true) return this.verifyBadDigest(res, 'single-request POST');
    await this.verifyCreatedBlob(res, digest, bytes);
  }

  async blobPatchStream(repo: string, digest: string, bytes: Buffer, opts: { badDigest?: boolean } = {}): Promise<void> {
    const start = await this.startUpload(repo);
    const patch = await this.do({ method: 'PATCH', url: this.location(start), headers: { 'Content-Type': OCTET }, body: bytes });
    assert.equal(patch.status, 202, `streamed PATCH answered ${patch.status}`);
    const res = await this.do({ method: 'PUT', url: withQuery(this.location(patch), { digest }), headers: { 'Content-Type': OCTET }, contentLength: 0 });
    if (opts.badDigest === true) return this.verifyBadDigest(res, 'closing PUT');
    await this.verifyCreatedBlob(res, digest, bytes);
  }

  /**
   * Three chunks (or more, or one, by size) with Content-Range. `putLastChunk` sends the last one with
   * the closing PUT; `outOfOrder` first sends a chunk at the wrong offset before each one (416), and
   * recovers the offset with a GET of the session. Answers OCI-Chunk-Min-Length if the registry sent it.
   */
  async blobPatchChunked(repo: string, digest: string, bytes: Buffer, opts: { badDigest?: boolean; putLastChunk?: boolean; outOfOrder?: boolean } = {}): Promise<string> {
    const start = await this.startUpload(repo);
    const minHeader = start.header('OCI-Chunk-Min-Length');
    let chunkSize = Math.floor(bytes.length / 3) + 1;
    if (minHeader !== '') chunkSize = Math.max(chunkSize, Number(minHeader));
    chunkSize = Math.min(Math.max(chunkSize, CHUNK_MIN), bytes.length);
    let url = this.location(start);
    let lastByte = -1;
    let closing: Res | undefined;
    const last = bytes.length - 1;
    while (lastByte < last) {
      if (opts.outOfOrder === true) {
        let badStart = lastByte + 1 + chunkSize;
        if (badStart >= bytes.length) badStart = 0;
        const badEnd = Math.min(badStart + chunkSize - 1, last);
        const asPut = opts.putLastChunk === true && badEnd === last;
        const badUrl = asPut ? withQuery(url, { digest }) : url;
        const bad = await this.do({
          method: asPut ? 'PUT' : 'PATCH', url: badUrl, body: bytes.subarray(badStart, badEnd + 1), contentLength: badEnd - badStart + 1,
          headers: { 'Content-Type': OCTET, 'Content-Range': `${badStart}-${badEnd}` },
        });
        assert.equal(bad.status, 416, `${asPut ? 'PUT' : 'PATCH'} of ${badStart}-${badEnd} after ${lastByte + 1} bytes answered ${bad.status}`);
        const status = await this.do({ method: 'GET', url: badUrl });
        assert.equal(status.status, 204, `GET of the session answered ${status.status}`);
        const range = status.header('Range');
        assert.ok(range.startsWith('0-'), `Range ${range} starts with 0-`);
        assert.equal(range, `0-${Math.max(lastByte, 0)}`, 'the session kept exactly the bytes received in order');
        url = this.location(status);
      }
      const first = lastByte + 1;
      lastByte = Math.min(first + chunkSize - 1, last);
      const chunk = {
        body: bytes.subarray(first, lastByte + 1), contentLength: lastByte - first + 1,
        headers: { 'Content-Type': OCTET, 'Content-Range': `${first}-${lastByte}` },
      };
      if (opts.putLastChunk === true && lastByte === last) {
        closing = await this.do({ method: 'PUT', url: withQuery(url, { digest }), ...chunk });
      } else {
        const res = await this.do({ method: 'PATCH', url, ...chunk });
        assert.equal(res.status, 202, `PATCH of ${first}-${lastByte} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
        assert.equal(res.header('Range'), `0-${lastByte}`);
        url = this.location(res);
      }
    }
    closing ??= await this.do({ method: 'PUT', url: withQuery(url, { digest }), headers: { 'Content-Type': OCTET }, contentLength: 0 });
    if (opts.badDigest === true) {
      await this.verifyBadDigest(closing, 'closing PUT');
      return minHeader;
    }
    await this.verifyCreatedBlob(closing, digest, bytes);
    return minHeader;
  }

  /** POST then DELETE of the session: 204, and the session is gone. */
  async blobPostCancel(repo: string): Promise<void> {
    const start = await this.startUpload(repo);
    const url = this.location(start);
    const res = await this.do({ method: 'DELETE', url, contentLength: 0 });
    assert.equal(res.status, 204, `DELETE of the session answered ${res.status}`);
    expectError(await this.do({ method: 'GET', url }), 404, 'BLOB_UPLOAD_UNKNOWN', 'GET of a cancelled session');
  }

  /** A mount from `from` (or, without it, from anywhere) of a blob the registry holds: 201. */
  async blobMount(repo: string, from: string | undefined, digest: string, bytes: Buffer): Promise<void> {
    const res = await this.do({ method: 'POST', url: withQuery(this.url(`/v2/${repo}/blobs/uploads/`), { mount: digest, ...(from !== undefined && { from }) }) });
    await this.verifyCreatedBlob(res, digest, bytes);
  }

  /** A mount of a blob `from` does not hold: 202 with a session, which a PUT of the blob completes. */
  async blobMountMissing(repo: string, from: string, digest: string, bytes: Buffer): Promise<void> {
    const res = await this.do({ method: 'POST', url: withQuery(this.url(`/v2/${repo}/blobs/uploads/`), { mount: digest, from }) });
    assert.equal(res.status, 202, `mount of a blob ${from} lacks answered ${res.status}`);
    const put = await this.do({
      method: 'PUT', url: withQuery(this.location(res), { digest }), headers: { 'Content-Type': OCTET }, body: bytes, contentLength: bytes.length,
    });
    await this.verifyCreatedBlob(put, digest, bytes);
  }

  async blobHeadExists(repo: string, digest: string, bytes: Buffer | undefined): Promise<void> {
    const res = await this.do({ method: 'HEAD', url: this.url(`/v2/${repo}/blobs/${digest}`) });
    assert.equal(res.status, 200, `HEAD of blob ${digest} answered ${res.status}`);
    assert.equal(res.body.length, 0);
    if (bytes !== undefined) assert.equal(res.header('Content-Length'), String(bytes.length));
    assert.equal(res.header('Docker-Content-Digest'), digest);
  }

  async blobGetExists(repo: string, digest: string, bytes: Buffer | undefined): Promise<void> {
    const res = await this.do({ method: 'GET', url: this.url(`/v2/${repo}/blobs/${digest}`) });
    assert.equal(res.status, 200, `GET of blob ${digest} answered ${res.status}`);
    if (bytes !== undefined) {
      assert.ok(res.body.equals(bytes), `GET of blob ${digest} serves its bytes`);
      assert.equal(res.header('Content-Length'), String(bytes.length));
    }
    assert.equal(res.header('Docker-Content-Digest'), digest);
  }

  /** DELETE of a blob answers `expected` (202, or 404 for one never stored), and a HEAD then answers 404. */
  async blobDelete(repo: string, digest: string, expected: 202 | 404 = 202): Promise<void> {
    const res = await this.do({ method: 'DELETE', url: this.url(`/v2/${repo}/blobs/${digest}`) });
    if (expected === 404) expectError(res, 404, 'BLOB_UNKNOWN', `DELETE of blob ${digest}`);
    else assert.equal(res.status, 202, `DELETE of blob ${digest} answered ${res.status}`);
    const head = await this.do({ method: 'HEAD', url: this.url(`/v2/${repo}/blobs/${digest}`) });
    assert.equal(head.status, 404, `HEAD of deleted blob ${digest} answered ${head.status}`);
  }

  async blobAbsent(repo: string, digest: string): Promise<void> {
    const head = await this.do({ method: 'HEAD', url: this.url(`/v2/${repo}/blobs/${digest}`) });
    assert.equal(head.status, 404, `HEAD of blob ${digest} answered ${head.status}`);
  }

  // ------------------------------------------------------------ manifests

  /**
   * PUT of a manifest (sent chunked, as the suite sends it) with the media type it declares. On
   * success: 201, the digest, OCI-Subject for a manifest with a subject, OCI-Tag naming each `?tag=`,
   * and the Location serving the same bytes, type and length.
   */
  async manifestPut(repo: string, ref: string, digest: string, bytes: Buffer, opts: { tags?: readonly string[]; subject?: string; badDigest?: boolean } = {}): Promise<void> {
    const mediaType = detectMediaType(bytes);
    let url = this.url(`/v2/${repo}/manifests/${ref}`);
    if (opts.tags !== undefined && opts.tags.length > 0) url = withQuery(url, { tag: opts.tags });
    const res = await this.do({ method: 'PUT', url, headers: { 'Content-Type': mediaType }, body: bytes });
    if (opts.badDigest === true) return this.verifyBadDigest(res, `PUT of manifest ${ref}`);
    assert.equal(res.status, 201, `PUT of manifest ${ref} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    assert.equal(res.header('Docker-Content-Digest'), digest);
    if (opts.subject !== undefined) assert.equal(res.header('OCI-Subject'), opts.subject);
    for (const tag of opts.tags ?? []) {
      const named = res.values('OCI-Tag').flatMap((v) => v.split(',').map((s) => s.trim()));
      assert.ok(named.includes(tag), `OCI-Tag ${JSON.stringify(res.values('OCI-Tag'))} names ${tag}`);
    }
    const read = await this.do({ method: 'GET', url: this.location(res), headers: { Accept: ACCEPT_MANIFESTS } });
    assert.equal(read.status, 200, `GET of the returned Location answered ${read.status}`);
    assert.equal(read.header('Content-Type'), mediaType);
    assert.equal(read.header('Content-Length'), String(bytes.length));
    assert.ok(read.body.equals(bytes), 'the returned Location serves the pushed bytes');
  }

  async manifestHeadExists(repo: string, ref: string, digest: string, bytes: Buffer | undefined): Promise<void> {
    const res = await this.do({ method: 'HEAD', url: this.url(`/v2/${repo}/manifests/${ref}`), headers: { Accept: ACCEPT_MANIFESTS } });
    assert.equal(res.status, 200, `HEAD of manifest ${ref} answered ${res.status}`);
    assert.equal(res.body.length, 0);
    if (bytes !== undefined) {
      assert.equal(res.header('Content-Type'), detectMediaType(bytes));
      assert.equal(res.header('Content-Length'), String(bytes.length));
    }
    if (digest !== '') assert.equal(res.header('Docker-Content-Digest'), digest);
    else assert.notEqual(res.header('Docker-Content-Digest'), '');
  }

  async manifestGetExists(repo: string, ref: string, digest: string, bytes: Buffer | undefined): Promise<void> {
    const res = await this.do({ method: 'GET', url: this.url(`/v2/${repo}/manifests/${ref}`), headers: { Accept: ACCEPT_MANIFESTS } });
    assert.equal(res.status, 200, `GET of manifest ${ref} answered ${res.status}`);
    if (bytes !== undefined) {
      assert.ok(res.body.equals(bytes), `GET of manifest ${ref} serves the pushed bytes`);
      assert.equal(res.header('Content-Type'), detectMediaType(bytes));
      assert.equal(res.header('Content-Length'), String(bytes.length));
    }
    if (digest !== '') assert.equal(res.header('Docker-Content-Digest'), digest);
    else assert.notEqual(res.header('Docker-Content-Digest'), '');
  }

  async manifestGet(repo: string, ref: string): Promise<Res> {
    return this.do({ method: 'GET', url: this.url(`/v2/${repo}/manifests/${ref}`), headers: { Accept: ACCEPT_MANIFESTS } });
  }

  /** DELETE by tag or digest answers `expected` (202, or 404 MANIFEST_UNKNOWN), and a HEAD then answers 404. */
  async manifestDelete(repo: string, ref: string, expected: 202 | 404 = 202): Promise<void> {
    const res = await this.do({ method: 'DELETE', url: this.url(`/v2/${repo}/manifests/${ref}`) });
    if (expected === 404) expectError(res, 404, 'MANIFEST_UNKNOWN', `DELETE of manifest ${ref}`);
    else assert.equal(res.status, 202, `DELETE of manifest ${ref} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    const head = await this.do({ method: 'HEAD', url: this.url(`/v2/${repo}/manifests/${ref}`), headers: { Accept: ACCEPT_MANIFESTS } });
    assert.equal(head.status, 404, `HEAD of deleted manifest ${ref} answered ${head.status}`);
  }

  // ------------------------------------------------------------ listings

  /** The referrers of `subject`: 200, an OCI index; answers it and the OCI-Filters-Applied names. */
  async referrers(repo: string, subject: string, artifactType?: string): Promise<{ manifests: ReferrerEntry[]; filters: string[] }> {
    let url = this.url(`/v2/${repo}/referrers/${subject}`);
    if (artifactType !== undefined) url = withQuery(url, { artifactType });
    const res = await this.do({ method: 'GET', url });
    assert.equal(res.status, 200, `GET of the referrers of ${subject} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    assert.ok(res.values('Content-Type').includes(MT.index), `Content-Type ${res.header('Content-Type')}`);
    const index = res.json<{ schemaVersion?: number; mediaType?: string; manifests?: ReferrerEntry[] }>();
    assert.equal(index.mediaType, MT.index);
    assert.equal(index.schemaVersion, 2);
    assert.ok(Array.isArray(index.manifests));
    const filters = res.values('OCI-Filters-Applied').flatMap((v) => v.split(',').map((s) => s.trim())).filter((s) => s !== '');
    return { manifests: index.manifests, filters };
  }

  /** GET of the tag list: 200 with the tags, or 404 for a repository that has none. */
  async tagList(repo: string, last?: string): Promise<{ status: number; tags: string[] }> {
    let url = this.url(`/v2/${repo}/tags/list`);
    if (last !== undefined) url = withQuery(url, { last });
    const res = await this.do({ method: 'GET', url });
    assert.ok([200, 404].includes(res.status), `GET of the tag list answered ${res.status}`);
    if (res.status === 404) return { status: 404, tags: [] };
    const body = res.json<{ name?: string; tags?: string[] | null }>();
    assert.equal(body.name, repo);
    return { status: 200, tags: body.tags ?? [] };
  }
}

export interface ReferrerEntry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** `status` with an OCI error body whose first code is `code` (no body is looked at for a HEAD). */
export function expectError(res: Res, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what} answered ${res.status}, expected ${status}: ${res.body.toString().slice(0, 300)}`);
  const body = res.json<{ errors?: { code?: string }[] }>();
  assert.equal(body.errors?.[0]?.code, code, `${what}: ${res.body.toString().slice(0, 300)}`);
}
