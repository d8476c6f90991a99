/**
 * Unit tests of src/registry/manifests/*: the per-type validators, the dispatcher (Content-Type vs
 * mediaType, schema 1, inference), descriptors, and the media type a stored manifest is served with.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../src/registry/errors.js';
import { parseJsonObject, storedMediaType, validateManifest } from '../../src/registry/manifests/validate.js';
import { validateOciManifest } from '../../src/registry/manifests/oci-manifest.js';
import { validateOciIndex } from '../../src/registry/manifests/oci-index.js';
import { validateDockerSchema2 } from '../../src/registry/manifests/docker-schema2.js';
import { validateDockerManifestList } from '../../src/registry/manifests/docker-manifest-list.js';
import { parseDescriptor } from '../../src/registry/manifests/descriptor.js';
import {
  DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, OCI_INDEX, OCI_MANIFEST, isValidMediaType, mediaTypeOf,
} from '../../src/registry/manifests/media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('c'), size: 10 };
const LAYER = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('1'), size: 20 };
const FOREIGN = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('f'), size: 30, urls: ['https://example.com/layer'] };
const CHILD = { mediaType: OCI_MANIFEST, digest: d('2'), size: 40, platform: { architecture: 'amd64', os: 'linux' } };
const SUBJECT = { mediaType: OCI_MANIFEST, digest: d('5'), size: 50 };

function invalid(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RegistryError, String(err));
    assert.equal(err.code, 'MANIFEST_INVALID');
    assert.equal(err.status, 400);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });
}

const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('validateOciManifest', () => {
  it('returns config and layers as required blobs, subject, annotations, artifactType', () => {
    const info = validateOciManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: CONFIG, layers: [LAYER], subject: SUBJECT, annotations: { a: 'b' }, artifactType: 'application/x.y' });
    assert.equal(info.mediaType, OCI_MANIFEST);
    assert.deepEqual(info.blobs.map((b) => b.digest.value), [CONFIG.digest, LAYER.digest]);
    assert.deepEqual(info.manifests, []);
    assert.equal(info.subject?.digest.value, SUBJECT.digest);
    assert.deepEqual(info.annotations, { a: 'b' });
    assert.equal(info.artifactType, 'application/x.y');
  });

  it('artifactType falls back to the config media type', () => {
    assert.equal(validateOciManifest({ schemaVersion: 2, config: CONFIG, layers: [] }).artifactType, CONFIG.mediaType);
  });

  it('foreign layers with urls are not required; without urls they are', () => {
    assert.deepEqual(validateOciManifest({ schemaVersion: 2, config: CONFIG, layers: [FOREIGN] }).blobs.map((b) => b.digest.value), [CONFIG.digest]);
    const { urls: _urls, ...noUrls } = FOREIGN;
    assert.equal(validateOciManifest({ schemaVersion: 2, config: CONFIG, layers: [noUrls] }).blobs.length, 2);
  });

  it('layers may be absent', () => {
    assert.equal(validateOciManifest({ schemaVersion: 2, config: CONFIG }).blobs.length, 1);
  });

  const broken: [string, Record<string, unknown>, RegExp][] = [
    ['schemaVersion 1', { schemaVersion: 1, config: CONFIG }, /schemaVersion/],
    ['schemaVersion "2"', { schemaVersion: '2', config: CONFIG }, /schemaVersion/],
    ['no config', { schemaVersion: 2, layers: [] }, /config/],
    ['layers an object', { schemaVersion: 2, config: CONFIG, layers: {} }, /layers/],
    ['a layer digest bad', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, digest: 'sha256:x' }] }, /layers\[0\]\.digest/],
    ['a layer size negative', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, size: -1 }] }, /size/],
    ['a layer size a string', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, size: '20' }] }, /size/],
    ['a layer size unsafe', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, size: 2 ** 60 }] }, /size/],
    ['a layer mediaType bad', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, mediaType: 'nope' }] }, /mediaType/],
    ['urls not strings', { schemaVersion: 2, config: CONFIG, layers: [{ ...LAYER, urls: [1] }] }, /urls/],
    ['data of the wrong size', { schemaVersion: 2, config: { ...CONFIG, data: Buffer.from('abc').toString('base64') } }, /data/],
    ['annotations not strings', { schemaVersion: 2, config: CONFIG, annotations: { a: 1 } }, /annotations/],
    ['artifactType not a media type', { schemaVersion: 2, config: CONFIG, artifactType: 'x' }, /artifactType/],
    ['subject not a descriptor', { schemaVersion: 2, config: CONFIG, subject: 'x' }, /subject/],
    ['platform without os', { schemaVersion: 2, config: { ...CONFIG, platform: { architecture: 'amd64' } } }, /platform\.os/],
  ];
  for (const [label, m, pattern] of broken) {
    it(`${label} → MANIFEST_INVALID naming the path`, () => invalid(() => validateOciManifest(m), pattern));
  }
});

describe('validateOciIndex', () => {
  it('children are required manifests, no blobs; artifactType only when set', () => {
    const info = validateOciIndex({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [CHILD], subject: SUBJECT });
    assert.deepEqual(info.manifests.map((m) => m.digest.value), [CHILD.digest]);
    assert.deepEqual(info.blobs, []);
    assert.equal(info.artifactType, undefined);
    assert.equal(info.subject?.digest.value, SUBJECT.digest);
    assert.equal(validateOciIndex({ schemaVersion: 2, manifests: [], artifactType: 'application/a.b' }).artifactType, 'application/a.b');
  });
  it('manifests is required', () => invalid(() => validateOciIndex({ schemaVersion: 2 }), /manifests/));
  it('a child without platform is fine in an OCI index', () => {
    assert.equal(validateOciIndex({ schemaVersion: 2, manifests: [{ ...CHILD, platform: undefined }] }).manifests.length, 1);
  });
});

describe('Docker schema 2 and manifest list', () => {
  it('schema 2: config and layers required, artifactType is the config type', () => {
    const info = validateDockerSchema2({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: CONFIG, layers: [LAYER] });
    assert.equal(info.mediaType, DOCKER_MANIFEST);
    assert.equal(info.blobs.length, 2);
    assert.equal(info.artifactType, CONFIG.mediaType);
  });
  it('schema 2 needs its mediaType, config and layers', () => {
    invalid(() => validateDockerSchema2({ schemaVersion: 2, config: CONFIG, layers: [] }), /mediaType/);
    invalid(() => validateDockerSchema2({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, layers: [] }), /config/);
    invalid(() => validateDockerSchema2({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: CONFIG }), /layers/);
  });
  it('manifest list: children need a platform', () => {
    const info = validateDockerManifestList({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [{ ...CHILD, mediaType: DOCKER_MANIFEST }] });
    assert.equal(info.manifests.length, 1);
    invalid(() => validateDockerManifestList({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [{ ...CHILD, platform: undefined }] }), /platform/);
    invalid(() => validateDockerManifestList({ schemaVersion: 2, manifests: [] }), /mediaType/);
  });
});

describe('validateManifest (dispatch by media type)', () => {
  const oci = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: CONFIG, layers: [] };
  it('Content-Type picks the validator; parameters and case are ignored', () => {
    assert.equal(validateManifest(bytes(oci), OCI_MANIFEST).mediaType, OCI_MANIFEST);
    assert.equal(validateManifest(bytes(oci), `${OCI_MANIFEST.toUpperCase()}; charset=utf-8`).mediaType, OCI_MANIFEST);
  });
  it('mediaType ≠ Content-Type → MANIFEST_INVALID', () => invalid(() => validateManifest(bytes(oci), OCI_INDEX), /does not match/));
  it('generic or absent Content-Type: mediaType decides, else the shape', () => {
    for (const ct of [undefined, '', 'application/json', 'application/octet-stream']) {
      assert.equal(validateManifest(bytes(oci), ct).mediaType, OCI_MANIFEST);
      assert.equal(validateManifest(bytes({ schemaVersion: 2, manifests: [] }), ct).mediaType, OCI_INDEX);
      assert.equal(validateManifest(bytes({ schemaVersion: 2, config: CONFIG }), ct).mediaType, OCI_MANIFEST);
    }
  });
  it('an unknown type → MANIFEST_INVALID listing the accepted ones', () => {
    invalid(() => validateManifest(bytes(oci), 'text/plain'), /accepted/);
    invalid(() => validateManifest(bytes({ ...oci, mediaType: 'application/x' }), undefined), /unsupported/);
  });
  it('schema 1, by header, body type or schemaVersion → refused with a clear message', () => {
    const s1 = { schemaVersion: 1, name: 'a', tag: 'b', fsLayers: [] };
    invalid(() => validateManifest(bytes(s1), DOCKER_SCHEMA1), /schema 1/);
    invalid(() => validateManifest(bytes(s1), DOCKER_SCHEMA1_SIGNED), /schema 1/);
    invalid(() => validateManifest(bytes(s1), undefined), /schema 1/);
    invalid(() => validateManifest(bytes({ ...oci, mediaType: DOCKER_SCHEMA1 }), undefined), /schema 1/);
  });
  it('bodies that are not JSON objects → MANIFEST_INVALID', () => {
    for (const body of ['', '{', '[]', 'null', '1', '"s"', '{"a":1}}']) invalid(() => validateManifest(Buffer.from(body), OCI_MANIFEST));
    invalid(() => validateManifest(Buffer.from([0x7b, 0xff, 0x7d]), OCI_MANIFEST), /UTF-8/);
  });
  it('a non-string mediaType → MANIFEST_INVALID', () => invalid(() => validateManifest(bytes({ ...oci, mediaType: 2 }), undefined), /mediaType/));
});

describe('helpers', () => {
  it('parseJsonObject accepts objects only', () => {
    assert.deepEqual(parseJsonObject(Buffer.from('{"a":1}')), { a: 1 });
    invalid(() => parseJsonObject(Buffer.from('[1]')));
  });
  it('parseDescriptor keeps the optional fields it validated', () => {
    const desc = parseDescriptor({ ...LAYER, urls: ['u'], annotations: { k: 'v' }, artifactType: 'application/a.b' }, 'x');
    assert.equal(desc.digest.value, LAYER.digest);
    assert.deepEqual(desc.urls, ['u']);
    assert.deepEqual(desc.annotations, { k: 'v' });
    assert.equal(desc.artifactType, 'application/a.b');
  });
  it('storedMediaType: body type, else shape, schema 1 variants, else octet-stream', () => {
    assert.equal(storedMediaType(bytes({ mediaType: DOCKER_MANIFEST })), DOCKER_MANIFEST);
    assert.equal(storedMediaType(bytes({ schemaVersion: 2, manifests: [] })), OCI_INDEX);
    assert.equal(storedMediaType(bytes({ schemaVersion: 2, config: CONFIG })), OCI_MANIFEST);
    assert.equal(storedMediaType(bytes({ schemaVersion: 1, fsLayers: [] })), DOCKER_SCHEMA1);
    assert.equal(storedMediaType(bytes({ schemaVersion: 1, signatures: [] })), DOCKER_SCHEMA1_SIGNED);
    assert.equal(storedMediaType(Buffer.from('not json')), 'application/octet-stream');
  });
  it('mediaTypeOf and isValidMediaType', () => {
    assert.equal(mediaTypeOf(undefined), '');
    assert.equal(mediaTypeOf(' Application/JSON ; charset=utf-8'), 'application/json');
    assert.equal(isValidMediaType('application/vnd.oci.image.manifest.v1+json'), true);
    for (const t of ['', 'application', 'application/', '/json', 'a b/c', 'a/b; c=d']) assert.equal(isValidMediaType(t), false, t);
  });
});
