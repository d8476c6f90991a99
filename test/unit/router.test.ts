/** Unit tests of src/http/router.ts over the route table of src/http/routes.ts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute } from '../../src/http/router.js';

const D = `sha256:${'a'.repeat(64)}`;

function found(method: string, path: string) {
  const m = matchRoute(method, path);
  assert.equal(m.kind, 'found', `${method} ${path}: ${m.kind}`);
  return m.kind === 'found' ? m : assert.fail();
}

describe('matchRoute', () => {
  const cases: [string, string, string, Record<string, string>][] = [
    ['GET', '/', 'liveness', {}],
    ['GET', '/v2/', 'base', {}],
    ['GET', '/v2', 'base', {}],
    ['HEAD', '/v2/', 'base', {}],
    ['GET', '/v2/_catalog', 'catalog', {}],
    ['GET', '/v2/library/alpine/tags/list', 'listTags', { name: 'library/alpine' }],
    ['GET', '/v2/a/manifests/latest', 'getManifest', { name: 'a', reference: 'latest' }],
    ['HEAD', `/v2/a/b/manifests/${D}`, 'getManifest', { name: 'a/b', reference: D }],
    ['PUT', '/v2/a/manifests/v1', 'putManifest', { name: 'a', reference: 'v1' }],
    ['DELETE', '/v2/a/manifests/v1', 'deleteManifest', { name: 'a', reference: 'v1' }],
    ['POST', '/v2/a/blobs/uploads/', 'startUpload', { name: 'a' }],
    ['POST', '/v2/a/blobs/uploads', 'startUpload', { name: 'a' }],
    ['GET', '/v2/a/blobs/uploads/id-1', 'uploadStatus', { name: 'a', uuid: 'id-1' }],
    ['HEAD', '/v2/a/blobs/uploads/id-1', 'uploadStatus', { name: 'a', uuid: 'id-1' }],
    ['PATCH', '/v2/a/blobs/uploads/id-1', 'appendUpload', { name: 'a', uuid: 'id-1' }],
    ['PUT', '/v2/a/blobs/uploads/id-1', 'completeUpload', { name: 'a', uuid: 'id-1' }],
    ['DELETE', '/v2/a/blobs/uploads/id-1', 'cancelUpload', { name: 'a', uuid: 'id-1' }],
    ['GET', `/v2/a/blobs/${D}`, 'getBlob', { name: 'a', digest: D }],
    ['HEAD', `/v2/a/blobs/${D}`, 'getBlob', { name: 'a', digest: D }],
    ['DELETE', `/v2/a/blobs/${D}`, 'deleteBlob', { name: 'a', digest: D }],
    ['GET', `/v2/a/referrers/${D}`, 'listReferrers', { name: 'a', digest: D }],
    // Names holding route words.
    ['GET', '/v2/x/manifests/manifests/latest', 'getManifest', { name: 'x/manifests', reference: 'latest' }],
    ['GET', '/v2/x/manifests/tags/list', 'listTags', { name: 'x/manifests' }],
    ['GET', `/v2/x/blobs/blobs/${D}`, 'getBlob', { name: 'x/blobs', digest: D }],
    ['POST', '/v2/x/blobs/uploads/blobs/uploads/', 'startUpload', { name: 'x/blobs/uploads' }],
    ['PATCH', '/v2/x/blobs/uploads/blobs/uploads/u1', 'appendUpload', { name: 'x/blobs/uploads', uuid: 'u1' }],
    ['GET', `/v2/x/blobs/uploads/blobs/${D}`, 'getBlob', { name: 'x/blobs/uploads', digest: D }],
    ['GET', '/v2/x/tags/list/tags/list', 'listTags', { name: 'x/tags/list' }],
    ['GET', '/v2/x/tags/manifests/list', 'getManifest', { name: 'x/tags', reference: 'list' }],
    ['GET', `/v2/x/referrers/referrers/${D}`, 'listReferrers', { name: 'x/referrers', digest: D }],
    ['GET', `/v2/x/manifests/referrers/${D}`, 'listReferrers', { name: 'x/manifests', digest: D }],
    ['GET', '/v2/_catalog/manifests/latest', 'getManifest', { name: '_catalog', reference: 'latest' }],
  ];
  for (const [method, path, handler, params] of cases) {
    it(`${method} ${path} → ${handler}`, () => {
      const m = found(method, path);
      assert.equal(m.handler, handler);
      assert.deepEqual({ ...m.params }, params);
    });
  }

  it('a known path with a method it lacks → method-not-allowed with the allowed methods', () => {
    const m = matchRoute('POST', '/v2/a/tags/list');
    assert.equal(m.kind, 'method-not-allowed');
    assert.deepEqual(m.kind === 'method-not-allowed' && m.allowed, ['GET']);
    const patchBlob = matchRoute('PATCH', `/v2/a/blobs/${D}`);
    assert.equal(patchBlob.kind, 'method-not-allowed');
    assert.equal(matchRoute('OPTIONS', '/v2/').kind, 'method-not-allowed');
    assert.equal(matchRoute('BREW', '/v2/').kind, 'method-not-allowed');
  });

  it('unknown paths → not-found', () => {
    for (const path of ['', '/v1/', '/v2/a', '/v2/a/manifests/', '/v2/a/manifests/a/b', '/v2/a/blobs/', '/v2/a/tags', '/v2/a/tags/list/', '/v2/a/referrers/', '/v3/_catalog', '/v2/_catalog/']) {
      assert.equal(matchRoute('GET', path).kind, 'not-found', path);
    }
  });

  it('names are captured undecoded, for the name grammar to refuse', () => {
    assert.equal(found('GET', '/v2/a/%2e%2e/b/tags/list').params.name, 'a/%2e%2e/b');
    assert.equal(found('GET', '/v2/a/../b/tags/list').params.name, 'a/../b');
    assert.equal(found('GET', '/v2/a//b/tags/list').params.name, 'a//b');
  });
});
