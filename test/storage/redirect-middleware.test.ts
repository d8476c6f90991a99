import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { RedirectMiddleware } from '../../src/storage/middleware/redirect-middleware.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient } from '../helpers/client.js';
import { load, problemsOf } from '../config/helpers.js';

describe('the redirect storage middleware', () => {
  let wharf: TestWharf;
  let client: TestClient;
  before(async () => {
    wharf = await startTestWharf({ driver: wrapDriver(new RedirectMiddleware(new MemoryDriver(), 'https://cdn.example.test/registry/')) });
    client = new TestClient(wharf.url);
  });
  after(async () => {
    await wharf.stop();
  });

  it('answers blob GET and HEAD with 307 to baseurl + the storage path', async () => {
    const blob = await client.pushBlob('mw/repo', Buffer.from('layer bytes'));
    const hex = blob.digest.slice('sha256:'.length);
    for (const method of ['GET', 'HEAD']) {
      const res = await client.request(`/v2/mw/repo/blobs/${blob.digest}`, { method });
      assert.equal(res.status, 307, method);
      assert.equal(res.headers.get('location'), `https://cdn.example.test/registry/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`);
    }
    // Manifests and uploads still go to the driver below.
    const pushed = await client.pushImage('mw/repo', 'latest');
    assert.equal((await client.request('/v2/mw/repo/manifests/latest')).status, 200);
    assert.ok(pushed.digest);
  });

  it('is configured as distribution configures it; other middleware stays refused', async () => {
    const { config } = await load('version: 0.1\nstorage: inmemory\nmiddleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: https://cdn.example.test/r\n');
    assert.deepEqual(config.middleware, { redirectBaseURL: 'https://cdn.example.test/r' });
    assert.deepEqual(await problemsOf('version: 0.1\nstorage: inmemory\nmiddleware:\n  storage:\n    - name: redirect\n      options: {}\n'), [
      'middleware: middleware.storage redirect needs options.baseurl (a URL)',
    ]);
    const cloudfront = await problemsOf('version: 0.1\nstorage: inmemory\nmiddleware:\n  storage:\n    - name: cloudfront\n      options:\n        baseurl: https://d.cloudfront.net\n');
    assert.equal(cloudfront.length, 1);
    assert.match(cloudfront[0] ?? '', /middleware other than the redirect storage middleware .* is not supported yet/);
  });
});
