/** What the collector reads from a stored manifest, whatever its media type. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestReferences, UnreadableManifestError } from '../../src/gc/references.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('OCI and Docker image manifests: config and layers, and the subject', () => {
  const refs = manifestReferences(json({ schemaVersion: 2, config: { digest: d('a') }, layers: [{ digest: d('b') }, { digest: d('c'), urls: ['https://x'] }], subject: { digest: d('e') } }), 'r@x');
  assert.deepEqual(refs, { blobs: [d('a'), d('b'), d('c')], children: [], subject: d('e') });
});

test('indexes and manifest lists: children', () => {
  assert.deepEqual(manifestReferences(json({ manifests: [{ digest: d('1') }, { digest: d('2') }] }), 'r@x').children, [d('1'), d('2')]);
});

test('OCI artifact manifests (blobs) and Docker schema 1 (fsLayers)', () => {
  assert.deepEqual(manifestReferences(json({ mediaType: 'application/vnd.oci.artifact.manifest.v1+json', blobs: [{ digest: d('3') }] }), 'r@x').blobs, [d('3')]);
  assert.deepEqual(manifestReferences(json({ schemaVersion: 1, fsLayers: [{ blobSum: d('4') }, { blobSum: d('5') }], signatures: [] }), 'r@x').blobs, [d('4'), d('5')]);
});

test('malformed descriptors are skipped; a document that is not a JSON object is an error naming the manifest', () => {
  assert.deepEqual(manifestReferences(json({ config: 'nope', layers: [{ digest: 'sha256:short' }, null] }), 'r@x'), { blobs: [], children: [], subject: undefined });
  assert.throws(() => manifestReferences(Buffer.from('{"layers": ['), 'app@sha256:f'), (err: unknown) => err instanceof UnreadableManifestError && err.message.startsWith('app@sha256:f'));
  assert.throws(() => manifestReferences(json([1, 2]), 'r@x'), UnreadableManifestError);
});
