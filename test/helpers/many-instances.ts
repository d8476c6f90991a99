/**
 * Three Wharf processes on one object store (s3rver, azurite), with no shared secret and no sticky
 * sessions: the chunks of one upload go to each instance in turn, several clients push at once
 * through different instances, and every instance serves every blob (by redirect to the store,
 * which is on by default) with its digest intact. Each store's test file calls manyInstancesSuite.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startWharfProcess, type WharfProcess } from './process.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { PathNotFoundError } from '../../src/storage/driver.js';
import { collect } from '../../src/storage/testing/driver-suite.js';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256, TestClient, type Descriptor } from './client.js';

const MiB = 1024 * 1024;

export interface SharedStore {
  /** The REGISTRY_* variables that put a Wharf process on the store, all under one root. */
  readonly env: Record<string, string>;
  /** A driver on the same root, to check what is left behind. */
  driver(): Promise<StorageDriver>;
  close(): Promise<void>;
}

export interface StoreUnderTest {
  /** As in the test names: "S3 bucket (s3rver)". */
  readonly name: string;
  start(): Promise<SharedStore>;
  /** The store's unit of upload (S3 part, Azure block): the test's sizes cross its boundaries. */
  readonly part: number;
  /** The OCI-Chunk-Min-Length instances advertise (null for none). */
  readonly chunkMinLength: string | null;
  /** What a presigned redirect URL of the store carries. */
  readonly signature: RegExp;
}

function pathOf(location: string): string {
  return location.startsWith('http') ? new URL(location).pathname + new URL(location).search : location;
}

export function manyInstancesSuite(store: StoreUnderTest): void {
  describe(`three instances on one ${store.name}`, () => {
    const PART = store.part;
    let shared: SharedStore;
    const instances: WharfProcess[] = [];
    const clients: TestClient[] = [];

    before(async () => {
      shared = await store.start();
      for (let i = 0; i < 3; i++) instances.push(await startWharfProcess(shared.env));
      clients.push(...instances.map((w) => new TestClient(w.url)));
    });
    after(async () => {
      for (const w of instances) await w.stop();
      await shared?.close();
    });

    /** GET a blob from an instance, following the redirect to the store; returns its sha256. */
    async function pulledDigest(client: TestClient, name: string, digest: string): Promise<string> {
      const res = await client.request(`/v2/${name}/blobs/${digest}`);
      assert.equal(res.status, 307, 'blob GETs redirect to the store by default');
      const location = res.headers.get('location') ?? '';
      assert.match(location, store.signature, 'the redirect is a presigned URL');
      const fetched = await fetch(location);
      assert.equal(fetched.status, 200);
      return sha256(Buffer.from(await fetched.arrayBuffer()));
    }

    it('takes the chunks of one upload on each instance in turn, and advertises its minimum chunk length', async () => {
      const name = 'many/chunked';
      const content = randomBytes(3 * PART + 1_234_567);
      const digest = sha256(content);
      const start = await clients[0]!.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      assert.equal(start.headers.get('oci-chunk-min-length'), store.chunkMinLength);
      let location = pathOf(start.headers.get('location') ?? '');
      // Chunks smaller than a part, larger than one, and odd: every part boundary falls inside a chunk.
      const sizes = [1 * MiB, 7 * MiB + 3, 2 * MiB, 333_333, 6 * MiB];
      let offset = 0;
      for (let i = 0; offset < content.length; i++) {
        const chunk = content.subarray(offset, offset + sizes[i % sizes.length]!);
        const target = clients[i % 3]!;
        const res = await target.request(location, {
          method: 'PATCH',
          body: chunk,
          headers: { 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(res.status, 202, `chunk ${i} on instance ${i % 3}: ${await res.text()}`);
        offset += chunk.length;
        assert.equal(res.headers.get('range'), `0-${offset - 1}`);
        location = pathOf(res.headers.get('location') ?? '');
        // Another instance reports the same progress.
        const status = await clients[(i + 1) % 3]!.request(location);
        assert.equal(status.status, 204);
        assert.equal(status.headers.get('range'), `0-${offset - 1}`);
      }
      const put = await clients[2]!.request(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      for (const client of clients) {
        const head = await client.request(`/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(head.status === 307 || head.status === 200, true);
        assert.equal(await pulledDigest(client, name, digest), digest);
      }
    });

    it('takes concurrent pushes through different instances and serves every image from every instance', async () => {
      const pushers = 6;
      const pushed = await Promise.all(
        Array.from({ length: pushers }, async (_, p) => {
          const name = `many/client${p}`;
          const blobs: Descriptor[] = [];
          // Each client starts its uploads on one instance and finishes them on the next.
          for (const [content, mediaType] of [
            [Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: p })), OCI_CONFIG],
            [randomBytes(PART + 4097 * (p + 1)), OCI_LAYER],
            [randomBytes(300_000 + p), OCI_LAYER],
          ] as const) {
            const first = clients[p % 3]!;
            const second = clients[(p + 1) % 3]!;
            const start = await first.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
            assert.equal(start.status, 202);
            const half = Math.floor(content.length / 2);
            const patch = await first.request(pathOf(start.headers.get('location') ?? ''), {
              method: 'PATCH',
              body: content.subarray(0, half),
              headers: { 'Content-Range': `0-${half - 1}`, 'Content-Type': 'application/octet-stream' },
            });
            assert.equal(patch.status, 202);
            const next = pathOf(patch.headers.get('location') ?? '');
            const digest = sha256(content);
            const put = await second.request(`${next}${next.includes('?') ? '&' : '?'}digest=${digest}`, {
              method: 'PUT',
              body: content.subarray(half),
              headers: { 'Content-Range': `${half}-${content.length - 1}`, 'Content-Type': 'application/octet-stream' },
            });
            assert.equal(put.status, 201, await put.text());
            blobs.push({ mediaType, digest, size: content.length });
          }
          const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: blobs[0]!, layers: blobs.slice(1) };
          await clients[(p + 2) % 3]!.pushManifest(name, 'latest', manifest);
          return { name, manifest: JSON.stringify(manifest), blobs };
        }),
      );
      for (const image of pushed) {
        for (const client of clients) {
          const res = await client.request(`/v2/${image.name}/manifests/latest`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get('docker-content-digest'), sha256(image.manifest));
          for (const blob of image.blobs) assert.equal(await pulledDigest(client, image.name, blob.digest), blob.digest);
        }
      }
      for (const client of clients) {
        const catalog = (await (await client.request('/v2/_catalog?n=100')).json()) as { repositories: string[] };
        for (const image of pushed) assert.ok(catalog.repositories.includes(image.name), `${image.name} in the catalog`);
        assert.ok(catalog.repositories.includes('many/chunked'));
      }
      // No upload is left behind.
      const driver = await shared.driver();
      for (const image of pushed) {
        await assert.rejects(collect(driver.list(`/docker/registry/v2/repositories/${image.name}/_uploads`)), PathNotFoundError);
      }
    });

    it('resumes an upload on another instance after its first instance is stopped', async () => {
      const name = 'many/resume';
      const content = randomBytes(PART + 99);
      const start = await clients[0]!.request(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
      const patch = await clients[0]!.request(pathOf(start.headers.get('location') ?? ''), {
        method: 'PATCH',
        body: content.subarray(0, 1000),
        headers: { 'Content-Range': '0-999', 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(patch.status, 202);
      const location = pathOf(patch.headers.get('location') ?? '');
      await instances[0]!.stop();
      const digest = createHash('sha256').update(content).digest('hex');
      const put = await clients[1]!.request(`${location}${location.includes('?') ? '&' : '?'}digest=sha256:${digest}`, {
        method: 'PUT',
        body: content.subarray(1000),
        headers: { 'Content-Range': `1000-${content.length - 1}`, 'Content-Type': 'application/octet-stream' },
      });
      assert.equal(put.status, 201, await put.text());
      assert.equal(await pulledDigest(clients[2]!, name, `sha256:${digest}`), `sha256:${digest}`);
    });
  });
}
