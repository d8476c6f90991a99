/**
 * Manifest bodies that must be refused (or, where lenient, accepted): schema 1, media type
 * mismatches, wrong and missing Content-Type, malformed/non-object/non-UTF-8 JSON, broken
 * descriptors, and the size cap (413) at 4 MiB and at a configured smaller limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, TestClient, errorCode, sha256, type Descriptor } from '../helpers/client.js';
import { DEFAULT_LIMITS } from '../../src/startup.js';

let wharf: TestWharf;
let client: TestClient;
let small: TestWharf;
let smallClient: TestClient;
const NAME = 'manifests/validation';
const SMALL_LIMIT = 1024;
let config: Descriptor;

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
  small = await startTestWharf({ limits: { ...DEFAULT_LIMITS, manifestMaxSize: SMALL_LIMIT } });
  smallClient = new TestClient(small.url);
  config = await client.pushBlob(NAME, Buffer.from('{"architecture":"amd64","os":"linux"}'), OCI_CONFIG);
  await smallClient.pushBlob(NAME, Buffer.from('{"architecture":"amd64","os":"linux"}'), OCI_CONFIG);
});
after(async () => {
  await wharf.stop(0);
  await small.stop(0);
});

function put(body: string | Buffer | ReadableStream<Uint8Array>, contentType?: string, c: TestClient = client, ref = 'latest'): Promise<Response> {
  return c.request(`/v2/${NAME}/manifests/${ref}`, {
    method: 'PUT',
    body: typeof body === 'string' ? Buffer.from(body) : body,
    headers: contentType === undefined ? {} : { 'Content-Type': contentType },
  });
}

async function expectInvalid(res: Response, status = 400, code = 'MANIFEST_INVALID'): Promise<string> {
  assert.equal(res.status, status);
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]?.code, code);
  return body.errors[0]?.message ?? '';
}

/** An OCI manifest padded with an annotation to exactly `size` bytes. */
function manifestOfSize(size: number): string {
  const base = (pad: string): string => JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [], annotations: { pad } });
  const body = base('x'.repeat(size - Buffer.byteLength(base(''))));
  assert.equal(Buffer.byteLength(body), size);
  return body;
}

describe('media types', () => {
  it('Docker schema 1 (signed) → 400 MANIFEST_INVALID with a clear message', async () => {
    const body = JSON.stringify({ schemaVersion: 1, name: NAME, tag: 'latest', architecture: 'amd64', fsLayers: [], history: [], signatures: [] });
    const message = await expectInvalid(await put(body, 'application/vnd.docker.distribution.manifest.v1+prettyjws'));
    assert.match(message, /schema 1/i);
  });

  it('Docker schema 1 (unsigned type) → 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 1, name: NAME, tag: 'latest', fsLayers: [], history: [] });
    assert.match(await expectInvalid(await put(body, 'application/vnd.docker.distribution.manifest.v1+json')), /schema 1/i);
  });

  it('a schema 1 body under a generic Content-Type → 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 1, name: NAME, tag: 'latest', fsLayers: [], history: [] });
    assert.match(await expectInvalid(await put(body, 'application/json')), /schema 1/i);
  });

  it('mediaType field ≠ Content-Type → 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    await expectInvalid(await put(body, OCI_INDEX));
    await expectInvalid(await put(body, DOCKER_MANIFEST));
  });

  it('a Content-Type that is no manifest type → 400 MANIFEST_INVALID naming the accepted types', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const message = await expectInvalid(await put(body, 'text/plain'));
    assert.ok(message.includes(OCI_MANIFEST));
  });

  it('no Content-Type: the body’s mediaType decides (accepted)', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const res = await put(body, undefined, client, 'no-content-type');
    assert.equal(res.status, 201);
    const get = await client.request(`/v2/${NAME}/manifests/no-content-type`);
    assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
    await get.arrayBuffer();
  });

  it('no Content-Type and an unknown mediaType in the body → 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example.thing+json', config, layers: [] });
    await expectInvalid(await put(body));
  });

  it('a non-string mediaType → 400 MANIFEST_INVALID', async () => {
    await expectInvalid(await put(JSON.stringify({ schemaVersion: 2, mediaType: 42, config, layers: [] }), OCI_MANIFEST));
  });
});

describe('bodies that are not manifests', () => {
  const cases: [string, string | Buffer][] = [
    ['malformed JSON', '{"schemaVersion": 2, "config": '],
    ['trailing garbage', `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] })}}`],
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['a JSON string', '"manifest"'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"schemaVersion":2,"mediaType":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')])],
    ['a UTF-16 body', Buffer.from(JSON.stringify({ schemaVersion: 2 }), 'utf16le')],
  ];
  for (const [label, body] of cases) {
    it(`${label} → 400 MANIFEST_INVALID`, async () => {
      await expectInvalid(await put(body, OCI_MANIFEST));
    });
  }
});

describe('shape checks', () => {
  const layer = (over: Record<string, unknown>) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('l'), size: 1, ...over });
  const cases: [string, Record<string, unknown>][] = [
    ['schemaVersion 3', { schemaVersion: 3, mediaType: OCI_MANIFEST, config: {}, layers: [] }],
    ['no schemaVersion', { mediaType: OCI_MANIFEST, config: {}, layers: [] }],
    ['no config', { schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }],
    ['config not an object', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: 'x', layers: [] }],
    ['layers not an array', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: {} }],
    ['a layer with a malformed digest', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [layer({ digest: 'sha256:abc' })] }],
    ['a layer with an unknown algorithm', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [layer({ digest: `md5:${'a'.repeat(32)}` })] }],
    ['a layer with a negative size', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [layer({ size: -1 })] }],
    ['a layer with a fractional size', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [layer({ size: 1.5 })] }],
    ['a layer without mediaType', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [layer({ mediaType: undefined })] }],
    ['annotations that are not strings', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [], annotations: { a: 1 } }],
    ['a subject that is not a descriptor', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [], subject: { digest: 'nope' } }],
    ['an artifactType that is not a media type', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [], artifactType: 'not a type' }],
  ];
  for (const [label, manifest] of cases) {
    it(`${label} → 400 MANIFEST_INVALID`, async () => {
      const withConfig = manifest['config'] !== undefined && typeof manifest['config'] === 'object' ? { ...manifest, config } : manifest;
      await expectInvalid(await put(JSON.stringify(withConfig), OCI_MANIFEST));
    });
  }

  it('an index whose manifests is missing → 400 MANIFEST_INVALID', async () => {
    await expectInvalid(await put(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX }), OCI_INDEX));
  });
});

describe('size cap (413)', () => {
  it('over 4 MiB (announced Content-Length) → 413 MANIFEST_INVALID', async () => {
    const body = manifestOfSize(4 * 1024 * 1024 + 1);
    const message = await expectInvalid(await put(body, OCI_MANIFEST), 413);
    assert.match(message, /4194304/);
  });

  it('over 4 MiB streamed without Content-Length → 413', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 5) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    await expectInvalid(await put(stream, OCI_MANIFEST), 413);
  });

  it('exactly 4 MiB is accepted', async () => {
    const res = await put(manifestOfSize(4 * 1024 * 1024), OCI_MANIFEST, client, 'four-mib');
    assert.equal(res.status, 201);
  });

  it('a configured smaller limit: its size accepted, one byte more → 413', async () => {
    const ok = await put(manifestOfSize(SMALL_LIMIT), OCI_MANIFEST, smallClient, 'at-limit');
    assert.equal(ok.status, 201);
    const message = await expectInvalid(await put(manifestOfSize(SMALL_LIMIT + 1), OCI_MANIFEST, smallClient, 'over-limit'), 413);
    assert.match(message, new RegExp(String(SMALL_LIMIT)));
  });

  it('the refused manifest is not stored and the registry keeps serving', async () => {
    const get = await smallClient.request(`/v2/${NAME}/manifests/over-limit`);
    assert.equal(get.status, 404);
    assert.equal(await errorCode(get), 'MANIFEST_UNKNOWN');
  });
});
