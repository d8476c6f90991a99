/**
 * Manifest push (end-7) by media type: OCI manifest, OCI index, Docker schema 2, Docker manifest
 * list; exact bytes, tags moving, push by digest with `?tag=`, subject and OCI-Subject.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import {
  DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, TestClient, errorCode, sha256,
  type Descriptor,
} from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'manifests/push';

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

function put(name: string, reference: string, body: string | Buffer, contentType?: string): Promise<Response> {
  return client.request(`/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    body: typeof body === 'string' ? Buffer.from(body) : body,
    headers: contentType === undefined ? {} : { 'Content-Type': contentType },
  });
}

async function dockerImage(name: string): Promise<{ body: string; digest: string }> {
  const config = await client.pushBlob(name, Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', n: randomBytes(4).toString('hex') })), DOCKER_CONFIG);
  const layer = await client.pushBlob(name, randomBytes(200), DOCKER_LAYER);
  const body = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layer] }, null, 3);
  return { body, digest: sha256(body) };
}

describe('OCI image manifest', () => {
  it('PUT by tag → 201, Location by digest, Docker-Content-Digest of the exact bytes; GET gives them back', async () => {
    const image = await client.pushImage(NAME, 'first');
    const res = image.response;
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), image.digest);
    assert.match(res.headers.get('location') ?? '', new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v2/${NAME}/manifests/${image.digest}$`));
    const get = await client.request(`/v2/${NAME}/manifests/first`);
    assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(await get.text(), JSON.stringify(image.manifest));
  });

  it('without a mediaType field, Content-Type decides and GET serves that type', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, config, layers: [] });
    const res = await put(NAME, 'nomediatype', body, OCI_MANIFEST);
    assert.equal(res.status, 201);
    const get = await client.request(`/v2/${NAME}/manifests/nomediatype`);
    assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(await get.text(), body);
  });

  it('a Content-Type with parameters is accepted; GET answers the bare type', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"a":1}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const res = await put(NAME, 'params', body, `${OCI_MANIFEST}; charset=utf-8`);
    assert.equal(res.status, 201);
    const get = await client.request(`/v2/${NAME}/manifests/params`);
    assert.equal(get.headers.get('content-type'), OCI_MANIFEST);
    await get.arrayBuffer();
  });

  it('pushing by tag again moves the tag', async () => {
    const a = await client.pushImage(NAME, 'moving');
    const b = await client.pushImage(NAME, 'moving');
    assert.notEqual(a.digest, b.digest);
    const get = await client.request(`/v2/${NAME}/manifests/moving`);
    assert.equal(get.headers.get('docker-content-digest'), b.digest);
    await get.arrayBuffer();
    const old = await client.request(`/v2/${NAME}/manifests/${a.digest}`);
    assert.equal(old.status, 200, 'the old revision stays reachable by digest');
    await old.arrayBuffer();
  });

  it('a missing blob → 400 MANIFEST_BLOB_UNKNOWN listing its digest', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"b":2}'), OCI_CONFIG);
    const missing: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('missing layer'), size: 13 };
    const res = await put(NAME, 'broken', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [missing] }), OCI_MANIFEST);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(JSON.stringify(body.errors[0]?.detail).includes(missing.digest), 'detail names the digest');
    assert.ok(body.errors[0]?.message.includes(missing.digest), 'message names the digest');
  });

  it('every missing blob is listed (config and layers)', async () => {
    const config: Descriptor = { mediaType: OCI_CONFIG, digest: sha256('no config'), size: 9 };
    const layer: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('no layer'), size: 8 };
    const res = await put(NAME, 'broken2', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }), OCI_MANIFEST);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { code: string; detail: unknown }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    const detail = JSON.stringify(body.errors[0]?.detail);
    assert.ok(detail.includes(config.digest) && detail.includes(layer.digest));
  });

  it('a blob that only another repository holds counts as missing', async () => {
    const foreign = await client.pushBlob('manifests/other', randomBytes(40));
    const config = await client.pushBlob(NAME, Buffer.from('{"c":3}'), OCI_CONFIG);
    const res = await put(NAME, 'foreign', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [foreign] }), OCI_MANIFEST);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  });

  it('a subject that does not exist yet is accepted and answered with OCI-Subject', async () => {
    const subject: Descriptor = { mediaType: OCI_MANIFEST, digest: sha256('future subject'), size: 14 };
    const image = await client.pushImage(NAME, 'sig', { subject, artifactType: 'application/vnd.example.sig' });
    assert.equal(image.response.headers.get('oci-subject'), subject.digest);
  });

  it('a manifest without subject has no OCI-Subject header', async () => {
    const image = await client.pushImage(NAME, 'plain');
    assert.equal(image.response.headers.get('oci-subject'), null);
  });
});

describe('push by digest', () => {
  it('bytes matching the digest → 201 with that digest', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"d":4}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const res = await put(NAME, sha256(body), body, OCI_MANIFEST);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), sha256(body));
    assert.equal(res.headers.get('oci-tag'), null);
  });

  it('bytes that do not match the digest → 400 DIGEST_INVALID, nothing stored', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"e":5}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const claimed = sha256(`${body} `);
    const res = await put(NAME, claimed, body, OCI_MANIFEST);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    for (const digest of [claimed, sha256(body)]) {
      const get = await client.request(`/v2/${NAME}/manifests/${digest}`);
      assert.equal(get.status, 404);
      await get.arrayBuffer();
    }
  });

  it('?tag=a&tag=b creates every tag and answers OCI-Tag: a, b', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"f":6}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const digest = sha256(body);
    const res = await client.request(`/v2/${NAME}/manifests/${digest}?tag=ta&tag=tb`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('oci-tag'), 'ta, tb');
    for (const tag of ['ta', 'tb']) {
      const get = await client.request(`/v2/${NAME}/manifests/${tag}`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('docker-content-digest'), digest);
      await get.arrayBuffer();
    }
  });

  it('an invalid ?tag= → 400 TAG_INVALID and no tag is created', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"g":7}'), OCI_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const res = await client.request(`/v2/${NAME}/manifests/${sha256(body)}?tag=good&tag=.bad`, { method: 'PUT', body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'TAG_INVALID');
    const get = await client.request(`/v2/${NAME}/manifests/good`);
    assert.equal(get.status, 404);
    await get.arrayBuffer();
  });
});

describe('OCI image index', () => {
  it('with every child present → 201; served as an index', async () => {
    const a = await client.pushImage(NAME, 'idx-a');
    const b = await client.pushImage(NAME, 'idx-b');
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: a.digest, size: a.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: b.digest, size: b.size, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    };
    const pushed = await client.pushManifest(NAME, 'index', index, OCI_INDEX);
    assert.equal(pushed.response.status, 201);
    const get = await client.request(`/v2/${NAME}/manifests/index`);
    assert.equal(get.headers.get('content-type'), OCI_INDEX);
    assert.equal(await get.text(), JSON.stringify(index));
  });

  it('a missing child → 400 MANIFEST_BLOB_UNKNOWN naming it', async () => {
    const a = await client.pushImage(NAME, 'idx-c');
    const missing = sha256('missing child');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: a.digest, size: a.size }, { mediaType: OCI_MANIFEST, digest: missing, size: 100 }] };
    const res = await put(NAME, 'broken-index', JSON.stringify(index), OCI_INDEX);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { code: string; detail: unknown }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    const detail = JSON.stringify(body.errors[0]?.detail);
    assert.ok(detail.includes(missing));
    assert.ok(!detail.includes(a.digest), 'only the missing child is listed');
  });

  it('an empty index is accepted', async () => {
    const res = await put(NAME, 'empty-index', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_INDEX);
    assert.equal(res.status, 201);
  });
});

describe('Docker schema 2 and manifest list', () => {
  it('a Docker schema 2 manifest → 201; served with its type', async () => {
    const { body, digest } = await dockerImage(NAME);
    const res = await put(NAME, 'docker', body, DOCKER_MANIFEST);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    const get = await client.request(`/v2/${NAME}/manifests/docker`);
    assert.equal(get.headers.get('content-type'), DOCKER_MANIFEST);
    assert.equal(await get.text(), body);
  });

  it('a Docker schema 2 manifest with a missing layer → 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{"os":"linux"}'), DOCKER_CONFIG);
    const body = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [{ mediaType: DOCKER_LAYER, digest: sha256('gone'), size: 4 }] });
    const res = await put(NAME, 'docker-broken', body, DOCKER_MANIFEST);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  });

  it('a Docker manifest list → 201; served with its type', async () => {
    const amd = await dockerImage(NAME);
    const arm = await dockerImage(NAME);
    await put(NAME, amd.digest, amd.body, DOCKER_MANIFEST);
    await put(NAME, arm.digest, arm.body, DOCKER_MANIFEST);
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        { mediaType: DOCKER_MANIFEST, digest: amd.digest, size: Buffer.byteLength(amd.body), platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: DOCKER_MANIFEST, digest: arm.digest, size: Buffer.byteLength(arm.body), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      ],
    };
    const pushed = await client.pushManifest(NAME, 'list', list, DOCKER_LIST);
    assert.equal(pushed.response.status, 201);
    const get = await client.request(`/v2/${NAME}/manifests/list`);
    assert.equal(get.headers.get('content-type'), DOCKER_LIST);
    assert.equal(await get.text(), JSON.stringify(list));
  });

  it('a manifest list with a missing child → 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const missing = sha256('no such child');
    const list = { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: missing, size: 5, platform: { architecture: 'amd64', os: 'linux' } }] };
    const res = await put(NAME, 'list-broken', JSON.stringify(list), DOCKER_LIST);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: { code: string; detail: unknown }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.ok(JSON.stringify(body.errors[0]?.detail).includes(missing));
  });

  it('a manifest list entry without platform → 400 MANIFEST_INVALID', async () => {
    const amd = await dockerImage(NAME);
    await put(NAME, amd.digest, amd.body, DOCKER_MANIFEST);
    const list = { schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: amd.digest, size: Buffer.byteLength(amd.body) }] };
    const res = await put(NAME, 'list-noplatform', JSON.stringify(list), DOCKER_LIST);
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_INVALID');
  });
});
