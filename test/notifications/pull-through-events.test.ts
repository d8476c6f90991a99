/**
 * Pull-through events end to end: a cache with notification endpoints and an upstream (another
 * Wharf behind a counting gate). Each manifest and blob the cache fetches from the upstream
 * becomes a `pull` event naming the upstream, beside the ordinary `pull` event of the client's
 * request; a warm pull of the same blob brings only the ordinary one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCI_MANIFEST, TestClient } from '../helpers/client.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { bodyDigest, startGate, upstream, type Gate } from '../proxy/helpers.js';
import { endpoint } from './helpers.js';

type Event = Record<string, unknown>;
const targetOf = (event: Event): Record<string, unknown> => event.target as Record<string, unknown>;
const fromUpstream = (event: Event): boolean => targetOf(event).upstream !== undefined;

let dir: string;
let origin: TestWharf;
let gate: Gate;
let sink: Sink;
let cache: TestWharf;
let client: TestClient;
let image: Awaited<ReturnType<TestClient['pushImage']>>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-pull-through-events-'));
  origin = await startTestWharf();
  gate = await startGate(origin.url);
  image = await new TestClient(origin.url).pushImage('team/app', 'v1');
  sink = await startSink();
  // No proxyListener here: the cache's events must come from startWharf's own wiring.
  cache = await startTestWharf({
    upstreams: [upstream('origin', gate.url, { prefixes: ['mirror/'] })],
    notifications: { queueDir: join(dir, 'queue'), endpoints: [endpoint('sink', sink.url)], includeReferences: false },
  });
  client = new TestClient(cache.url);
});

after(async () => {
  await cache.stop(0);
  await sink.close();
  await gate.close();
  await origin.stop(0);
  await rm(dir, { recursive: true, force: true });
});

describe('pull-through events', () => {
  it('turns a manifest fetched from the upstream into a pull event naming the upstream, beside the client\'s pull', async () => {
    const res = await client.request('/v2/mirror/team/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(await bodyDigest(res), image.digest);
    assert.equal(gate.count('GET', `/v2/team/app/manifests/v1`) + gate.count('GET', `/v2/team/app/manifests/${image.digest}`), 1, 'fetched from the upstream once');

    const events = await sink.waitFor(2);
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.action), ['pull', 'pull']);
    const pulledThrough = events.filter(fromUpstream);
    const ordinary = events.filter((e) => !fromUpstream(e));
    assert.equal(pulledThrough.length, 1, 'one pull-through event');
    assert.equal(ordinary.length, 1, 'one ordinary pull event');

    const through = targetOf(pulledThrough[0]!);
    assert.equal(through.upstream, 'origin');
    assert.equal(through.url, `${gate.url}/v2/team/app/manifests/${image.digest}`);
    assert.equal(through.repository, 'mirror/team/app');
    assert.equal(through.digest, image.digest);
    assert.equal(through.size, image.size);
    assert.equal(through.mediaType, OCI_MANIFEST);
    assert.equal(through.tag, 'v1');

    const own = targetOf(ordinary[0]!);
    assert.equal(own.repository, 'mirror/team/app');
    assert.equal(own.digest, image.digest);
    assert.ok(String(own.url).startsWith(`${cache.url}/v2/mirror/team/app/manifests/`), `the client's pull names the cache: ${String(own.url)}`);
  });

  it('turns a blob fetched from the upstream into a pull event naming the upstream, beside the client\'s pull', async () => {
    const layer = image.layers[0]!;
    const res = await client.request(`/v2/mirror/team/app/blobs/${layer.digest}`);
    assert.equal(res.status, 200);
    assert.equal(await bodyDigest(res), layer.digest);
    assert.equal(gate.count('GET', `/v2/team/app/blobs/${layer.digest}`), 1, 'fetched from the upstream once');

    const events = (await sink.waitFor(4)).slice(2);
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.action), ['pull', 'pull']);
    const pulledThrough = events.filter(fromUpstream);
    const ordinary = events.filter((e) => !fromUpstream(e));
    assert.equal(pulledThrough.length, 1, 'one pull-through event');
    assert.equal(ordinary.length, 1, 'one ordinary pull event');

    const through = targetOf(pulledThrough[0]!);
    assert.equal(through.upstream, 'origin');
    assert.equal(through.url, `${gate.url}/v2/team/app/blobs/${layer.digest}`);
    assert.equal(through.repository, 'mirror/team/app');
    assert.equal(through.digest, layer.digest);
    assert.equal(through.size, layer.size);
    assert.equal(through.length, layer.size);

    const own = targetOf(ordinary[0]!);
    assert.equal(own.repository, 'mirror/team/app');
    assert.equal(own.digest, layer.digest);
    assert.equal(own.url, `${cache.url}/v2/mirror/team/app/blobs/${layer.digest}`);
  });

  it('brings only the ordinary pull event for a warm pull of the same blob', async () => {
    const layer = image.layers[0]!;
    const asked = gate.total(/^(GET|HEAD) \/v2\/team\/app\/blobs\//);
    const res = await client.request(`/v2/mirror/team/app/blobs/${layer.digest}`);
    assert.equal(res.status, 200);
    assert.equal(await bodyDigest(res), layer.digest);
    assert.equal(gate.total(/^(GET|HEAD) \/v2\/team\/app\/blobs\//), asked, 'served from the cache, the upstream was not asked');

    // A push to a local repository after the warm pull: once its event has arrived, anything the
    // warm pull queued before it has arrived too (each endpoint delivers in order).
    const marker = await client.pushBlob('local/app', randomBytes(64));
    const events = (await sink.waitFor(6)).slice(4);
    assert.equal(events.length, 2);
    const pulls = events.filter((e) => e.action === 'pull');
    assert.equal(pulls.length, 1, 'one pull event for the warm pull');
    assert.equal(fromUpstream(pulls[0]!), false, 'the warm pull names no upstream');
    assert.equal(targetOf(pulls[0]!).url, `${cache.url}/v2/mirror/team/app/blobs/${layer.digest}`);
    const pushes = events.filter((e) => e.action === 'push');
    assert.equal(pushes.length, 1);
    assert.equal(targetOf(pushes[0]!).digest, marker.digest);
    assert.equal(sink.accepted().filter(fromUpstream).length, 2, 'still only the two pull-through events of the cold pulls');
  });
});
