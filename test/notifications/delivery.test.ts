/**
 * Notifications end to end: distribution's envelope, in-order at-least-once delivery through
 * failures, durability across a restart, ignore rules, and pushes that do not wait for a hung
 * endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient, OCI_MANIFEST } from '../helpers/client.js';
import { startSink } from '../helpers/sink.js';
import { endpoint, metricReaches, metricValue, startNotifyingWharf } from './helpers.js';
import { EVENTS_MEDIA_TYPE } from '../../src/notifications/envelope.js';
import { createStorageDriver } from '../../src/storage/drivers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-notify-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('notifications', () => {
  it('delivers push, pull, mount and delete events (the digest\'s, then its tag\'s) in order through failures, in distribution\'s envelope', async () => {
    const sink = await startSink({ failFirst: 4 });
    const wharf = await startNotifyingWharf(join(dir, 'q1'), [endpoint('sink', sink.url)]);
    try {
      const client = new TestClient(wharf.url);
      const image = await client.pushImage('team/app', 'v1');
      assert.equal((await client.request('/v2/team/app/manifests/v1', { headers: { 'User-Agent': 'events-test/1', Accept: OCI_MANIFEST } })).status, 200);
      const layer = image.layers[0]!;
      const mount = await client.request(`/v2/other/app/blobs/uploads/?mount=${layer.digest}&from=team/app`, { method: 'POST' });
      assert.equal(mount.status, 201);
      assert.equal((await client.request(`/v2/team/app/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);

      const events = await sink.waitFor(7);
      assert.deepEqual(events.map((e) => e.action), ['push', 'push', 'push', 'pull', 'mount', 'delete', 'delete']);
      const [config, layerPush, manifestPush, pull, mounted, deleted, untagged] = events as Record<string, Record<string, unknown>>[];
      assert.equal(config!.target!.digest, image.config.digest);
      assert.equal(layerPush!.target!.mediaType, 'application/octet-stream');
      assert.equal(layerPush!.target!.size, layer.size);
      assert.equal(layerPush!.target!.length, layer.size);
      assert.equal(layerPush!.target!.url, `${wharf.url}/v2/team/app/blobs/${layer.digest}`);
      assert.deepEqual(manifestPush!.target, {
        mediaType: OCI_MANIFEST, size: image.size, digest: image.digest, length: image.size, repository: 'team/app',
        url: `${wharf.url}/v2/team/app/manifests/${image.digest}`, tag: 'v1',
      });
      assert.equal(pull!.target!.tag, 'v1');
      assert.equal(pull!.request!.method, 'GET');
      assert.equal(pull!.request!.useragent, 'events-test/1');
      assert.equal(pull!.request!.host, new URL(wharf.url).host);
      assert.match(String(pull!.request!.addr), /^127\.0\.0\.1:\d+$/);
      assert.match(String(pull!.request!.id), /^[0-9a-f-]{36}$/);
      assert.deepEqual(pull!.actor, {});
      assert.match(String(pull!.source!.instanceID), /^[0-9a-f-]{36}$/);
      assert.match(String(pull!.source!.addr), /:\d+$/);
      assert.equal(mounted!.target!.repository, 'other/app');
      assert.equal(mounted!.target!.fromRepository, 'team/app');
      assert.deepEqual(deleted!.target, { repository: 'team/app', digest: image.digest });
      assert.deepEqual(untagged!.target, { repository: 'team/app', tag: 'v1' });
      for (const event of events) {
        assert.match(String(event.id), /^[0-9a-f-]{36}$/);
        assert.ok(!Number.isNaN(Date.parse(String(event.timestamp))));
      }
      // The first four attempts failed and were retried with the same event: nothing lost, nothing reordered.
      assert.equal(sink.deliveries.filter((d) => !d.accepted).length, 4);
      assert.deepEqual(sink.deliveries.slice(0, 5).map((d) => d.body.events[0]!.id), Array(5).fill(events[0]!.id));
      const first = sink.deliveries[0]!;
      assert.equal(first.headers['content-type'], EVENTS_MEDIA_TYPE);
      assert.equal(first.headers.authorization, 'Bearer sink-token');
      assert.equal(await metricValue(wharf.metrics, 'registry_notifications_failures_total', { endpoint: 'sink' }), 4);
      assert.equal(await metricReaches(wharf.metrics, 'registry_notifications_deliveries_total', { endpoint: 'sink' }, 7), 7);
      assert.equal(await metricValue(wharf.metrics, 'registry_notifications_events_total', { endpoint: 'sink', action: 'push' }), 3);
      assert.equal(await metricReaches(wharf.metrics, 'registry_notifications_pending', { endpoint: 'sink' }, 0), 0);
    } finally {
      await wharf.stop(0);
      await sink.close();
    }
  });

  it('keeps queued events across a restart and delivers them after it', async () => {
    const queue = join(dir, 'q2');
    const root = join(dir, 'root2');
    const down = await startSink();
    const url = down.url;
    await down.close(); // nothing listens there now: every delivery fails
    const first = await startNotifyingWharf(queue, [endpoint('later', url, { threshold: 1, backoffMs: 50 })], await createStorageDriver('filesystem', { rootdirectory: root }));
    const client = new TestClient(first.url);
    const image = await client.pushImage('keep/app', 'v1');
    // Failures move the metric, and the events wait in the queue.
    while ((await metricValue(first.metrics, 'registry_notifications_failures_total', { endpoint: 'later' })) < 2) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await metricValue(first.metrics, 'registry_notifications_pending', { endpoint: 'later' }), 3);
    await first.stop(0);

    const sink = await startSink({ port: Number(new URL(url).port) });
    const second = await startNotifyingWharf(queue, [endpoint('later', url)], await createStorageDriver('filesystem', { rootdirectory: root }));
    try {
      const events = await sink.waitFor(3);
      assert.deepEqual(events.map((e) => (e.target as Record<string, unknown>).digest), [image.config.digest, image.layers[0]!.digest, image.digest]);
      // A new event after the restart comes after the old ones.
      await new TestClient(second.url).pushBlob('keep/app', randomBytes(100));
      const all = await sink.waitFor(4);
      assert.equal(all.length, 4);
    } finally {
      await second.stop(0);
      await sink.close();
    }
  });

  it('applies ignore rules per endpoint: actions, ignore.mediatypes and the older ignoredmediatypes', async () => {
    const all = await startSink();
    const noPulls = await startSink();
    const manifestsOnly = await startSink();
    const wharf = await startNotifyingWharf(join(dir, 'q3'), [
      endpoint('all', all.url),
      endpoint('no-pulls', noPulls.url, { ignore: { mediaTypes: [], actions: ['pull', 'delete'] } }),
      // distribution 2.x `ignoredmediatypes` and 3.x `ignore.mediatypes` are merged into one list
      endpoint('manifests-only', manifestsOnly.url, { ignore: { mediaTypes: ['application/octet-stream'], actions: [] } }),
    ]);
    try {
      const client = new TestClient(wharf.url);
      const image = await client.pushImage('rules/app', 'v1');
      assert.equal((await client.request(`/v2/rules/app/blobs/${image.layers[0]!.digest}`)).status, 200);
      assert.equal((await client.request('/v2/rules/app/manifests/v1', { method: 'HEAD' })).status, 200);
      assert.equal((await client.request('/v2/rules/app/manifests/v1', { method: 'DELETE' })).status, 202);
      const everything = await all.waitFor(6);
      assert.deepEqual(everything.map((e) => e.action), ['push', 'push', 'push', 'pull', 'pull', 'delete']);
      assert.deepEqual((await noPulls.waitFor(3)).map((e) => e.action), ['push', 'push', 'push']);
      const manifests = await manifestsOnly.waitFor(3);
      assert.deepEqual(manifests.map((e) => `${e.action} ${(e.target as Record<string, unknown>).mediaType ?? ''}`), [
        `push ${OCI_MANIFEST}`, `pull ${OCI_MANIFEST}`, 'delete ',
      ]);
      assert.deepEqual((manifests[2]!.target as Record<string, unknown>), { repository: 'rules/app', tag: 'v1' });
      // Nothing more arrives later at the filtered endpoints.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(noPulls.accepted().length, 3);
      assert.equal(manifestsOnly.accepted().length, 3);
    } finally {
      await wharf.stop(0);
      await Promise.all([all.close(), noPulls.close(), manifestsOnly.close()]);
    }
  });

  it('does not make pushes wait for an endpoint that never answers', async () => {
    const hung = await startSink({ hang: true });
    const wharf = await startNotifyingWharf(join(dir, 'q4'), [endpoint('hung', hung.url, { timeoutMs: 600_000 })]);
    try {
      const client = new TestClient(wharf.url);
      const arrived = hung.waitForRequest();
      await client.pushBlob('slow/app', randomBytes(64));
      await arrived; // the first delivery is now stuck at the endpoint
      const image = await client.pushImage('slow/app', 'v1');
      assert.equal((await client.request(`/v2/slow/app/manifests/${image.digest}`, { method: 'HEAD' })).status, 200);
      assert.equal(hung.deliveries.length, 0, 'the endpoint has answered nothing');
      // Pull events are queued without waiting for the disk: the fifth arrives just after the answer.
      assert.equal(await metricReaches(wharf.metrics, 'registry_notifications_pending', { endpoint: 'hung' }, 5), 5);
    } finally {
      await wharf.stop(0);
      await hung.close();
    }
  });
});
