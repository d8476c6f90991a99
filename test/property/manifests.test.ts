/**
 * Property-based tests of the four manifest validators (src/registry/manifests/validate.ts):
 * generated valid OCI manifests, OCI indexes, Docker schema 2 manifests and Docker manifest lists
 * are accepted with the right info (type, required blobs, child manifests, subject, artifact type);
 * arbitrary JSON, arbitrary bytes and mutations of valid manifests only ever produce a RegistryError
 * MANIFEST_INVALID, never another exception.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RegistryError } from '../../src/registry/errors.js';
import { validateManifest } from '../../src/registry/manifests/validate.js';
import type { ManifestInfo } from '../../src/registry/manifests/manifest-info.js';

const RUNS = { numRuns: 1500 };

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
const NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

const HEX = [...'0123456789abcdef'];
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n });
const digest = fc.oneof({ weight: 4, arbitrary: hex(64).map((h) => `sha256:${h}`) }, { weight: 1, arbitrary: hex(128).map((h) => `sha512:${h}`) });
const token = fc.stringMatching(/^[a-z0-9][a-z0-9.+-]{0,20}$/);
const mediaType = fc.oneof(
  fc.constantFrom(OCI_MANIFEST, OCI_INDEX, 'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.config.v1+json', 'application/vnd.oci.empty.v1+json', 'application/vnd.example+type'),
  fc.tuple(fc.constantFrom('application', 'text', 'image'), token).map(([a, b]) => `${a}/${b}`),
);
const annotations = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 30 }), { maxKeys: 4, noNullPrototype: true });
const platform = fc.record(
  {
    architecture: fc.constantFrom('amd64', 'arm64', 'arm', 'ppc64le', 's390x', 'riscv64'),
    os: fc.constantFrom('linux', 'windows', 'freebsd'),
    variant: fc.constantFrom('v6', 'v7', 'v8'),
    'os.version': fc.constantFrom('10.0.17763.1879', '1'),
    'os.features': fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
    features: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
  },
  { requiredKeys: ['architecture', 'os'], noNullPrototype: true },
);

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  [key: string]: unknown;
}

const descriptorOf = (type: fc.Arbitrary<string>, withPlatform: 'never' | 'maybe' | 'always' = 'maybe'): fc.Arbitrary<Desc> =>
  fc.record(
    {
      mediaType: type,
      digest,
      size: fc.oneof(fc.nat(1_000_000), fc.maxSafeNat()),
      urls: fc.array(fc.webUrl(), { maxLength: 2 }),
      annotations,
      artifactType: mediaType,
      ...(withPlatform !== 'never' && { platform }),
    },
    { requiredKeys: withPlatform === 'always' ? ['mediaType', 'digest', 'size', 'platform'] : ['mediaType', 'digest', 'size'], noNullPrototype: true },
  ) as fc.Arbitrary<Desc>;

const layerType = fc.oneof({ weight: 5, arbitrary: mediaType }, { weight: 1, arbitrary: fc.constantFrom(FOREIGN, NONDIST) });

const ociManifest = fc.record(
  {
    schemaVersion: fc.constant(2),
    mediaType: fc.constant(OCI_MANIFEST),
    artifactType: mediaType,
    config: descriptorOf(mediaType, 'never'),
    layers: fc.array(descriptorOf(layerType, 'never'), { maxLength: 6 }),
    subject: descriptorOf(mediaType, 'never'),
    annotations,
  },
  { requiredKeys: ['schemaVersion', 'config'], noNullPrototype: true },
);
const ociIndex = fc.record(
  {
    schemaVersion: fc.constant(2),
    mediaType: fc.constant(OCI_INDEX),
    artifactType: mediaType,
    manifests: fc.array(descriptorOf(fc.constantFrom(OCI_MANIFEST, OCI_INDEX)), { maxLength: 6 }),
    subject: descriptorOf(mediaType, 'never'),
    annotations,
  },
  { requiredKeys: ['schemaVersion', 'manifests'], noNullPrototype: true },
);
const dockerManifest = fc.record({
  schemaVersion: fc.constant(2),
  mediaType: fc.constant(DOCKER_MANIFEST),
  config: descriptorOf(fc.constant('application/vnd.docker.container.image.v1+json'), 'never'),
  layers: fc.array(descriptorOf(fc.oneof(fc.constant('application/vnd.docker.image.rootfs.diff.tar.gzip'), fc.constant(FOREIGN)), 'never'), { maxLength: 6 }),
}, { noNullPrototype: true });
const dockerList = fc.record({
  schemaVersion: fc.constant(2),
  mediaType: fc.constant(DOCKER_LIST),
  manifests: fc.array(descriptorOf(fc.constant(DOCKER_MANIFEST), 'always'), { maxLength: 6 }),
}, { noNullPrototype: true });

const bytesOf = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const digests = (ds: readonly { digest: { value: string } }[]): string[] => ds.map((d) => d.digest.value);
const required = (layers: readonly Desc[]): Desc[] =>
  layers.filter((l) => !([FOREIGN, NONDIST].includes(l.mediaType) && Array.isArray(l['urls']) && l['urls'].length > 0));

/** Validates; returns the info or the RegistryError. Any other exception fails the property. */
function outcome(bytes: Uint8Array, contentType: string | undefined): ManifestInfo | RegistryError {
  try {
    return validateManifest(bytes, contentType);
  } catch (err) {
    if (!(err instanceof RegistryError)) throw new Error(`validateManifest threw ${String(err)}`, { cause: err });
    return err;
  }
}

function onlyManifestInvalid(bytes: Uint8Array, contentType: string | undefined): ManifestInfo | undefined {
  const result = outcome(bytes, contentType);
  if (result instanceof RegistryError) {
    assert.equal(result.code, 'MANIFEST_INVALID', `${result.code}: ${result.message}`);
    assert.equal(result.status, 400);
    return undefined;
  }
  return result;
}

describe('valid manifests are accepted with the right info', () => {
  it('OCI image manifests (with their type, as application/json, or without Content-Type)', () => {
    fc.assert(fc.property(ociManifest, fc.constantFrom(OCI_MANIFEST, 'application/json', undefined, `${OCI_MANIFEST}; charset=utf-8`), fc.boolean(), (m, contentType, dropType) => {
      const manifest: Record<string, unknown> = { ...m };
      if (dropType && contentType !== OCI_MANIFEST && !contentType?.startsWith(OCI_MANIFEST)) delete manifest['mediaType'];
      const info = validateManifest(bytesOf(manifest), contentType);
      assert.equal(info.mediaType, OCI_MANIFEST);
      assert.deepEqual(digests(info.blobs), [m.config.digest, ...required(m.layers ?? []).map((l) => l.digest)]);
      assert.deepEqual(info.manifests, []);
      assert.equal(info.subject?.digest.value, m.subject?.digest);
      assert.equal(info.artifactType, m.artifactType ?? m.config.mediaType);
      assert.deepEqual(info.annotations, m.annotations);
    }), RUNS);
  });

  it('OCI image indexes', () => {
    fc.assert(fc.property(ociIndex, fc.constantFrom(OCI_INDEX, 'application/json', undefined), fc.boolean(), (m, contentType, dropType) => {
      const manifest: Record<string, unknown> = { ...m };
      if (dropType && contentType !== OCI_INDEX) delete manifest['mediaType'];
      const info = validateManifest(bytesOf(manifest), contentType);
      assert.equal(info.mediaType, OCI_INDEX);
      assert.deepEqual(info.blobs, []);
      assert.deepEqual(digests(info.manifests), m.manifests.map((d) => d.digest));
      assert.deepEqual(info.manifests.map((d) => d.platform), m.manifests.map((d) => d['platform']));
      assert.equal(info.subject?.digest.value, m.subject?.digest);
      assert.equal(info.artifactType, m.artifactType);
    }), RUNS);
  });

  it('Docker schema 2 manifests', () => {
    fc.assert(fc.property(dockerManifest, fc.constantFrom(DOCKER_MANIFEST, 'application/json', undefined), (m, contentType) => {
      const info = validateManifest(bytesOf(m), contentType);
      assert.equal(info.mediaType, DOCKER_MANIFEST);
      assert.deepEqual(digests(info.blobs), [m.config.digest, ...required(m.layers).map((l) => l.digest)]);
      assert.deepEqual(info.manifests, []);
      assert.equal(info.artifactType, m.config.mediaType);
    }), RUNS);
  });

  it('Docker manifest lists', () => {
    fc.assert(fc.property(dockerList, fc.constantFrom(DOCKER_LIST, 'application/json', undefined), (m, contentType) => {
      const info = validateManifest(bytesOf(m), contentType);
      assert.equal(info.mediaType, DOCKER_LIST);
      assert.deepEqual(info.blobs, []);
      assert.deepEqual(digests(info.manifests), m.manifests.map((d) => d.digest));
      assert.deepEqual(info.manifests.map((d) => d.platform?.architecture), m.manifests.map((d) => (d['platform'] as { architecture: string }).architecture));
    }), RUNS);
  });

  it('the validator follows the Content-Type; a body that names another type is refused', () => {
    const all = fc.oneof(
      ociManifest.map((m) => ({ ...m, mediaType: OCI_MANIFEST })),
      ociIndex.map((m) => ({ ...m, mediaType: OCI_INDEX })),
      dockerManifest,
      dockerList,
    );
    fc.assert(fc.property(all, fc.constantFrom(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST), (m, contentType) => {
      const result = outcome(bytesOf(m), contentType);
      if (m.mediaType === contentType) assert.ok(!(result instanceof RegistryError), String(result));
      else {
        assert.ok(result instanceof RegistryError, `${m.mediaType} accepted as ${contentType}`);
        assert.equal(result.code, 'MANIFEST_INVALID');
      }
    }), RUNS);
  });
});

const contentType = fc.oneof(
  fc.constantFrom(OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, 'application/json', 'application/octet-stream', '', undefined,
    'application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'text/plain', `${OCI_INDEX};x=y`),
  fc.string({ maxLength: 40 }),
);

/** A JSON value put somewhere a validator looks. */
const weird = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, -1, 1.5, 2 ** 60, '', 'sha256:xyz', [], {}, true, '\u0000', 'a/b', Number.MAX_SAFE_INTEGER + 2),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Replaces, deletes or adds something at a random place of a JSON tree. */
function mutate(value: Json, path: readonly number[], replacement: Json, op: 'replace' | 'delete' | 'add', key: string): Json {
  if (path.length === 0 || value === null || typeof value !== 'object') return op === 'delete' ? null : replacement;
  const [step, ...rest] = path as [number, ...number[]];
  if (Array.isArray(value)) {
    if (value.length === 0) return op === 'add' ? [replacement] : value;
    const i = step % value.length;
    const copy = [...value];
    if (rest.length === 0 && op === 'delete') copy.splice(i, 1);
    else copy[i] = mutate(copy[i]!, rest, replacement, op, key);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0 || (rest.length === 0 && op === 'add')) return { ...value, [key]: replacement };
  const k = keys[step % keys.length]!;
  const copy = { ...value };
  if (rest.length === 0 && op === 'delete') delete copy[k];
  else copy[k] = mutate(copy[k]!, rest, replacement, op, key);
  return copy;
}

describe('hostile input only ever gives MANIFEST_INVALID', () => {
  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), contentType, (value, type) => {
      onlyManifestInvalid(bytesOf(value), type);
    }), RUNS);
  });

  it('arbitrary bytes and strings', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s))), contentType, (bytes, type) => {
      onlyManifestInvalid(bytes, type);
    }), RUNS);
  });

  it('mutations of valid manifests (values replaced, keys deleted or added)', () => {
    const manifests = fc.oneof(ociManifest, ociIndex, dockerManifest, dockerList);
    fc.assert(fc.property(
      manifests, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), weird, fc.constantFrom('replace' as const, 'delete' as const, 'add' as const),
      fc.constantFrom('mediaType', 'schemaVersion', 'config', 'layers', 'manifests', 'subject', 'digest', 'size', 'platform', 'data', 'urls', 'annotations', 'artifactType', '__proto__', 'constructor'),
      contentType,
      (m, path, replacement, op, key, type) => {
        const mutated = mutate(m as unknown as Json, path, replacement as Json, op, key);
        onlyManifestInvalid(bytesOf(mutated), type);
      },
    ), { numRuns: 5000 });
  });

  it('truncated and byte-flipped manifests', () => {
    const manifests = fc.oneof(ociManifest, ociIndex, dockerManifest, dockerList);
    fc.assert(fc.property(manifests, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (m, at, byte, truncate) => {
      const bytes = Buffer.from(bytesOf(m));
      const i = at % bytes.length;
      if (truncate) onlyManifestInvalid(bytes.subarray(0, i), m.mediaType);
      else {
        bytes[i] = byte;
        onlyManifestInvalid(bytes, m.mediaType);
      }
    }), RUNS);
  });

  it('deeply nested and oversized structures', () => {
    for (const depth of [1000, 100_000]) {
      onlyManifestInvalid(Buffer.from('['.repeat(depth) + ']'.repeat(depth)), OCI_MANIFEST);
      onlyManifestInvalid(Buffer.from(`{"schemaVersion":2,"config":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`), OCI_MANIFEST);
      onlyManifestInvalid(Buffer.from(`{"schemaVersion":2,"manifests":[${'['.repeat(depth)}${']'.repeat(depth)}]}`), OCI_INDEX);
    }
    onlyManifestInvalid(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array.from({ length: 20000 }, () => 1) })), OCI_INDEX);
    onlyManifestInvalid(Buffer.from('\ufeff{"schemaVersion":2}'), OCI_MANIFEST);
  });
});
