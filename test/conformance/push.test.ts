/**
 * Conformance port, area 2: Push (OCI_TEST_PUSH): streamed, monolithic and chunked blob uploads
 * (chunked with and without a minimum chunk length), cross-repository mounts (with `from`, without
 * it, and automatic content discovery), manifest upload including a manifest with no layers, and
 * the teardown in both delete orders (OCI_DELETE_MANIFEST_BEFORE_BLOBS).
 */
import { expectedChunkMinLength } from '../helpers/object-store.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import {
  EMPTY_LAYER_TAG, NONEXISTENT_MANIFEST, OCI_MANIFEST, RawClient, assertBlobCreated, assertErrorEnvelope, assertManifestCreated,
  assertStatus, at, chunkedBlob, makeFixtures, putManifest, uploadBlob, type ChunkedBlob, type Reply,
} from './helpers.js';

const OCTET = { 'Content-Type': 'application/octet-stream' };

for (const deleteManifestBeforeBlobs of [true, false]) {
  describe(`conformance: Push (${deleteManifestBeforeBlobs ? 'manifests' : 'blobs'} deleted first in teardown)`, () => {
    const name = 'conformance/push';
    const crossmount = `conformance-${randomUUID()}`;
    const fx = makeFixtures();
    const config1 = at(fx.configs, 1);
    const manifest1 = at(fx.manifests, 1);
    let wharf: TestWharf;
    let client: RawClient;
    let lastResponse: Reply | undefined;
    let emptyLayerManifestRef = '';

    before(async () => {
      wharf = await startTestWharf();
      client = new RawClient(wharf.url);
    });
    after(async () => wharf.stop());

    describe('Blob Upload Streamed', () => {
      it('PATCH with the blob in the body answers 202', async () => {
        const start = await client.send('POST', `/v2/${name}/blobs/uploads/`);
        assertStatus(start, 202);
        assert.notEqual(start.header('Location'), '');
        const reply = await client.send('PATCH', start.relativeLocation(), { headers: OCTET, body: fx.blobA.content });
        assertStatus(reply, 202);
        assert.equal(reply.header('Range'), `0-${fx.blobA.size - 1}`);
        assert.notEqual(reply.header('Location'), '');
        lastResponse = reply;
      });

      it('PUT to the session URL with the digest answers 201', async () => {
        assert.ok(lastResponse);
        const reply = await client.send('PUT', lastResponse.relativeLocation(), { query: { digest: fx.blobA.digest }, headers: OCTET });
        assertBlobCreated(reply, name, fx.blobA.digest);
      });
    });

    describe('Blob Upload Monolithic', () => {
      it('GET of a nonexistent blob answers 404', async () => {
        const reply = await client.send('GET', `/v2/${name}/blobs/${fx.dummyDigest}`);
        assertStatus(reply, 404);
        assertErrorEnvelope(reply, 'BLOB_UNKNOWN');
      });

      it('POST with a digest and the blob answers 201 (single-request push)', async () => {
        const reply = await client.send('POST', `/v2/${name}/blobs/uploads/`, { query: { digest: config1.digest }, headers: OCTET, body: config1.content });
        assertBlobCreated(reply, name, config1.digest);
        lastResponse = reply;
      });

      it('GET of the blob the previous request created answers 200', async () => {
        assert.equal(lastResponse?.status, 201);
        const reply = await client.send('GET', `/v2/${name}/blobs/${config1.digest}`);
        assertStatus(reply, 200);
        assert.deepEqual(reply.body, config1.content);
      });

      it('POST answers 202 with a session', async () => {
        const reply = await client.send('POST', `/v2/${name}/blobs/uploads/`);
        assertStatus(reply, 202);
        assert.match(reply.relativeLocation(), new RegExp(`^/v2/${name}/blobs/uploads/[^/]+$`));
        assert.notEqual(reply.header('Docker-Upload-UUID'), '');
        lastResponse = reply;
      });

      it('PUT of the whole blob to the session answers 201', async () => {
        assert.ok(lastResponse);
        const reply = await client.send('PUT', lastResponse.relativeLocation(), { query: { digest: config1.digest }, headers: OCTET, body: config1.content });
        assertBlobCreated(reply, name, config1.digest);
      });

      it('GET of the existing blob answers 200', async () => {
        const reply = await client.send('GET', `/v2/${name}/blobs/${config1.digest}`);
        assertStatus(reply, 200);
        assert.deepEqual(reply.body, config1.content);
      });

      it('POST then PUT of a layer answers 201', async () => {
        assertBlobCreated(await uploadBlob(client, name, fx.layer), name, fx.layer.digest);
      });

      it('GET of the existing layer answers 200', async () => {
        const reply = await client.send('GET', `/v2/${name}/blobs/${fx.layer.digest}`);
        assertStatus(reply, 200);
        assert.deepEqual(reply.body, fx.layer.content);
      });
    });

    // The suite re-sizes its blob when the registry announces OCI-Chunk-Min-Length. Wharf's drivers
    // need no minimum, so the header is absent; the second run sends chunks sized as if it were 1 MiB.
    const chunkedFlow = (title: string, initial: () => ChunkedBlob) => describe(`Blob Upload Chunked (${title})`, () => {
      let blob: ChunkedBlob;
      let prevResponse: Reply | undefined;
      let last: Reply | undefined;
      const patch = (location: string, chunk: Buffer, range: string) =>
        client.send('PATCH', location, { headers: { ...OCTET, 'Content-Range': range }, body: chunk });

      it('a chunk out of order answers 416', async () => {
        blob = initial();
        const start = await client.send('POST', `/v2/${name}/blobs/uploads/`);
        assertStatus(start, 202);
        assert.notEqual(start.header('Location'), '');
        const minLength = start.header('OCI-Chunk-Min-Length');
        assert.equal(minLength, expectedChunkMinLength(), 'the minimum chunk length of the storage (S3: its part size), none for inmemory');
        if (minLength !== '' && Number(minLength) > blob.chunk1.length) blob = chunkedBlob(Number(minLength) * 2 - 2);
        const reply = await patch(start.relativeLocation(), blob.chunk2, blob.chunk2Range);
        assertStatus(reply, 416);
      });

      it('PATCH of the first chunk answers 202 with its Range', async () => {
        const start = await client.send('POST', `/v2/${name}/blobs/uploads/`);
        assertStatus(start, 202);
        assert.notEqual(start.header('Location'), '');
        prevResponse = start;
        const reply = await patch(start.relativeLocation(), blob.chunk1, blob.chunk1Range);
        assertStatus(reply, 202);
        assert.equal(reply.header('Range'), blob.chunk1Range);
        assert.notEqual(reply.header('Location'), '');
        last = reply;
      });

      it('retrying the previous chunk answers 416', async () => {
        assert.ok(prevResponse);
        const reply = await patch(prevResponse.relativeLocation(), blob.chunk1, blob.chunk1Range);
        assertStatus(reply, 416);
      });

      it('GET of the session answers 204 with Range and Location', async () => {
        assert.ok(prevResponse);
        const reply = await client.send('GET', prevResponse.relativeLocation());
        assertStatus(reply, 204);
        assert.notEqual(reply.header('Location'), '');
        assert.equal(reply.header('Range'), blob.chunk1Range);
        last = reply;
      });

      it('PATCH of the second chunk answers 202', async () => {
        assert.ok(last);
        const reply = await patch(last.relativeLocation(), blob.chunk2, blob.chunk2Range);
        assertStatus(reply, 202);
        assert.notEqual(reply.header('Location'), '');
        assert.equal(reply.header('Range'), `0-${blob.size - 1}`);
        last = reply;
      });

      it('PUT with the digest answers 201 and the blob reads back whole', async () => {
        assert.ok(last);
        const reply = await client.send('PUT', last.relativeLocation(), { query: { digest: blob.digest }, headers: OCTET });
        assertBlobCreated(reply, name, blob.digest);
        const read = await client.send('GET', `/v2/${name}/blobs/${blob.digest}`);
        assertStatus(read, 200);
        assert.deepEqual(read.body, blob.content);
      });
    });
    chunkedFlow('no minimum chunk length', () => fx.blobB);
    chunkedFlow('chunks as large as a 1 MiB minimum asks', () => chunkedBlob(2 * 1024 * 1024 - 2));

    describe('Cross-Repository Blob Mount', () => {
      it('mounting an unknown blob without `from` answers 202 with a session', async () => {
        const reply = await client.send('POST', `/v2/${crossmount}/blobs/uploads/`, { query: { mount: fx.dummyDigest } });
        assertStatus(reply, 202);
        assert.match(reply.header('Location'), new RegExp(`^http://[^/]+/v2/${crossmount}/blobs/uploads/[^/]+$`));
      });

      it("mounting another repository's blob with `from` answers 201", async () => {
        const reply = await client.send('POST', `/v2/${crossmount}/blobs/uploads/`, { query: { mount: fx.blobA.digest, from: name } });
        assertBlobCreated(reply, crossmount, fx.blobA.digest);
        lastResponse = reply;
      });

      it('GET of the mounted blob in the cross-mount repository answers 200', async () => {
        assert.equal(lastResponse?.status, 201);
        assert.equal(lastResponse.relativeLocation(), `/v2/${crossmount}/blobs/${fx.blobA.digest}`);
        const reply = await client.send('GET', lastResponse.relativeLocation());
        assertStatus(reply, 200);
        assert.deepEqual(reply.body, fx.blobA.content);
      });

      it('mounting a blob that `from` does not hold falls back to a session', async () => {
        const reply = await client.send('POST', `/v2/${crossmount}/blobs/uploads/`, { query: { mount: fx.dummyDigest, from: name } });
        assertStatus(reply, 202);
        assert.ok(reply.relativeLocation().startsWith(`/v2/${crossmount}/blobs/uploads/`));
      });

      it('mounting without `from` finds the blob (automatic content discovery) and answers 201', async () => {
        assert.equal(lastResponse?.status, 201);
        const again = await client.send('POST', `/v2/${crossmount}/blobs/uploads/`, { query: { mount: fx.blobA.digest } });
        assertBlobCreated(again, crossmount, fx.blobA.digest);
        const fresh = `conformance-${randomUUID()}`;
        const reply = await client.send('POST', `/v2/${fresh}/blobs/uploads/`, { query: { mount: fx.blobA.digest } });
        assertBlobCreated(reply, fresh, fx.blobA.digest);
        const read = await client.send('GET', reply.relativeLocation());
        assertStatus(read, 200);
        assert.deepEqual(read.body, fx.blobA.content);
      });
    });

    describe('Manifest Upload', () => {
      it('GET of a nonexistent manifest answers 404', async () => {
        const reply = await client.send('GET', `/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`);
        assertStatus(reply, 404);
        assertErrorEnvelope(reply, 'MANIFEST_UNKNOWN');
      });

      it('PUT of a manifest under four tags answers 201 each time', async () => {
        for (let i = 0; i < 4; i++) {
          assertManifestCreated(await putManifest(client, name, `test${i}`, manifest1.content), name, manifest1.digest);
        }
      });

      it('accepts a manifest with no layers', async () => {
        const reply = await putManifest(client, name, EMPTY_LAYER_TAG, fx.emptyLayerManifest.content);
        assertManifestCreated(reply, name, fx.emptyLayerManifest.digest);
        emptyLayerManifestRef = reply.header('Location');
        assert.notEqual(emptyLayerManifestRef, '');
        const read = await client.send('GET', `/v2/${name}/manifests/${EMPTY_LAYER_TAG}`);
        assertStatus(read, 200);
        assert.deepEqual(read.body, fx.emptyLayerManifest.content);
      });

      it('GET of the manifest by digest answers 200', async () => {
        const reply = await client.send('GET', `/v2/${name}/manifests/${manifest1.digest}`, { headers: { Accept: OCI_MANIFEST } });
        assertStatus(reply, 200);
        assert.equal(reply.header('Content-Type'), OCI_MANIFEST);
        assert.deepEqual(reply.body, manifest1.content);
      });
    });

    describe('Teardown', () => {
      const deleted = async (path: string) => assertStatus(await client.send('DELETE', path), 202, `DELETE ${path}`);
      const deleteManifests = async () => {
        await deleted(`/v2/${name}/manifests/${manifest1.digest}`);
        if (emptyLayerManifestRef !== '') await deleted(`/v2/${name}/manifests/${fx.emptyLayerManifest.digest}`);
      };
      const deleteBlobs = async () => {
        await deleted(`/v2/${name}/blobs/${config1.digest}`);
        await deleted(`/v2/${name}/blobs/${fx.layer.digest}`);
      };

      it('deletes the manifests and blobs the tests created', async () => {
        if (deleteManifestBeforeBlobs) {
          await deleteManifests();
          await deleteBlobs();
        } else {
          await deleteBlobs();
          await deleteManifests();
        }
        for (const ref of ['test0', 'test3', EMPTY_LAYER_TAG, manifest1.digest, fx.emptyLayerManifest.digest]) {
          assertStatus(await client.send('GET', `/v2/${name}/manifests/${ref}`), 404, ref);
        }
        assertStatus(await client.send('GET', `/v2/${name}/blobs/${config1.digest}`), 404);
      });
    });
  });
}
