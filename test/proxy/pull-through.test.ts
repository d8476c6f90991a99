/**
 * The pull-through cache in-process, against another Wharf as its upstream behind a counting gate:
 * cold and warm pulls, the upstream stopped or answering 429, one upstream fetch for 20
 * concurrent pulls of a cold blob, tag freshness, TTL expiry, `?ns=` routing, tags lists,
 * referrers and HEAD through the cache, pushes beside it, and two instances on one storage.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_MANIFEST, TestClient, errorCode, sha256 } from '../helpers/client.js';
import { bodyDigest, startCache, startGate, upstream, type CacheUnderTest, type Gate } from './helpers.js';
import { STALE_WARNING } from '../../src/http/notices.js';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { sweepExpired, sweepInterval } from '../../src/proxy/expiry.js';
import { CacheState } from '../../src/proxy/cache-state.js';
import { StorageRegistry } from '../../src/registry/storage-registry.js';

let origin: TestWharf;
let gate: Gate;
let originClient: TestClient;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  origin = await startTestWharf();
  gate = await startGate(origin.url);
  originClient = new TestClient(origin.url);
});
after(async () => {
  await gate.close();
  await origin.stop(0);
});

describe('cold and warm pulls', () => {
  let cache: CacheUnderTest;
  let client: TestClient;
  let image: Awaited<ReturnType<TestClient['pushImage']>>;
  before(async () => {
    image = await originClient.pushImage('team/app', 'v1', { layers: 2, layerSize: 300_000 });
    cache = await startCache([upstream('origin', gate.url, { prefixes: ['mirror/'], freshnessMs: 60_000 })]);
    client = new TestClient(cache.url);
  });
  after(() => cache.stop(0));

  it('fetches a missing manifest and its blobs from the upstream, then serves them locally', async () => {
    const res = await client.request('/v2/mirror/team/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), image.digest);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), image.digest);
    for (const layer of [image.config, ...image.layers]) {
      const blob = await client.request(`/v2/mirror/team/app/blobs/${layer.digest}`);
      assert.equal(blob.status, 200);
      assert.equal(await bodyDigest(blob), layer.digest);
    }
    const fetched = gate.total(/^GET \/v2\/team\/app\/(blobs|manifests)\//);
    assert.equal(fetched, 4, 'one manifest and three blobs fetched');
    const asked = gate.total(/^(GET|HEAD) \/v2\/team\/app\//);
    // Warm: the same pulls ask the upstream nothing (the tag is fresh).
    const again = await client.request('/v2/mirror/team/app/manifests/v1');
    assert.equal(again.status, 200);
    await again.arrayBuffer();
    for (const layer of image.layers) await (await client.request(`/v2/mirror/team/app/blobs/${layer.digest}`)).arrayBuffer();
    assert.equal(gate.total(/^(GET|HEAD) \/v2\/team\/app\//), asked);
    // Stored under the routed name, in distribution's layout.
    const stored = await cache.driver.getContent(`/docker/registry/v2/repositories/mirror/team/app/_manifests/tags/v1/current/link`);
    assert.equal(stored.toString(), image.digest);
  });

  it('emits one pull-through event per fetched item, naming the upstream', () => {
    assert.equal(cache.events.length, 4);
    const manifest = cache.events.find((e) => e.kind === 'manifest');
    assert.equal(manifest?.upstream.name, 'origin');
    assert.equal(manifest?.upstream.repository, 'team/app');
    assert.equal(manifest?.repository, 'mirror/team/app');
    assert.equal(manifest?.tag, 'v1');
  });

  it('answers HEAD of a cold manifest and a cold blob through the cache', async () => {
    const other = await originClient.pushImage('team/head', 'v1');
    const head = await client.request('/v2/mirror/team/head/manifests/v1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), other.digest);
    const blob = await client.request(`/v2/mirror/team/head/blobs/${other.layers[0]?.digest}`, { method: 'HEAD' });
    assert.equal(blob.status, 200);
    assert.equal(blob.headers.get('content-length'), String(other.layers[0]?.size));
    assert.equal(gate.count('GET', `/v2/team/head/blobs/${other.layers[0]?.digest}`), 0, 'a HEAD fetches nothing');
  });

  it('answers 404 MANIFEST_UNKNOWN and BLOB_UNKNOWN for what the upstream does not have', async () => {
    const res = await client.request('/v2/mirror/team/app/manifests/nope');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
    const blob = await client.request(`/v2/mirror/team/app/blobs/${sha256('missing')}`);
    assert.equal(blob.status, 404);
    assert.equal(await errorCode(blob), 'BLOB_UNKNOWN');
  });

  it('lists tags and referrers through the cache', async () => {
    await originClient.pushManifest('team/app', 'v2', image.manifest);
    const tags = await client.request('/v2/mirror/team/app/tags/list');
    assert.equal(tags.status, 200);
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1', 'v2']);
    const signature = await originClient.pushImage('team/app', 'sig', { subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size }, artifactType: 'application/example.sig' });
    const referrers = await client.request(`/v2/mirror/team/app/referrers/${image.digest}`);
    assert.equal(referrers.status, 200);
    const index = (await referrers.json()) as { manifests: { digest: string }[] };
    assert.deepEqual(index.manifests.map((m) => m.digest), [signature.digest]);
  });

  it('refuses pushes to a cached repository and takes them beside it', async () => {
    const refused = await client.request('/v2/mirror/team/app/blobs/uploads/', { method: 'POST' });
    assert.equal(refused.status, 405);
    assert.equal(await errorCode(refused), 'UNSUPPORTED');
    const put = await client.request('/v2/mirror/team/app/manifests/v9', { method: 'PUT', body: JSON.stringify(image.manifest), headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 405);
    const own = await client.pushImage('own/app', 'v1');
    const pulled = await client.request('/v2/own/app/manifests/v1');
    assert.equal(pulled.status, 200);
    assert.equal(pulled.headers.get('docker-content-digest'), own.digest);
    assert.equal(gate.total(/\/v2\/own\//), 0, 'private repositories never reach the upstream');
  });
});

describe('writable cache (hybrid)', () => {
  it('takes pushes into a cached repository when its upstream is writable, and lists both tag sets', async () => {
    await originClient.pushImage('hybrid/app', 'up');
    const cache = await startCache([upstream('origin', gate.url, { prefixes: ['w/'], writable: true })]);
    try {
      const client = new TestClient(cache.url);
      await client.pushImage('w/hybrid/app', 'local');
      const tags = await client.request('/v2/w/hybrid/app/tags/list');
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['local', 'up']);
      assert.equal((await client.request('/v2/w/hybrid/app/manifests/local')).status, 200);
      assert.equal((await client.request('/v2/w/hybrid/app/manifests/up')).status, 200);
    } finally {
      await cache.stop(0);
    }
  });
});

describe('upstream failures', () => {
  let cache: CacheUnderTest;
  let client: TestClient;
  let image: Awaited<ReturnType<TestClient['pushImage']>>;
  before(async () => {
    image = await originClient.pushImage('fail/app', 'v1');
    // freshness 0: every tag pull asks the upstream, as distribution's proxy does.
    cache = await startCache([upstream('origin', gate.url, { prefixes: ['f/'], freshnessMs: 0 })]);
    client = new TestClient(cache.url);
    const warm = await client.request('/v2/f/fail/app/manifests/v1');
    assert.equal(warm.status, 200);
    await warm.arrayBuffer();
    for (const layer of image.layers) await (await client.request(`/v2/f/fail/app/blobs/${layer.digest}`)).arrayBuffer();
  });
  after(async () => {
    gate.mode = 'pass';
    await cache.stop(0);
  });

  for (const mode of ['429', '503'] as const) {
    it(`serves the cached copy with a Warning when the upstream answers ${mode}`, async () => {
      gate.mode = mode;
      const before = gate.count('HEAD', '/v2/fail/app/manifests/v1');
      const res = await client.request('/v2/f/fail/app/manifests/v1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      assert.equal(res.headers.get('warning'), STALE_WARNING);
      assert.equal(gate.count('HEAD', '/v2/fail/app/manifests/v1'), before + 1, 'the upstream was asked');
      const blob = await client.request(`/v2/f/fail/app/blobs/${image.layers[0]?.digest}`);
      assert.equal(blob.status, 200);
      assert.equal(await bodyDigest(blob), image.layers[0]?.digest);
      gate.mode = 'pass';
    });
  }

  it('answers 429 TOOMANYREQUESTS with the upstream\'s Retry-After when nothing is cached', async () => {
    gate.mode = '429';
    const res = await client.request('/v2/f/fail/other/manifests/v1');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.equal(await errorCode(res), 'TOOMANYREQUESTS');
    gate.mode = 'pass';
  });

  it('serves a warm pull with the upstream stopped, and 503 UNAVAILABLE for what is not cached', async () => {
    const down = await startCache([upstream('origin', 'http://127.0.0.1:9', { prefixes: ['f/'], freshnessMs: 0 })], { driver: cache.driver });
    try {
      const downClient = new TestClient(down.url);
      const res = await downClient.request('/v2/f/fail/app/manifests/v1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('warning'), STALE_WARNING);
      const byDigest = await downClient.request(`/v2/f/fail/app/manifests/${image.digest}`);
      assert.equal(byDigest.status, 200);
      assert.equal(byDigest.headers.get('warning'), null, 'digest pulls never ask the upstream');
      const blob = await downClient.request(`/v2/f/fail/app/blobs/${image.layers[0]?.digest}`);
      assert.equal(await bodyDigest(blob), image.layers[0]?.digest);
      const cold = await downClient.request('/v2/f/fail/cold/manifests/v1');
      assert.equal(cold.status, 503);
      assert.equal(await errorCode(cold), 'UNAVAILABLE');
    } finally {
      await down.stop(0);
    }
  });
});

describe('concurrency, freshness and expiry', () => {
  it('makes one upstream fetch for 20 concurrent pulls of one cold blob', async () => {
    const content = randomBytes(8 * 1024 * 1024);
    const layer = await originClient.pushBlob('many/app', content);
    const cache = await startCache([upstream('origin', gate.url, { prefixes: ['m/'] })]);
    try {
      const client = new TestClient(cache.url);
      const digests = await Promise.all(Array.from({ length: 20 }, async () => bodyDigest(await client.request(`/v2/m/many/app/blobs/${layer.digest}`))));
      assert.deepEqual(new Set(digests), new Set([layer.digest]));
      assert.equal(gate.count('GET', `/v2/many/app/blobs/${layer.digest}`), 1);
      assert.equal(cache.events.filter((e) => e.kind === 'blob').length, 1);
    } finally {
      await cache.stop(0);
    }
  });

  it('re-checks a tag with one HEAD per freshness interval and follows a moved tag', async () => {
    const first = await originClient.pushImage('fresh/app', 'latest');
    const cache = await startCache([upstream('origin', gate.url, { prefixes: ['r/'], freshnessMs: 400 })]);
    try {
      const client = new TestClient(cache.url);
      const digestOf = async () => {
        const res = await client.request('/v2/r/fresh/app/manifests/latest');
        await res.arrayBuffer();
        return res.headers.get('docker-content-digest');
      };
      assert.equal(await digestOf(), first.digest);
      const heads = () => gate.count('HEAD', '/v2/fresh/app/manifests/latest');
      const headsAfterFirst = heads();
      const second = await originClient.pushImage('fresh/app', 'latest');
      assert.equal(await digestOf(), first.digest, 'fresh: served without asking');
      assert.equal(heads(), headsAfterFirst);
      await sleep(500);
      assert.equal(await digestOf(), second.digest, 'stale: the upstream is asked and the new manifest fetched');
      assert.equal(heads(), headsAfterFirst + 1);
      // Digest pulls never re-check.
      await (await client.request(`/v2/r/fresh/app/manifests/${first.digest}`)).arrayBuffer();
      assert.equal(gate.count('HEAD', `/v2/fresh/app/manifests/${first.digest}`), 0);
    } finally {
      await cache.stop(0);
    }
  });

  it('checks content again after its TTL and drops what the upstream no longer has', async () => {
    const layer = await originClient.pushBlob('ttl/app', randomBytes(2000));
    const cache = await startCache([upstream('origin', gate.url, { prefixes: ['t/'], ttlMs: 300 })]);
    try {
      const client = new TestClient(cache.url);
      const path = `/v2/t/ttl/app/blobs/${layer.digest}`;
      assert.equal(await bodyDigest(await client.request(path)), layer.digest);
      await (await client.request(path)).arrayBuffer();
      assert.equal(gate.count('HEAD', `/v2/ttl/app/blobs/${layer.digest}`), 1, 'only the cold pull asked, before its fetch');
      await sleep(400);
      assert.equal(await bodyDigest(await client.request(path)), layer.digest);
      assert.equal(gate.count('HEAD', `/v2/ttl/app/blobs/${layer.digest}`), 2, 'expired: checked upstream again');
      assert.equal(gate.count('GET', `/v2/ttl/app/blobs/${layer.digest}`), 1, 'still there upstream: not fetched again');
      assert.equal((await originClient.request(`/v2/ttl/app/blobs/${layer.digest}`, { method: 'DELETE' })).status, 202);
      await sleep(400);
      const gone = await client.request(path);
      assert.equal(gone.status, 404);
      await assert.rejects(cache.driver.stat(`/docker/registry/v2/repositories/t/ttl/app/_layers/sha256/${layer.digest.slice(7)}/link`));
    } finally {
      await cache.stop(0);
    }
  });
});

describe('expiry sweep', () => {
  it('removes content whose TTL ran out and leaves fresh and pushed content alone', async () => {
    const image = await originClient.pushImage('sweep/app', 'v1');
    const driver = wrapDriver(new MemoryDriver());
    const shortLived = await startCache([upstream('origin', gate.url, { prefixes: ['x/'], ttlMs: 300 }), upstream('keep', gate.url, { prefixes: ['k/'], ttlMs: 3_600_000 })], { driver });
    try {
      const client = new TestClient(shortLived.url);
      for (const repo of ['x/sweep/app', 'k/sweep/app']) {
        await (await client.request(`/v2/${repo}/manifests/v1`)).arrayBuffer();
        for (const blob of [image.config, ...image.layers]) await (await client.request(`/v2/${repo}/blobs/${blob.digest}`)).arrayBuffer();
      }
      const own = await client.pushImage('own/sweep', 'v1');
      await sleep(400);
      // The cache's own sweeper may have run first (it starts after a random delay): both count.
      const result = await sweepExpired(driver, new StorageRegistry(driver), new CacheState(driver));
      assert.ok(result.removed <= 3 && result.examined === 3 + result.removed, JSON.stringify(result));
      assert.deepEqual(await sweepExpired(driver, new StorageRegistry(driver), new CacheState(driver)), { examined: 3, removed: 0 });
      const repo = '/docker/registry/v2/repositories';
      await assert.rejects(driver.stat(`${repo}/x/sweep/app/_manifests/revisions/sha256/${image.digest.slice(7)}/link`));
      await assert.rejects(driver.stat(`${repo}/x/sweep/app/_manifests/tags/v1/current/link`), 'the tag on an expired manifest goes with it');
      await assert.rejects(driver.stat(`${repo}/x/sweep/app/_layers/sha256/${image.layers[0]!.digest.slice(7)}/link`));
      await driver.stat(`${repo}/k/sweep/app/_layers/sha256/${image.layers[0]!.digest.slice(7)}/link`);
      await driver.stat(`${repo}/own/sweep/_manifests/revisions/sha256/${own.digest.slice(7)}/link`);
      assert.equal(sweepInterval([300, 0]), 60_000);
      assert.equal(sweepInterval([0]), undefined);
    } finally {
      await shortLived.stop(0);
    }
  });
});

describe('?ns= routing', () => {
  it('routes by containerd\'s ns parameter, answers OCI-Namespace, and stores under <ns>/<name>', async () => {
    const image = await originClient.pushImage('library/nsapp', 'v1');
    const cache = await startCache([
      upstream('other', 'http://127.0.0.1:9', { namespaces: ['other.example'] }),
      upstream('origin', gate.url, { namespaces: ['registry.example'] }),
    ]);
    try {
      const client = new TestClient(cache.url);
      const res = await client.request('/v2/library/nsapp/manifests/v1?ns=registry.example');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('oci-namespace'), 'registry.example');
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      const blob = await client.request(`/v2/library/nsapp/blobs/${image.layers[0]?.digest}?ns=registry.example`);
      assert.equal(await bodyDigest(blob), image.layers[0]?.digest);
      const link = await cache.driver.getContent('/docker/registry/v2/repositories/registry.example/library/nsapp/_manifests/tags/v1/current/link');
      assert.equal(link.toString(), image.digest);
      // Without ns (or with an unknown one) the name is an ordinary local repository.
      assert.equal((await client.request('/v2/library/nsapp/manifests/v1')).status, 404);
      assert.equal((await client.request('/v2/library/nsapp/manifests/v1?ns=unknown.example')).status, 404);
    } finally {
      await cache.stop(0);
    }
  });
});

describe('several instances on one storage', () => {
  it('shares cached content and freshness state; survives a restart', async () => {
    const image = await originClient.pushImage('shared/app', 'v1');
    const driver = wrapDriver(new MemoryDriver());
    const a = await startCache([upstream('origin', gate.url, { prefixes: ['s/'], freshnessMs: 60_000 })], { driver });
    const b = await startCache([upstream('origin', gate.url, { prefixes: ['s/'], freshnessMs: 60_000 })], { driver });
    try {
      const res = await new TestClient(a.url).request('/v2/s/shared/app/manifests/v1');
      await res.arrayBuffer();
      const asked = gate.total(/ \/v2\/shared\/app\/manifests\//);
      const fromB = await new TestClient(b.url).request('/v2/s/shared/app/manifests/v1');
      assert.equal(fromB.headers.get('docker-content-digest'), image.digest);
      assert.equal(gate.total(/ \/v2\/shared\/app\/manifests\//), asked, 'instance b trusts the freshness a recorded');
    } finally {
      await a.stop(0);
      await b.stop(0);
    }
  });
});
