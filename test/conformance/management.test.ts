/**
 * Conformance port, area 4: Content Management (OCI_TEST_CONTENT_MANAGEMENT): deleting a tag, a
 * manifest by digest and blobs, and what the registry answers afterwards; and the branches the
 * suite allows for a registry that refuses deletes (405 UNSUPPORTED, content left in place).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import {
  OCI_MANIFEST, RawClient, TEST_TAG, assertBlobCreated, assertErrorEnvelope, assertManifestCreated, assertStatus, at, makeFixtures,
  putManifest, uploadBlob,
} from './helpers.js';

interface TagList {
  name: string;
  tags: string[];
}

for (const deleteEnabled of [true, false]) {
  describe(`conformance: Content Management (deletes ${deleteEnabled ? 'enabled' : 'disabled'})`, () => {
    const name = 'conformance/management';
    const fx = makeFixtures();
    const config3 = at(fx.configs, 3);
    const manifest3 = at(fx.manifests, 3);
    let wharf: TestWharf;
    let client: RawClient;
    let tagToDelete = '';
    let numTags = 0;
    let blobDeleteAllowed = true;

    const tagList = async (): Promise<string[]> => {
      const reply = await client.send('GET', `/v2/${name}/tags/list`);
      assertStatus(reply, 200);
      const body = reply.json<TagList>();
      assert.equal(body.name, name);
      assert.ok(Array.isArray(body.tags));
      return body.tags;
    };

    before(async () => {
      wharf = await startTestWharf({ deleteEnabled });
      client = new RawClient(wharf.url);
    });
    after(async () => wharf.stop());

    describe('Setup', () => {
      it('populates the registry with a config, a layer and a tag', async () => {
        for (const blob of [config3, fx.layer]) assertBlobCreated(await uploadBlob(client, name, blob), name, blob.digest);
        tagToDelete = TEST_TAG;
        assertManifestCreated(await putManifest(client, name, tagToDelete, manifest3.content), name, manifest3.digest);
      });

      it('counts the tags before anything is deleted', async () => {
        const tags = await tagList();
        assert.deepEqual(tags, [TEST_TAG]);
        numTags = tags.length;
      });
    });

    describe('Manifest delete', () => {
      it(deleteEnabled ? 'DELETE of a tag answers 202 and removes only the tag' : 'DELETE of a tag answers 405 UNSUPPORTED', async () => {
        const reply = await client.send('DELETE', `/v2/${name}/manifests/${tagToDelete}`);
        if (deleteEnabled) {
          assertStatus(reply, 202);
          assertStatus(await client.send('GET', `/v2/${name}/manifests/${tagToDelete}`), 404);
          assertStatus(await client.send('GET', `/v2/${name}/manifests/${manifest3.digest}`), 200);
        } else {
          assertStatus(reply, 405);
          assertErrorEnvelope(reply, 'UNSUPPORTED');
        }
      });

      it(deleteEnabled ? 'DELETE of the manifest by digest answers 202' : 'DELETE of the manifest by digest answers 405 UNSUPPORTED', async () => {
        const reply = await client.send('DELETE', `/v2/${name}/manifests/${manifest3.digest}`);
        if (deleteEnabled) {
          assertStatus(reply, 202);
        } else {
          assertStatus(reply, 405);
          assertErrorEnvelope(reply, 'UNSUPPORTED');
        }
      });

      it(deleteEnabled ? 'GET of the deleted manifest answers 404' : 'GET of the manifest still answers 200', async () => {
        const reply = await client.send('GET', `/v2/${name}/manifests/${manifest3.digest}`, { headers: { Accept: OCI_MANIFEST } });
        if (deleteEnabled) {
          assertStatus(reply, 404);
          assertErrorEnvelope(reply, 'MANIFEST_UNKNOWN');
        } else {
          assertStatus(reply, 200);
          assert.deepEqual(reply.body, manifest3.content);
        }
      });

      it(deleteEnabled ? 'the tag list reflects the deletion' : 'the tag list is unchanged', async () => {
        const tags = await tagList();
        if (deleteEnabled) {
          assert.ok(tags.length < numTags);
          assert.ok(!tags.includes(tagToDelete));
        } else {
          assert.deepEqual(tags, [TEST_TAG]);
        }
      });
    });

    describe('Blob delete', () => {
      it(deleteEnabled ? 'DELETE of the config and layer blobs answers 202' : 'DELETE of a blob answers 405 UNSUPPORTED', async () => {
        for (const blob of [config3, fx.layer]) {
          const reply = await client.send('DELETE', `/v2/${name}/blobs/${blob.digest}`);
          if (deleteEnabled) {
            assertStatus(reply, 202);
          } else {
            assertStatus(reply, 405);
            assertErrorEnvelope(reply, 'UNSUPPORTED');
            blobDeleteAllowed = false;
          }
        }
      });

      it(deleteEnabled ? 'GET of a deleted blob answers 404' : 'GET of the blob still answers 200', async () => {
        const reply = await client.send('GET', `/v2/${name}/blobs/${config3.digest}`);
        if (blobDeleteAllowed) {
          assertStatus(reply, 404);
          assertErrorEnvelope(reply, 'BLOB_UNKNOWN');
          assertStatus(await client.send('DELETE', `/v2/${name}/blobs/${config3.digest}`), 404);
        } else {
          assertStatus(reply, 200);
          assert.deepEqual(reply.body, config3.content);
        }
      });
    });
  });
}
