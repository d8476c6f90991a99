/**
 * Conformance port, area 1: Pull (OCI_TEST_PULL). Run in each configuration the suite supports:
 * with its own setup and teardown in both delete orders (OCI_DELETE_MANIFEST_BEFORE_BLOBS), with
 * deletes disabled (teardown answers 405), and without setup against content already in the
 * registry (OCI_TAG_NAME + OCI_MANIFEST_DIGEST + OCI_BLOB_DIGEST).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient } from '../helpers/client.js';
import {
  NONEXISTENT_MANIFEST, OCI_MANIFEST, RawClient, TEST_TAG, assertBlobCreated, assertErrorEnvelope, assertManifestCreated,
  assertStatus, at, makeFixtures, putManifest, sha256, uploadBlob,
} from './helpers.js';

interface PullMode {
  readonly title: string;
  /** The suite pushes its own content (false: OCI_TAG_NAME and the digests come from the environment). */
  readonly runSetup: boolean;
  readonly deleteManifestBeforeBlobs: boolean;
  readonly deleteEnabled: boolean;
}

const MODES: readonly PullMode[] = [
  { title: 'with setup, manifests deleted before blobs', runSetup: true, deleteManifestBeforeBlobs: true, deleteEnabled: true },
  { title: 'with setup, blobs deleted before manifests', runSetup: true, deleteManifestBeforeBlobs: false, deleteEnabled: true },
  { title: 'with setup, deletes disabled', runSetup: true, deleteManifestBeforeBlobs: true, deleteEnabled: false },
  { title: 'without setup, on content named by the environment', runSetup: false, deleteManifestBeforeBlobs: true, deleteEnabled: true },
];

for (const mode of MODES) {
  describe(`conformance: Pull (${mode.title})`, () => {
    const name = 'conformance/pull';
    const fx = makeFixtures();
    let wharf: TestWharf;
    let client: RawClient;
    let tag = '';
    // What the checks pull: the suite's own content, or what the "environment" names.
    let configDigests: string[] = [at(fx.configs, 0).digest, at(fx.configs, 1).digest];
    let manifestDigests: string[] = [at(fx.manifests, 0).digest, at(fx.manifests, 1).digest];
    const contents = new Map<string, Buffer>();

    before(async () => {
      wharf = await startTestWharf({ deleteEnabled: mode.deleteEnabled });
      client = new RawClient(wharf.url);
      for (const blob of [...fx.configs, ...fx.manifests]) contents.set(blob.digest, blob.content);
    });
    after(async () => wharf.stop());

    describe('Setup', () => {
      if (mode.runSetup) {
        it('populates the registry with config blobs 0 and 1 and the layer', async () => {
          for (const blob of [at(fx.configs, 0), at(fx.configs, 1), fx.layer]) {
            assertBlobCreated(await uploadBlob(client, name, blob), name, blob.digest);
          }
        });

        it('populates the registry with manifest 0 by tag and manifest 1 by digest', async () => {
          tag = TEST_TAG;
          const m0 = at(fx.manifests, 0);
          const m1 = at(fx.manifests, 1);
          assertManifestCreated(await putManifest(client, name, tag, m0.content), name, m0.digest);
          assertManifestCreated(await putManifest(client, name, m1.digest, m1.content), name, m1.digest);
        });
      } else {
        it('takes the tag and digests of content already in the registry', async () => {
          const pushed = await new TestClient(wharf.url).pushImage(name, 'from-environment');
          tag = 'from-environment';
          configDigests = [pushed.config.digest, pushed.config.digest];
          manifestDigests = [pushed.digest, pushed.digest];
          const config = (await client.send('GET', `/v2/${name}/blobs/${pushed.config.digest}`)).body;
          assert.equal(sha256(config), pushed.config.digest);
          contents.set(pushed.config.digest, config);
          contents.set(pushed.digest, Buffer.from(JSON.stringify(pushed.manifest)));
        });
      }
    });

    describe('Pull blobs', () => {
      it('HEAD of a nonexistent blob answers 404', async () => {
        const reply = await client.send('HEAD', `/v2/${name}/blobs/${fx.dummyDigest}`);
        assertStatus(reply, 404);
        assert.equal(reply.body.length, 0);
      });

      it('HEAD of an existing blob answers 200 with its digest and size', async () => {
        const digest = at(configDigests, 0);
        const reply = await client.send('HEAD', `/v2/${name}/blobs/${digest}`);
        assertStatus(reply, 200);
        assert.equal(reply.header('Docker-Content-Digest'), digest);
        assert.equal(reply.header('Content-Length'), String(contents.get(digest)?.length));
        assert.equal(reply.body.length, 0);
      });

      it('GET of a nonexistent blob answers 404 BLOB_UNKNOWN', async () => {
        const reply = await client.send('GET', `/v2/${name}/blobs/${fx.dummyDigest}`);
        assertStatus(reply, 404);
        assertErrorEnvelope(reply, 'BLOB_UNKNOWN');
      });

      it('GET of an existing blob answers 200 with its bytes', async () => {
        const digest = at(configDigests, 0);
        const reply = await client.send('GET', `/v2/${name}/blobs/${digest}`);
        assertStatus(reply, 200);
        assert.equal(reply.header('Docker-Content-Digest'), digest);
        assert.deepEqual(reply.body, contents.get(digest));
      });
    });

    describe('Pull manifests', () => {
      const accept = { Accept: OCI_MANIFEST };

      it('HEAD of a nonexistent manifest answers 404', async () => {
        const reply = await client.send('HEAD', `/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`, { headers: accept });
        assertStatus(reply, 404);
        assert.equal(reply.body.length, 0);
      });

      for (const i of [0, 1]) {
        it(`HEAD of manifest ${i} by digest answers 200 with its digest, type and size`, async () => {
          const digest = at(manifestDigests, i);
          const reply = await client.send('HEAD', `/v2/${name}/manifests/${digest}`, { headers: accept });
          assertStatus(reply, 200);
          assert.equal(reply.header('Docker-Content-Digest'), digest);
          assert.equal(reply.header('Content-Type'), OCI_MANIFEST);
          assert.equal(reply.header('Content-Length'), String(contents.get(digest)?.length));
          assert.equal(reply.body.length, 0);
        });
      }

      it('HEAD of the manifest by tag answers 200 with the digest of manifest 0', async () => {
        assert.notEqual(tag, '');
        const reply = await client.send('HEAD', `/v2/${name}/manifests/${tag}`, { headers: accept });
        assertStatus(reply, 200);
        assert.equal(reply.header('Docker-Content-Digest'), at(manifestDigests, 0));
      });

      it('GET of a nonexistent manifest answers 404', async () => {
        const reply = await client.send('GET', `/v2/${name}/manifests/${NONEXISTENT_MANIFEST}`, { headers: accept });
        assertStatus(reply, 404);
        assertErrorEnvelope(reply, 'MANIFEST_UNKNOWN');
      });

      for (const i of [0, 1]) {
        it(`GET of manifest ${i} by digest answers 200 with the exact bytes pushed`, async () => {
          const digest = at(manifestDigests, i);
          const reply = await client.send('GET', `/v2/${name}/manifests/${digest}`, { headers: accept });
          assertStatus(reply, 200);
          assert.equal(reply.header('Content-Type'), OCI_MANIFEST);
          assert.equal(reply.header('Docker-Content-Digest'), digest);
          assert.deepEqual(reply.body, contents.get(digest));
        });
      }

      it('GET of the manifest by tag answers 200 with manifest 0', async () => {
        assert.notEqual(tag, '');
        const reply = await client.send('GET', `/v2/${name}/manifests/${tag}`, { headers: accept });
        assertStatus(reply, 200);
        assert.equal(reply.header('Docker-Content-Digest'), at(manifestDigests, 0));
        assert.deepEqual(reply.body, contents.get(at(manifestDigests, 0)));
      });
    });

    describe('Error codes', () => {
      it('a malformed digest answers 400 with an OCI error body', async () => {
        const reply = await client.send('GET', `/v2/${name}/manifests/sha256:totallywrong`, {
          headers: { 'Content-Type': OCI_MANIFEST },
          body: fx.invalidManifest,
        });
        assertStatus(reply, 400);
        assertErrorEnvelope(reply, 'DIGEST_INVALID');
      });
    });

    if (!mode.runSetup) return;

    describe('Teardown', () => {
      const deleteOk = async (path: string): Promise<void> => {
        const reply = await client.send('DELETE', path);
        if (mode.deleteEnabled) {
          assertStatus(reply, 202, `DELETE ${path}`);
        } else {
          assertStatus(reply, 405, `DELETE ${path}`);
          assertErrorEnvelope(reply, 'UNSUPPORTED');
        }
      };
      const deleteManifests = async () => {
        for (const m of [at(fx.manifests, 0), at(fx.manifests, 1)]) await deleteOk(`/v2/${name}/manifests/${m.digest}`);
      };
      const deleteBlobs = async () => {
        for (const b of [at(fx.configs, 0), at(fx.configs, 1), fx.layer]) await deleteOk(`/v2/${name}/blobs/${b.digest}`);
      };

      it(`deletes what setup created (${mode.deleteManifestBeforeBlobs ? 'manifests first' : 'blobs first'})`, async () => {
        if (mode.deleteManifestBeforeBlobs) {
          await deleteManifests();
          await deleteBlobs();
        } else {
          await deleteBlobs();
          await deleteManifests();
        }
      });

      it(mode.deleteEnabled ? 'leaves nothing to pull' : 'leaves everything in place', async () => {
        const expected = mode.deleteEnabled ? 404 : 200;
        for (const m of fx.manifests.slice(0, 2)) assertStatus(await client.send('GET', `/v2/${name}/manifests/${m.digest}`), expected);
        assertStatus(await client.send('GET', `/v2/${name}/manifests/${TEST_TAG}`), expected);
        for (const b of [at(fx.configs, 0), at(fx.configs, 1), fx.layer]) assertStatus(await client.send('GET', `/v2/${name}/blobs/${b.digest}`), expected);
      });
    });
  });
}
