/** Notification events name the authenticated caller as `actor.name`; anonymous requests name no one. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCI_MANIFEST } from '../helpers/client.js';
import { startSink } from '../helpers/sink.js';
import { startTestWharf } from '../helpers/wharf.js';
import { AuthClient, basic, htpasswdAuth, USERS, writeHtpasswd } from '../auth/helpers.js';
import { endpoint } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-notify-actor-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('notification actor', () => {
  it('push events carry the Basic-authenticated user; an anonymous pull carries no name', async () => {
    const sink = await startSink();
    const wharf = await startTestWharf({
      // The shared rules: alice (admins) may push public/*, anyone may pull it, bob (authenticated) may pull.
      auth: htpasswdAuth(await writeHtpasswd(dir)),
      notifications: { queueDir: join(dir, 'queue'), endpoints: [endpoint('sink', sink.url)], includeReferences: false },
    });
    try {
      const alice = new AuthClient(wharf.url, basic('alice', USERS.alice));
      const image = await alice.pushImage('public/app', 'v1');
      const anonymous = new AuthClient(wharf.url, undefined);
      assert.equal((await anonymous.request('/v2/public/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);
      const bob = new AuthClient(wharf.url, basic('bob', USERS.bob));
      assert.equal((await bob.request('/v2/public/app/manifests/v1', { headers: { Accept: OCI_MANIFEST } })).status, 200);

      const events = await sink.waitFor(5);
      assert.deepEqual(
        events.map((e) => `${String(e.action)} ${String((e.target as Record<string, unknown>).digest)}`),
        [`push ${image.config.digest}`, `push ${image.layers[0]!.digest}`, `push ${image.digest}`, `pull ${image.digest}`, `pull ${image.digest}`],
      );
      const [configPush, layerPush, manifestPush, anonymousPull, bobPull] = events;
      assert.deepEqual(configPush!.actor, { name: 'alice' }, 'config blob push');
      assert.deepEqual(layerPush!.actor, { name: 'alice' }, 'layer blob push');
      assert.deepEqual(manifestPush!.actor, { name: 'alice' }, 'manifest push');
      assert.deepEqual(anonymousPull!.actor, {}, 'anonymous pull names no actor');
      assert.deepEqual(bobPull!.actor, { name: 'bob' }, 'the actor is each request\'s own caller');
    } finally {
      await wharf.stop(0);
      await sink.close();
    }
  });
});
