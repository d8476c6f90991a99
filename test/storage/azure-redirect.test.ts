/**
 * Blob reads on the azure driver through real Wharf processes configured by REGISTRY_* variables:
 * by default GET and HEAD answer 307 to a read-only SAS URL that azurite serves with the blob's
 * bytes; with storage.redirect.disable Wharf streams the blob itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { startAzurite, type RunningAzurite } from '../helpers/azurite.js';
import { sha256, TestClient } from '../helpers/client.js';

function azureEnv(azurite: RunningAzurite, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { REGISTRY_STORAGE: 'azure', ...extra };
  for (const [key, value] of Object.entries(azurite.parameters('/redirect'))) env[`REGISTRY_STORAGE_AZURE_${key.toUpperCase()}`] = String(value);
  return env;
}

describe('blob redirects on the azure driver', () => {
  let azurite: RunningAzurite;
  let redirecting: WharfProcess;
  let streaming: WharfProcess;

  before(async () => {
    azurite = await startAzurite();
    redirecting = await startWharfProcess(azureEnv(azurite));
    streaming = await startWharfProcess(azureEnv(azurite, { REGISTRY_STORAGE_REDIRECT_DISABLE: 'true' }));
  });
  after(async () => {
    await redirecting?.stop();
    await streaming?.stop();
    await azurite?.close();
  });

  it('answers blob GET and HEAD with 307 to a read-only SAS URL, valid 20 minutes, that serves the bytes', async () => {
    const client = new TestClient(redirecting.url);
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const blob = await client.pushBlob('az/redirect', content);
    const hex = blob.digest.slice('sha256:'.length);
    for (const method of ['GET', 'HEAD']) {
      const res = await client.request(`/v2/az/redirect/blobs/${blob.digest}`, { method });
      assert.equal(res.status, 307, method);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(`${location.origin}${location.pathname}`, `${azurite.serviceURL}/wharf/redirect/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`);
      assert.equal(location.searchParams.get('sp'), 'r', 'read permission only');
      assert.ok(location.searchParams.get('sig'), 'signed');
      const expiry = Date.parse(location.searchParams.get('se') ?? '');
      assert.ok(expiry > Date.now() + 15 * 60_000 && expiry <= Date.now() + 21 * 60_000, `expires in about 20 minutes: ${location.searchParams.get('se')}`);
      const fetched = await fetch(location, { method });
      assert.equal(fetched.status, 200);
      if (method === 'GET') assert.equal(sha256(Buffer.from(await fetched.arrayBuffer())), blob.digest);
      else assert.equal(fetched.headers.get('content-length'), String(content.length));
    }
    // The SAS grants reading only.
    const location = (await client.request(`/v2/az/redirect/blobs/${blob.digest}`)).headers.get('location') ?? '';
    const overwrite = await fetch(location, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    assert.equal(overwrite.status, 403);
  });

  it('streams the blob itself with storage.redirect.disable', async () => {
    const client = new TestClient(streaming.url);
    const content = randomBytes(2 * 1024 * 1024 + 5);
    const blob = await client.pushBlob('az/stream', content);
    const res = await client.request(`/v2/az/stream/blobs/${blob.digest}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), blob.digest);
    const ranged = await client.request(`/v2/az/stream/blobs/${blob.digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), content.subarray(10, 20));
  });
});
