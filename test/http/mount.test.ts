/**
 * Cross-repository mount (end-11): with `from` (201 or fall back to 202), without `from`
 * (automatic content discovery), and bad parameters.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, errorCode, sha256, sha512 } from '../helpers/client.js';

let wharf: TestWharf;
let client: TestClient;

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

function mount(name: string, query: string): Promise<Response> {
  return client.request(`/v2/${name}/blobs/uploads/?${query}`, { method: 'POST' });
}

async function assertFallback(res: Response, name: string): Promise<void> {
  assert.equal(res.status, 202);
  const location = res.headers.get('location') ?? '';
  assert.match(location, new RegExp(`/v2/${name}/blobs/uploads/[^/]+$`));
  assert.ok(res.headers.get('docker-upload-uuid'));
  assert.equal(res.headers.get('range'), '0-0');
  // The fallback is a normal session: it can be completed.
  const content = randomBytes(32);
  const put = await client.request(`${location}?digest=${sha256(content)}`, { method: 'PUT', body: content });
  assert.equal(put.status, 201);
}

describe('mount with from', () => {
  it('blob in `from` → 201 + Location + Docker-Content-Digest; the target serves it', async () => {
    const content = randomBytes(1234);
    const { digest } = await client.pushBlob('mount/src', content);
    const res = await mount('mount/dst', `mount=${digest}&from=mount/src`);
    assert.equal(res.status, 201);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/mount/dst/blobs/${digest}$`));
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.equal(res.headers.get('docker-upload-uuid'), null);
    const get = await client.request(`/v2/mount/dst/blobs/${digest}`);
    assert.equal(get.status, 200);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('a sha512 blob mounts too', async () => {
    const content = randomBytes(99);
    const digest = sha512(content);
    const push = await client.request(`/v2/mount/src512/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content });
    assert.equal(push.status, 201);
    const res = await mount('mount/dst512', `mount=${digest}&from=mount/src512`);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
  });

  it('blob not in `from` (though stored elsewhere) → 202 with a normal session', async () => {
    const { digest } = await client.pushBlob('mount/holder', randomBytes(50));
    await client.pushImage('mount/empty-src', 'x');
    const res = await mount('mount/dst2', `mount=${digest}&from=mount/empty-src`);
    await assertFallback(res, 'mount/dst2');
    const get = await client.request(`/v2/mount/dst2/blobs/${digest}`);
    assert.equal(get.status, 404, 'nothing was mounted');
    await get.arrayBuffer();
  });

  it('`from` that does not exist → 202', async () => {
    const { digest } = await client.pushBlob('mount/holder', randomBytes(50));
    await assertFallback(await mount('mount/dst3', `mount=${digest}&from=mount/nowhere`), 'mount/dst3');
  });

  it('`from` that is not a valid name → 202 (nothing looked up)', async () => {
    const { digest } = await client.pushBlob('mount/holder', randomBytes(50));
    await assertFallback(await mount('mount/dst4', `mount=${digest}&from=${encodeURIComponent('../Mount/HOLDER')}`), 'mount/dst4');
  });
});

describe('mount without from (automatic content discovery)', () => {
  it('blob stored in some repository → 201', async () => {
    const content = randomBytes(500);
    const { digest } = await client.pushBlob('mount/anywhere', content);
    const res = await mount('mount/auto', `mount=${digest}`);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    assert.match(res.headers.get('location') ?? '', new RegExp(`/v2/mount/auto/blobs/${digest}$`));
    const get = await client.request(`/v2/mount/auto/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), content);
  });

  it('blob stored nowhere → 202 with a session', async () => {
    await assertFallback(await mount('mount/auto2', `mount=${sha256('never pushed')}`), 'mount/auto2');
  });
});

describe('mount with bad parameters', () => {
  for (const bad of ['sha256:short', 'md5:d41d8cd98f00b204e9800998ecf8427e', `sha256:${'A'.repeat(64)}`, 'nocolon']) {
    it(`mount=${bad} → 400 DIGEST_INVALID`, async () => {
      const res = await mount('mount/bad', `mount=${encodeURIComponent(bad)}&from=mount/src`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'DIGEST_INVALID');
    });
  }

  it('an empty mount parameter → 400 DIGEST_INVALID', async () => {
    const res = await mount('mount/bad', 'mount=&from=mount/src');
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
  });
});
