/**
 * Drop-in parity with distribution's registry (Debian's docker-registry, 2.8.2), request by request.
 * The same requests, in the same order, go to Wharf and to distribution, each on fresh storage
 * given the same image (and, in the second suite, both under `auth.token`, where the Bearer
 * challenges must match too); their answers must agree in status, first error code and the headers
 * clients read: Content-Type (charset aside), Docker-Content-Digest, the path of Location, Range,
 * Content-Range, Docker-Upload-UUID, Link, Allow, and Content-Length (none on a 204; JSON bodies
 * aside, which Go ends with a newline). A 405 agrees in status and Allow: its body is plain text
 * from distribution's router and an UNSUPPORTED error from Wharf. Where Wharf answers otherwise on
 * purpose (OCI 1.1 features 2.8 lacks, stricter checks of bad input), docs/configuration.md says so
 * and no case here covers it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCA } from '../helpers/certs.js';
import { sha256 } from '../helpers/client.js';
import { distributionConfig, freePort, startDistribution, type RunningDistribution } from '../helpers/distribution.js';
import { requireProgram } from '../helpers/process.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const layer = Buffer.from('a layer both registries hold');
const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } });
const absent = sha256(Buffer.from('in neither registry'));
const ociImage = json({
  schemaVersion: 2, mediaType: OCI,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
});
const dockerImage = json({
  schemaVersion: 2, mediaType: DOCKER,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length },
  layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha256(layer), size: layer.length }],
});
const octets = (body: Buffer): OutgoingHttpHeaders => ({ 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
const withDigest = (location: string, digest: string): string => `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;

type Case = readonly [name: string, send: (base: string) => Promise<RawResponse>];

/** A new upload session's Location (absolute, as both give it). */
async function startUpload(base: string, name = 'a/b'): Promise<string> {
  const started = await rawRequest(base, 'POST', `/v2/${name}/blobs/uploads/`);
  assert.equal(started.status, 202);
  return started.headers.location ?? '';
}

async function pushBlob(base: string, name: string, content: Buffer): Promise<void> {
  const put = await rawRequest(base, 'PUT', withDigest(await startUpload(base, name), sha256(content)), octets(content), content);
  assert.equal(put.status, 201);
}

const plain = (name: string, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: Buffer): Case =>
  [name, (base) => rawRequest(base, method, path, body === undefined ? headers : { 'Content-Length': body.length, ...headers }, body)];
const inSession = (name: string, send: (base: string, location: string) => Promise<RawResponse>): Case =>
  [name, async (base) => send(base, await startUpload(base))];
const putManifest = (name: string, reference: string, contentType: string, body: Buffer, repository = 'a/b'): Case =>
  plain(name, 'PUT', `/v2/${repository}/manifests/${reference}`, { 'Content-Type': contentType }, body);

const CASES: readonly Case[] = [
  putManifest('PUT an OCI image by tag', 't1', OCI, ociImage),
  putManifest('PUT a Docker image by tag', 't2', DOCKER, dockerImage),
  plain('GET /v2/', 'GET', '/v2/'),
  plain('HEAD /v2/', 'HEAD', '/v2/'),
  plain('GET a blob', 'GET', `/v2/a/b/blobs/${sha256(layer)}`),
  plain('HEAD a blob', 'HEAD', `/v2/a/b/blobs/${sha256(layer)}`),
  plain('GET a blob, Range bytes=0-3', 'GET', `/v2/a/b/blobs/${sha256(layer)}`, { Range: 'bytes=0-3' }),
  plain('GET a blob, Range bytes=5-', 'GET', `/v2/a/b/blobs/${sha256(layer)}`, { Range: 'bytes=5-' }),
  plain('GET a blob, Range bytes=-5', 'GET', `/v2/a/b/blobs/${sha256(layer)}`, { Range: 'bytes=-5' }),
  plain('GET a blob through a repository that does not link it', 'GET', `/v2/c/d/blobs/${sha256(layer)}`),
  plain('GET an unknown blob', 'GET', `/v2/a/b/blobs/${absent}`),
  plain('HEAD an unknown blob', 'HEAD', `/v2/a/b/blobs/${absent}`),
  plain('DELETE an unknown blob', 'DELETE', `/v2/a/b/blobs/${absent}`),
  plain('GET a blob by a digest too short', 'GET', '/v2/a/b/blobs/sha256:abc'),
  plain('GET a blob by an unsupported algorithm', 'GET', '/v2/a/b/blobs/md5:d41d8cd98f00b204e9800998ecf8427e'),
  plain('GET an unknown sha512 blob', 'GET', `/v2/a/b/blobs/sha512:${'a'.repeat(128)}`),
  plain('POST an upload', 'POST', '/v2/a/b/blobs/uploads/'),
  plain('POST a mount', 'POST', `/v2/c/d/blobs/uploads/?mount=${sha256(layer)}&from=a/b`),
  plain('POST a mount of an unknown blob', 'POST', `/v2/c/d/blobs/uploads/?mount=${absent}&from=a/b`),
  plain('POST a mount from a name that is no repository name', 'POST', `/v2/c/d/blobs/uploads/?mount=${sha256(layer)}&from=A!!`),
  inSession('GET a new upload\'s status', (base, location) => rawRequest(base, 'GET', location)),
  inSession('PATCH a chunk with Content-Range', (base, location) => rawRequest(base, 'PATCH', location, { ...octets(Buffer.alloc(10)), 'Content-Range': '0-9' }, Buffer.alloc(10, 1))),
  inSession('PATCH a chunk without Content-Range', (base, location) => rawRequest(base, 'PATCH', location, octets(Buffer.alloc(10)), Buffer.alloc(10, 1))),
  inSession('PATCH a streamed chunk (Transfer-Encoding: chunked)', (base, location) => rawRequest(base, 'PATCH', location, { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }, Buffer.alloc(10, 1))),
  inSession('PATCH an empty chunk', (base, location) => rawRequest(base, 'PATCH', location, octets(Buffer.alloc(0)), Buffer.alloc(0))),
  inSession('GET the status after a chunk', async (base, location) => {
    const patched = await rawRequest(base, 'PATCH', location, octets(Buffer.alloc(10)), Buffer.alloc(10, 1));
    return rawRequest(base, 'GET', patched.headers.location ?? '');
  }),
  inSession('PUT without a digest', (base, location) => rawRequest(base, 'PUT', location, { 'Content-Length': 0 })),
  inSession('PUT with a digest the bytes do not have', (base, location) => rawRequest(base, 'PUT', withDigest(location, absent), octets(Buffer.from('abc')), Buffer.from('abc'))),
  inSession('PUT with a malformed digest', (base, location) => rawRequest(base, 'PUT', withDigest(location, 'sha256:12'), octets(Buffer.from('abc')), Buffer.from('abc'))),
  inSession('PUT with the last chunk and its Content-Range', (base, location) => rawRequest(base, 'PUT', withDigest(location, sha256(Buffer.from('abcd'))), { ...octets(Buffer.from('abcd')), 'Content-Range': '0-3' }, Buffer.from('abcd'))),
  inSession('PATCH an upload already completed', async (base, location) => {
    await rawRequest(base, 'PUT', withDigest(location, sha256(Buffer.from('xyz'))), octets(Buffer.from('xyz')), Buffer.from('xyz'));
    return rawRequest(base, 'PATCH', location, octets(Buffer.from('xyz')), Buffer.from('xyz'));
  }),
  inSession('DELETE an upload', (base, location) => rawRequest(base, 'DELETE', location)),
  inSession('GET a deleted upload', async (base, location) => {
    await rawRequest(base, 'DELETE', location);
    return rawRequest(base, 'GET', location);
  }),
  plain('GET a manifest by tag', 'GET', '/v2/a/b/manifests/t1', { Accept: OCI }),
  plain('HEAD a manifest by tag', 'HEAD', '/v2/a/b/manifests/t1', { Accept: OCI }),
  plain('GET a manifest by digest', 'GET', `/v2/a/b/manifests/${sha256(ociImage)}`, { Accept: OCI }),
  plain('GET a Docker manifest by tag', 'GET', '/v2/a/b/manifests/t2', { Accept: DOCKER }),
  plain('GET a manifest by digest through another repository', 'GET', `/v2/c/d/manifests/${sha256(ociImage)}`, { Accept: OCI }),
  plain('GET an unknown tag', 'GET', '/v2/a/b/manifests/nope'),
  plain('GET a manifest of an unknown repository', 'GET', '/v2/zz/yy/manifests/nope'),
  plain('GET an unknown manifest digest', 'GET', `/v2/a/b/manifests/${absent}`),
  putManifest('PUT a manifest that is not JSON', 'x', OCI, Buffer.from('{not json')),
  putManifest('PUT an empty manifest', 'x', OCI, Buffer.alloc(0)),
  putManifest('PUT a manifest naming an unknown config', 'x', OCI, json({ schemaVersion: 2, mediaType: OCI, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: absent, size: 5 }, layers: [] })),
  putManifest('PUT a manifest by a digest it does not have', absent, OCI, ociImage),
  putManifest('PUT a manifest by its digest', sha256(ociImage), OCI, ociImage),
  putManifest('PUT a manifest as text/plain', 'x', 'text/plain', ociImage),
  putManifest('PUT a manifest whose mediaType is not its Content-Type', 'x', DOCKER, ociImage),
  putManifest('PUT a manifest whose blobs the repository lacks', 'x', OCI, ociImage, 'g/h'),
  putManifest('PUT an index naming an unknown manifest', 'x', OCI_INDEX, json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI, digest: absent, size: 10 }] })),
  putManifest('PUT an index', 'idx', OCI_INDEX, json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI, digest: sha256(ociImage), size: ociImage.length }] })),
  putManifest('PUT a manifest list naming an unknown manifest', 'x', DOCKER_LIST, json({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER, digest: absent, size: 10, platform: { architecture: 'amd64', os: 'linux' } }] })),
  putManifest('PUT a schema 1 manifest', 'x', 'application/vnd.docker.distribution.manifest.v1+prettyjws', json({ schemaVersion: 1, name: 'a/b', tag: 'x', architecture: 'amd64', fsLayers: [{ blobSum: sha256(layer) }], history: [{ v1Compatibility: '{}' }] })),
  putManifest('PUT a manifest of an unknown media type', 'x', 'application/vnd.example.thing+json', json({ schemaVersion: 2, mediaType: 'application/vnd.example.thing+json' })),
  plain('GET the tags of an unknown repository', 'GET', '/v2/zz/yy/tags/list'),
  plain('HEAD a tag list', 'HEAD', '/v2/a/b/tags/list'),
  plain('GET the catalog', 'GET', '/v2/_catalog'),
  plain('GET the catalog, n=1', 'GET', '/v2/_catalog?n=1'),
  plain('GET the catalog, n=0', 'GET', '/v2/_catalog?n=0'),
  plain('GET the catalog after the last repository', 'GET', '/v2/_catalog?last=c/d'),
  plain('OPTIONS on a manifest (a CORS preflight)', 'OPTIONS', '/v2/a/b/manifests/t1', { Origin: 'http://ui.example.com', 'Access-Control-Request-Method': 'GET' }),
  plain('POST to a manifest', 'POST', '/v2/a/b/manifests/t1'),
  plain('PUT to a blob', 'PUT', `/v2/a/b/blobs/${sha256(layer)}`),
  plain('DELETE a manifest by digest', 'DELETE', `/v2/a/b/manifests/${sha256(dockerImage)}`),
  plain('GET the deleted manifest', 'GET', `/v2/a/b/manifests/${sha256(dockerImage)}`, { Accept: DOCKER }),
  plain('GET the tag the delete took away', 'GET', '/v2/a/b/manifests/t2', { Accept: DOCKER }),
  plain('DELETE an unknown manifest digest', 'DELETE', `/v2/a/b/manifests/${absent}`),
  plain('DELETE a blob link', 'DELETE', `/v2/c/d/blobs/${sha256(layer)}`),
  plain('GET the deleted blob link', 'GET', `/v2/c/d/blobs/${sha256(layer)}`),
  plain('DELETE the deleted blob link', 'DELETE', `/v2/c/d/blobs/${sha256(layer)}`),
];

/** What of an answer must agree. */
function comparable(answer: RawResponse, base: string): Record<string, unknown> {
  const h = answer.headers;
  let code: unknown;
  try {
    code = (JSON.parse(answer.body.toString('utf8')) as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  const type = h['content-type']?.replace(/;\s*charset=utf-8$/i, '');
  const location = h.location?.replace(base, '').replace(/\?.*$/, '').replace(/\/uploads\/[^/]+$/, '/uploads/<id>');
  const allow = h.allow?.split(',').map((m) => m.trim()).sort().join(', ');
  if (answer.status === 405) return { status: 405, allow };
  return {
    status: answer.status,
    code,
    type,
    digest: h['docker-content-digest'],
    location,
    range: h.range,
    contentRange: h['content-range'],
    uploadId: h['docker-upload-uuid'] !== undefined,
    link: h.link,
    allow,
    length: type === 'application/json' ? undefined : h['content-length'],
  };
}

/**
 * Sends `cases` to Wharf and to distribution (each started by `start` in a temp dir, after
 * `prepare`), one test per case comparing what `record` keeps of the two answers.
 */
function sideBySide(
  title: string,
  cases: readonly Case[],
  start: (work: string) => Promise<{ wharf: TestWharf; distribution: RunningDistribution }>,
  record: (answer: RawResponse, base: string) => Record<string, unknown>,
  prepare: (base: string) => Promise<void> = async () => {},
): void {
  describe(title, () => {
    const answers = { wharf: [] as Record<string, unknown>[], distribution: [] as Record<string, unknown>[] };
    let work: string;
    let servers: { wharf: TestWharf; distribution: RunningDistribution } | undefined;

    async function ask(base: string): Promise<Record<string, unknown>[]> {
      await prepare(base);
      const out: Record<string, unknown>[] = [];
      for (const [, send] of cases) out.push(record(await send(base), base));
      return out;
    }

    before(async () => {
      requireProgram('docker-registry');
      work = await mkdtemp(join(tmpdir(), 'wharf-parity-'));
      servers = await start(work);
      answers.wharf = await ask(servers.wharf.url);
      answers.distribution = await ask(servers.distribution.url);
    });
    after(async () => {
      await servers?.wharf.stop(0);
      await servers?.distribution.stop();
      await rm(work, { recursive: true, force: true });
    });

    cases.forEach(([name], i) => {
      it(name, () => assert.deepEqual(answers.wharf[i], answers.distribution[i]));
    });
  });
}

/** distribution on a config.yml of `distributionConfig` plus `extra` lines, waiting for `GET /v2/` to answer `ready`. */
async function distributionWith(work: string, extra: readonly string[] = [], ready = 200): Promise<RunningDistribution> {
  const host = `127.0.0.1:${await freePort()}`;
  await writeFile(join(work, 'config.yml'), distributionConfig(join(work, 'root'), host) + extra.join('\n'));
  return startDistribution(join(work, 'config.yml'), host, ready);
}

sideBySide(
  'Wharf answers as distribution 2.8.2 does',
  CASES,
  async (work) => ({ distribution: await distributionWith(work), wharf: await startTestWharf() }),
  comparable,
  async (base) => {
    await pushBlob(base, 'a/b', layer);
    await pushBlob(base, 'a/b', config);
  },
);

/** A challenge with its scopes, and each scope's actions, sorted: distribution lists both in Go's map order, which varies. */
function challengeOf(answer: RawResponse): string | undefined {
  const sortActions = (item: string): string => item.replace(/:([^:]*)$/, (_, actions: string) => `:${actions.split(',').sort().join(',')}`);
  return answer.headers['www-authenticate']?.replace(/scope="([^"]*)"/, (_, scope: string) => `scope="${scope.split(' ').map(sortActions).sort().join(' ')}"`);
}

/** Requests made without a token (or with one that is no JWT) to registries under `auth.token`. */
const CHALLENGED: readonly Case[] = [
  plain('GET /v2/', 'GET', '/v2/'),
  plain('GET the catalog', 'GET', '/v2/_catalog'),
  plain('GET a tag list', 'GET', '/v2/a/b/tags/list'),
  plain('HEAD a manifest', 'HEAD', '/v2/a/b/manifests/t1'),
  plain('PUT a manifest', 'PUT', '/v2/a/b/manifests/t1', { 'Content-Type': OCI }, ociImage),
  plain('DELETE a manifest', 'DELETE', `/v2/a/b/manifests/${absent}`),
  plain('GET a blob', 'GET', `/v2/a/b/blobs/${absent}`),
  plain('DELETE a blob', 'DELETE', `/v2/a/b/blobs/${absent}`),
  plain('POST an upload', 'POST', '/v2/a/b/blobs/uploads/'),
  plain('POST a mount', 'POST', `/v2/a/b/blobs/uploads/?mount=${absent}&from=c/d`),
  plain('PATCH an upload', 'PATCH', '/v2/a/b/blobs/uploads/5f2a9c1e-0000-4000-8000-000000000000', octets(Buffer.from('abc')), Buffer.from('abc')),
  plain('GET a tag list with a token that is no JWT', 'GET', '/v2/a/b/tags/list', { Authorization: 'Bearer not.a.jwt' }),
];

const REALM = 'https://auth.example.com/token';

sideBySide(
  'Wharf challenges as distribution 2.8.2 does under auth.token',
  CHALLENGED,
  async (work) => {
    const bundle = (await makeCA(work, 'token-root')).cert;
    const token = ['auth:', '  token:', `    realm: ${REALM}`, '    service: registry.example.com', '    issuer: issuer', `    rootcertbundle: ${bundle}`, ''];
    return {
      distribution: await distributionWith(work, token, 401),
      wharf: await startTestWharf({
        auth: { provider: { kind: 'token', realm: REALM, service: 'registry.example.com', issuer: 'issuer', rootCertBundle: bundle }, loginLimit: { failures: 0, windowMs: 0 } },
      }),
    };
  },
  (answer, base) => ({ ...comparable(answer, base), challenge: challengeOf(answer) }),
);
