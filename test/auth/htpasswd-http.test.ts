/** htpasswd auth over HTTP, in process: challenges, 401 vs 403, anonymous access, the catalog, mounts, the login limit, logs. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { createLogger } from '../../src/log/logger.js';
import { errorCode, TestClient } from '../helpers/client.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { AuthClient, basic, htpasswdAuth, USERS, writeHtpasswd } from './helpers.js';

describe('htpasswd auth', () => {
  let dir: string;
  let seed: TestWharf;
  let wharf: TestWharf;
  const logLines: string[] = [];
  let layer: string;
  /** A layer of hidden/y alone. */
  let hiddenOnly: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-auth-http-'));
    const driver = wrapDriver(new MemoryDriver());
    seed = await startTestWharf({ driver });
    const seeder = new TestClient(seed.url);
    for (const name of ['public/app', 'private/app', 'hidden/x', 'hidden/y']) {
      const pushed = await seeder.pushImage(name, 'v1');
      if (name === 'hidden/x') layer = pushed.layers[0]!.digest;
      if (name === 'hidden/y') hiddenOnly = pushed.layers[0]!.digest;
    }
    const stream = new Writable({ write(chunk: Buffer, _e, done) { logLines.push(chunk.toString()); done(); } });
    wharf = await startTestWharf({
      driver,
      auth: htpasswdAuth(await writeHtpasswd(dir), undefined, 5),
      accessLog: true,
      log: createLogger({ level: 'debug', formatter: 'json', destination: stream }),
    });
  });
  after(async () => {
    await seed?.stop(0);
    await wharf?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  const as = (user?: keyof typeof USERS, password?: string) =>
    new AuthClient(wharf.url, user === undefined ? undefined : basic(user, password ?? USERS[user]));

  it('GET /v2/ without credentials: 401 with the Basic challenge; with them: 200', async () => {
    const res = await as().request('/v2/');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Wharf Test"');
    assert.equal(await errorCode(res), 'UNAUTHORIZED');
    assert.equal((await as('alice').request('/v2/')).status, 200);
    const bad = await as('alice', 'wrong').request('/v2/');
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), 'Basic realm="Wharf Test"');
  });

  it('OPTIONS needs no credentials: a browser sends its CORS preflight without them', async () => {
    const res = await as().request('/v2/private/app/manifests/v1', { method: 'OPTIONS' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('allow'), 'GET, HEAD, PUT, DELETE');
    assert.equal(res.headers.get('www-authenticate'), null);
  });

  it('anonymous pull is allowed on the public glob and refused elsewhere with the challenge', async () => {
    assert.equal((await as().request('/v2/public/app/manifests/v1')).status, 200);
    assert.equal((await new AuthClient(wharf.url, 'Basic Og==').request('/v2/public/app/manifests/v1')).status, 200, 'an empty user and password count as anonymous');
    const refused = await as().request('/v2/private/app/manifests/v1');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Basic realm="Wharf Test"');
    assert.deepEqual(((await refused.json()) as { errors: { detail: unknown }[] }).errors[0]!.detail, [{ Type: 'repository', Class: '', Name: 'private/app', Action: 'pull' }]);
    assert.equal((await as().request('/v2/public/app/blobs/uploads/', { method: 'POST' })).status, 401, 'anonymous push refused');
  });

  it('a logged-in user lacking a right gets 403 DENIED; one with it goes through', async () => {
    assert.equal((await as('bob').request('/v2/private/app/manifests/v1')).status, 200);
    const push = await as('bob').request('/v2/private/app/blobs/uploads/', { method: 'POST' });
    assert.equal(push.status, 403);
    assert.equal(await errorCode(push), 'DENIED');
    assert.equal((await as('bob').request('/v2/hidden/x/tags/list')).status, 403);
    assert.equal((await as('bob').request('/v2/private/app/manifests/v1', { method: 'DELETE' })).status, 403);
    assert.equal((await as('alice').request('/v2/hidden/x/tags/list')).status, 200);
    const pushed = await as('alice').pushImage('private/new', 'latest');
    assert.equal(pushed.response.status, 201);
  });

  it('the catalog needs a login and lists only what the caller may pull, paginated over those', async () => {
    assert.equal((await as().request('/v2/_catalog')).status, 401);
    const all = (await (await as('alice').request('/v2/_catalog')).json()) as { repositories: string[] };
    assert.ok(all.repositories.includes('hidden/x') && all.repositories.includes('hidden/y'));
    const seen: string[] = [];
    let next: string | undefined = '/v2/_catalog?n=1';
    let pages = 0;
    while (next !== undefined) {
      const res = await as('bob').request(next);
      const page = (await res.json()) as { repositories: string[] };
      assert.equal(page.repositories.length, 1, 'every page is full but the walk ends exactly');
      seen.push(...page.repositories);
      next = /<([^>]+)>/.exec(res.headers.get('link') ?? '')?.[1];
      pages++;
      assert.ok(pages < 10);
    }
    // alice pushed private/new above; hidden/* is alice's alone
    assert.deepEqual(seen, ['private/app', 'private/new', 'public/app']);
  });

  it('a mount needs pull on from: without it the caller gets a plain upload (202), with it the blob (201)', async () => {
    const bob = await as('bob').request(`/v2/bobs/repo/blobs/uploads/?mount=${layer}&from=hidden/x`, { method: 'POST' });
    assert.equal(bob.status, 202);
    assert.equal((await as('bob').request(`/v2/bobs/repo/blobs/${layer}`, { method: 'HEAD' })).status, 404);
    const alice = await as('alice').request(`/v2/bobs/repo/blobs/uploads/?mount=${layer}&from=hidden/x`, { method: 'POST' });
    assert.equal(alice.status, 201);
  });

  it('a mount without from takes the blob only from a repository the caller may pull', async () => {
    const bob = await as('bob').request(`/v2/bobs/auto/blobs/uploads/?mount=${hiddenOnly}`, { method: 'POST' });
    assert.equal(bob.status, 202);
    assert.equal((await as('bob').request(`/v2/bobs/auto/blobs/${hiddenOnly}`, { method: 'HEAD' })).status, 404);
    const alice = await as('alice').request(`/v2/bobs/auto/blobs/uploads/?mount=${hiddenOnly}`, { method: 'POST' });
    assert.equal(alice.status, 201);
    assert.equal((await as('bob').request(`/v2/bobs/auto/blobs/${hiddenOnly}`, { method: 'HEAD' })).status, 200, 'mounted by one who may read it, bob reads it');
  });

  it('failed logins from one address are limited: 429 with Retry-After', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 8; i++) {
      last = await as('bob', `guess-${i}`).request('/v2/');
      if (last.status === 429) break;
      assert.equal(last.status, 401);
    }
    assert.equal(last?.status, 429);
    assert.equal(await errorCode(last!), 'TOOMANYREQUESTS');
    assert.match(last!.headers.get('retry-after') ?? '', /^\d+$/);
  });

  it('never logs passwords or Authorization headers', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const logs = logLines.join('');
    assert.ok(logs.includes('"path":"/v2/"'), 'the access log was written');
    for (const secret of [...Object.values(USERS), basic('alice', USERS.alice).slice(6), 'guess-0']) {
      assert.ok(!logs.includes(secret), `log free of ${secret}`);
    }
  });
});

describe('auth off', () => {
  it('asks nothing: no challenge on /v2/', async () => {
    const wharf = await startTestWharf();
    try {
      const res = await fetch(`${wharf.url}/v2/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('www-authenticate'), null);
    } finally {
      await wharf.stop(0);
    }
  });
});
