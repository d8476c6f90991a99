/**
 * Shared pieces of the port of the OCI distribution-spec conformance suite (`conformance/` of
 * opencontainers/distribution-spec): its test data, a raw HTTP client that behaves like the one
 * the suite drives (any method may carry a body, Location is followed as a relative path), and
 * the assertions the four areas share.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { sha256, OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from '../helpers/client.js';

export { OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, sha256 };

/** The error codes of the distribution spec; an error body's first code must be one of them. */
export const SPEC_ERROR_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'TAG_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED',
] as const;

// ---------------------------------------------------------------- HTTP

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** A response header as one string ('' when absent, as Go's Header.Get answers). */
  header(name: string): string;
  /** The Location header as a path with its query, whatever host it names. */
  relativeLocation(): string;
  json<T = unknown>(): T;
}

export interface SendOptions {
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

/** A client bound to one registry: paths are below its base URL (a full URL is taken as is). */
export class RawClient {
  constructor(readonly base: string) {}

  send(method: string, path: string, options: SendOptions = {}): Promise<Reply> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.append(key, value);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { 'User-Agent': 'wharf-conformance-port', ...options.headers };
    // Like Go's client: a POST, PUT or PATCH without a body says so with Content-Length: 0.
    if (body !== undefined) headers['Content-Length'] = String(body.length);
    else if (['POST', 'PUT', 'PATCH'].includes(method)) headers['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve(makeReply(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

function makeReply(status: number, headers: IncomingHttpHeaders, body: Buffer): Reply {
  const header = (name: string): string => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value ?? '';
  };
  return {
    status,
    headers,
    body,
    header,
    relativeLocation: () => {
      const location = header('Location');
      if (location === '') return '';
      const url = new URL(location, 'http://relative.invalid');
      return `${url.pathname}${url.search}`;
    },
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

// ---------------------------------------------------------------- assertions

/** The status is exactly `expected`; the message carries the body to explain a failure. */
export function assertStatus(reply: Reply, expected: number, what = ''): void {
  assert.equal(reply.status, expected, `${what} answered ${reply.status}, expected ${expected}: ${reply.body.toString('utf8').slice(0, 500)}`);
}

/** An OCI error envelope whose first code is `code` (one of the spec's codes). HEAD has no body. */
export function assertErrorEnvelope(reply: Reply, code: (typeof SPEC_ERROR_CODES)[number]): void {
  assert.match(reply.header('Content-Type'), /^application\/json/);
  const envelope = reply.json<{ errors?: { code?: unknown; message?: unknown }[] }>();
  assert.ok(Array.isArray(envelope.errors) && envelope.errors.length > 0, 'the body holds a non-empty `errors` array');
  const first = envelope.errors[0];
  assert.ok(SPEC_ERROR_CODES.includes(first?.code as never), `${String(first?.code)} is an error code of the spec`);
  assert.equal(first?.code, code);
  assert.equal(typeof first?.message, 'string');
}

/** A 201 for a stored blob: Location names the blob in `name`, Docker-Content-Digest its digest. */
export function assertBlobCreated(reply: Reply, name: string, digest: string): void {
  assertStatus(reply, 201, 'blob upload');
  assert.equal(reply.relativeLocation(), `/v2/${name}/blobs/${digest}`);
  assert.equal(reply.header('Docker-Content-Digest'), digest);
}

/** A 201 for a stored manifest: Location names it by digest, Docker-Content-Digest its digest. */
export function assertManifestCreated(reply: Reply, name: string, digest: string): void {
  assertStatus(reply, 201, 'manifest push');
  assert.equal(reply.relativeLocation(), `/v2/${name}/manifests/${digest}`);
  assert.equal(reply.header('Docker-Content-Digest'), digest);
}

// ---------------------------------------------------------------- the suite's push steps

/** POST a session, then PUT the whole blob to it with `?digest=` (the suite's setup step). */
export async function uploadBlob(client: RawClient, name: string, blob: TestBlob): Promise<Reply> {
  const start = await client.send('POST', `/v2/${name}/blobs/uploads/`);
  assertStatus(start, 202, 'POST upload');
  return client.send('PUT', start.relativeLocation(), {
    query: { digest: blob.digest },
    headers: { 'Content-Type': 'application/octet-stream' },
    body: blob.content,
  });
}

export function putManifest(client: RawClient, name: string, reference: string, content: Buffer, mediaType = OCI_MANIFEST): Promise<Reply> {
  return client.send('PUT', `/v2/${name}/manifests/${reference}`, { headers: { 'Content-Type': mediaType }, body: content });
}

// ---------------------------------------------------------------- test data

export interface TestBlob {
  readonly content: Buffer;
  readonly digest: string;
  readonly size: number;
}

export function testBlob(content: Buffer | string): TestBlob {
  const bytes = Buffer.from(content);
  return { content: bytes, digest: sha256(bytes), size: bytes.length };
}

/** Serialised as Go's json.MarshalIndent(v, "", "\t") lays it out. */
function marshal(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, '\t'));
}

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: string;
  /** A field no spec defines: a registry must store and serve it untouched. `null` when unset. */
  newUnspecifiedField: string | null;
}

function desc(mediaType: string, blob: TestBlob, extra: Partial<Desc> = {}): Desc {
  return { mediaType, digest: blob.digest, size: blob.size, ...extra, newUnspecifiedField: extra.newUnspecifiedField ?? null };
}

const RANDOM_LETTERS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
function randomString(n: number): string {
  return [...randomBytes(n)].map((b) => RANDOM_LETTERS[b % RANDOM_LETTERS.length]).join('');
}

/** A blob to upload in two chunks, split as the suite splits it (first half plus one byte). */
export interface ChunkedBlob extends TestBlob {
  readonly chunk1: Buffer;
  readonly chunk2: Buffer;
  readonly chunk1Range: string;
  readonly chunk2Range: string;
}

export function chunkedBlob(size: number): ChunkedBlob {
  const blob = testBlob(randomBytes(size));
  const split = Math.floor(size / 2) + 1;
  return {
    ...blob,
    chunk1: blob.content.subarray(0, split),
    chunk2: blob.content.subarray(split),
    chunk1Range: `0-${split - 1}`,
    chunk2Range: `${split}-${size - 1}`,
  };
}

export const TEST_TAG = 'tagtest0';
export const EMPTY_LAYER_TAG = 'emptylayer';
/** A reference that can never name a manifest. */
export const NONEXISTENT_MANIFEST = '.INVALID_MANIFEST_NAME';
export const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
export const ARTIFACT_TYPE_A = 'application/vnd.nhl.peanut.butter.bagel';
export const ARTIFACT_TYPE_B = 'application/vnd.nba.strawberry.jam.croissant';
export const ARTIFACT_TYPE_INDEX = 'application/vnd.food.stand';
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export interface Fixtures {
  /** A unique image config per workflow slot (16, as the suite makes). */
  readonly configs: readonly TestBlob[];
  readonly layer: TestBlob;
  /** manifests[i]: config i plus the layer; the config descriptor carries `data` and an unknown field. */
  readonly manifests: readonly TestBlob[];
  /** Config 1 and no layers at all. */
  readonly emptyLayerManifest: TestBlob;
  readonly blobA: TestBlob;
  readonly blobB: ChunkedBlob;
  readonly dummyDigest: string;
  readonly invalidManifest: Buffer;
  readonly emptyJson: TestBlob;
  readonly refBlobA: TestBlob;
  readonly refBlobB: TestBlob;
  /** Referrers of manifests[4]: artifact type in the config media type (A, B) or in `artifactType` (A, B). */
  readonly refsAConfig: TestBlob;
  readonly refsALayer: TestBlob;
  readonly refsBConfig: TestBlob;
  readonly refsBLayer: TestBlob;
  /** Refers to manifests[3], which the discovery area never pushes. */
  readonly refsCLayer: TestBlob;
  /** An index with artifactType, listing refsAConfig and refsALayer, whose subject is manifests[4]. */
  readonly refsIndex: TestBlob;
  /** The annotation value each annotated referrer carries, by digest. */
  readonly annotations: ReadonlyMap<string, string>;
}

export function makeFixtures(): Fixtures {
  const configs = Array.from({ length: 16 }, () => testBlob(marshal({
    author: randomString(16),
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
  })));
  const layer = testBlob(gzipSync(Buffer.from(`a layer for the conformance port ${randomUUID()}\n`)));
  const configDesc = (config: TestBlob): Desc => desc(OCI_CONFIG, config, {
    data: config.content.toString('base64'),
    newUnspecifiedField: Buffer.from('hello world').toString('base64'),
  });
  const manifests = configs.map((config) => testBlob(marshal({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configDesc(config),
    layers: [desc(OCI_LAYER, layer)],
  })));
  const config1 = configs[1] as TestBlob;
  const emptyLayerManifest = testBlob(marshal({ schemaVersion: 2, config: configDesc(config1), layers: [] }));

  const emptyJson = testBlob('{}');
  const refBlobA = testBlob('NHL Peanut Butter on my NHL bagel');
  const refBlobB = testBlob('NBA Strawberry Jam on my NBA croissant');
  const subject4 = desc(OCI_MANIFEST, manifests[4] as TestBlob);
  const subject3 = desc(OCI_MANIFEST, manifests[3] as TestBlob);
  const annotations = new Map<string, string>();
  const annotated = (value: string, document: object): TestBlob => {
    const blob = testBlob(marshal({ ...document, annotations: { [ANNOTATION_KEY]: value } }));
    annotations.set(blob.digest, value);
    return blob;
  };
  const configArtifact = (type: string, blob: TestBlob, value: string): TestBlob => annotated(value, {
    schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(type, blob), layers: [desc(OCI_EMPTY, emptyJson)], subject: subject4,
  });
  const layerArtifact = (type: string, blob: TestBlob, subject: Desc) => ({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: type, config: desc(OCI_EMPTY, emptyJson), layers: [desc(type, blob)], subject,
  });
  const refsAConfig = configArtifact(ARTIFACT_TYPE_A, refBlobA, 'test config a');
  const refsBConfig = configArtifact(ARTIFACT_TYPE_B, refBlobB, 'test config b');
  const refsALayer = annotated('test layer a', layerArtifact(ARTIFACT_TYPE_A, refBlobA, subject4));
  const refsBLayer = annotated('test layer b', layerArtifact(ARTIFACT_TYPE_B, refBlobB, subject4));
  const refsCLayer = testBlob(marshal(layerArtifact(ARTIFACT_TYPE_B, refBlobB, subject3)));
  const refsIndex = annotated('test index', {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    artifactType: ARTIFACT_TYPE_INDEX,
    manifests: [desc(OCI_MANIFEST, refsAConfig), desc(OCI_MANIFEST, refsALayer)],
    subject: subject4,
  });

  return {
    configs, layer, manifests, emptyLayerManifest,
    blobA: testBlob(randomBytes(42)),
    blobB: chunkedBlob(42),
    dummyDigest: sha256('hello world'),
    invalidManifest: Buffer.from('blablabla'),
    emptyJson, refBlobA, refBlobB, refsAConfig, refsALayer, refsBConfig, refsBLayer, refsCLayer, refsIndex, annotations,
  };
}

/** `list[i]`, failing the test (not the type checker) when it is missing. */
export function at<T>(list: readonly T[], i: number): T {
  const value = list[i];
  assert.ok(value !== undefined, `index ${i} of a list of ${list.length}`);
  return value;
}
