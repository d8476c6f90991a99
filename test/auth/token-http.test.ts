/** The built-in token service and token auth over HTTP, in process; silly auth. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { wrapDriver } from '../../src/storage/base.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { htpasswdLine } from '../../src/auth/htpasswd.js';
import { errorCode, TestClient } from '../helpers/client.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { AuthClient, basic, tokenServiceAuth, USERS, writeHtpasswd } from './helpers.js';

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

describe('token auth with the built-in token service', () => {
  let dir: string;
  let seed: TestWharf;
  let wharf: TestWharf;
  let htpasswd: string;
  const realm = 'https://registry.test/auth/token';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-token-http-'));
    const driver = wrapDriver(new MemoryDriver());
    seed = await startTestWharf({ driver });
    for (const name of ['public/app', 'private/app', 'hidden/x']) await new TestClient(seed.url).pushImage(name, 'v1');
    htpasswd = await writeHtpasswd(dir);
    wharf = await startTestWharf({ driver, auth: tokenServiceAuth(htpasswd, join(dir, 'keys', 'signing.pem'), realm, undefined, 4) });
  });
  after(async () => {
    await seed?.stop(0);
    await wharf?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  async function token(scope: string[], authorization?: string, extra = ''): Promise<TokenBody> {
    const query = new URLSearchParams({ service: 'wharf-test' });
    for (const s of scope) query.append('scope', s);
    const res = await new AuthClient(wharf.url, authorization).request(`/auth/token?${query.toString()}${extra}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as TokenBody;
  }
  const bearer = (t: TokenBody) => new AuthClient(wharf.url, `Bearer ${t.token}`);

  it('generates and keeps the signing key on first start (mode 0600)', async () => {
    const info = await stat(join(dir, 'keys', 'signing.pem'));
    assert.equal(info.mode & 0o777, 0o600);
  });

  it('GET /v2/ without a token: 401 with the Bearer challenge; with any valid token: 200', async () => {
    const res = await new AuthClient(wharf.url, undefined).request('/v2/');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${realm}",service="wharf-test"`);
    const login = await token([], basic('bob', USERS.bob));
    assert.equal((await bearer(login).request('/v2/')).status, 200);
  });

  it('challenges name the scope the request needs', async () => {
    const res = await new AuthClient(wharf.url, undefined).request('/v2/private/app/blobs/uploads/', { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${realm}",service="wharf-test",scope="repository:private/app:pull,push"`);
    const catalog = await new AuthClient(wharf.url, undefined).request('/v2/_catalog');
    assert.equal(catalog.headers.get('www-authenticate'), `Bearer realm="${realm}",service="wharf-test",scope="registry:catalog:*"`);
  });

  it('a mount is challenged for pull on from too, and a token for what the challenge names mounts the blob', async () => {
    const anonymous = await token(['repository:public/app:pull']);
    const manifest = (await (await bearer(anonymous).request('/v2/public/app/manifests/v1')).json()) as { layers: { digest: string }[] };
    const mount = `/v2/private/mounted/blobs/uploads/?mount=${manifest.layers[0]?.digest ?? ''}&from=public/app`;
    const challenged = await new AuthClient(wharf.url, undefined).request(mount, { method: 'POST' });
    assert.equal(challenged.status, 401);
    const scope = 'repository:private/mounted:pull,push repository:public/app:pull';
    assert.equal(challenged.headers.get('www-authenticate'), `Bearer realm="${realm}",service="wharf-test",scope="${scope}"`);
    assert.equal((await bearer(await token(scope.split(' '), basic('alice', USERS.alice))).request(mount, { method: 'POST' })).status, 201);
    // A token without the pull on from is not refused: the mount becomes a plain upload.
    assert.equal((await bearer(await token(['repository:private/mounted:pull,push'], basic('alice', USERS.alice))).request(mount, { method: 'POST' })).status, 202);
  });

  it('grants what the rules allow and signs a token distribution would accept', async () => {
    const t = await token(['repository:private/app:pull,push', 'repository:hidden/x:pull'], basic('bob', USERS.bob));
    assert.equal(t.token, t.access_token);
    assert.equal(t.expires_in, 300);
    const claims = decodeJwt(t.token);
    assert.equal(claims.iss, 'wharf-test-issuer');
    assert.equal(claims.aud, 'wharf-test');
    assert.equal(claims.sub, 'bob');
    assert.deepEqual(claims['access'], [{ type: 'repository', name: 'private/app', actions: ['pull'] }]);
    const header = decodeProtectedHeader(t.token);
    assert.equal(header.alg, 'ES256');
    assert.match(header.kid ?? '', /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    assert.equal((await bearer(t).request('/v2/private/app/manifests/v1')).status, 200);
  });

  it('a token lacking a right: 401 insufficient_scope with the scope needed', async () => {
    const t = await token(['repository:private/app:pull,push'], basic('bob', USERS.bob));
    const res = await bearer(t).request('/v2/private/app/blobs/uploads/', { method: 'POST' });
    assert.equal(res.status, 401);
    assert.equal(await errorCode(res), 'UNAUTHORIZED');
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${realm}",service="wharf-test",scope="repository:private/app:pull,push",error="insufficient_scope"`);
  });

  it('a bad token: 401 invalid_token', async () => {
    const t = await token(['repository:private/app:pull'], basic('bob', USERS.bob));
    const tampered = `${t.token.slice(0, -4)}AAAA`;
    const res = await new AuthClient(wharf.url, `Bearer ${tampered}`).request('/v2/private/app/manifests/v1');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /,error="invalid_token"$/);
  });

  it('anonymous tokens carry what anonymous may do: public pull, nothing else', async () => {
    const t = await token(['repository:public/app:pull', 'repository:private/app:pull']);
    assert.equal(decodeJwt(t.token).sub, '');
    assert.equal(t.refresh_token, undefined);
    assert.equal((await bearer(t).request('/v2/public/app/manifests/v1')).status, 200);
    const refused = await bearer(t).request('/v2/private/app/manifests/v1');
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('a push with a granted token works end to end', async () => {
    const t = await token(['repository:private/pushed:pull,push'], basic('alice', USERS.alice));
    const pushed = await bearer(t).pushImage('private/pushed', 'v1');
    assert.equal(pushed.response.status, 201);
  });

  it('the catalog: registry:catalog:* for logged-in users, filtered by the rules', async () => {
    assert.deepEqual(decodeJwt((await token(['registry:catalog:*'])).token)['access'], []);
    const t = await token(['registry:catalog:*'], basic('bob', USERS.bob));
    const res = await bearer(t).request('/v2/_catalog');
    assert.equal(res.status, 200);
    const repos = ((await res.json()) as { repositories: string[] }).repositories;
    assert.ok(repos.includes('private/app') && repos.includes('public/app'));
    assert.ok(!repos.includes('hidden/x'));
  });

  it('OAuth2 POST: password grant with a refresh token, then the refresh grant', async () => {
    const post = (form: Record<string, string>) => fetch(`${wharf.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const first = await post({ grant_type: 'password', username: 'alice', password: USERS.alice, service: 'wharf-test', scope: 'repository:hidden/x:pull', access_type: 'offline', client_id: 'test' });
    assert.equal(first.status, 200);
    const body = (await first.json()) as TokenBody;
    assert.ok(body.refresh_token !== undefined);
    assert.equal((await bearer(body).request('/v2/hidden/x/manifests/v1')).status, 200);
    assert.equal((await new AuthClient(wharf.url, `Bearer ${body.refresh_token}`).request('/v2/')).status, 401, 'a refresh token is no access token');
    const again = await post({ grant_type: 'refresh_token', refresh_token: body.refresh_token, service: 'wharf-test', scope: 'repository:hidden/x:pull', client_id: 'test' });
    assert.equal(again.status, 200);
    assert.deepEqual(decodeJwt(((await again.json()) as TokenBody).token)['access'], [{ type: 'repository', name: 'hidden/x', actions: ['pull'] }]);
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token: 'garbage', service: 'wharf-test' })).status, 401);
    assert.equal((await post({ grant_type: 'password', username: 'alice', password: 'nope', service: 'wharf-test' })).status, 401);
    assert.equal((await post({ grant_type: 'client_credentials' })).status, 400);
  });

  it('GET with offline_token=true returns a refresh token (docker login)', async () => {
    const t = await token([], basic('alice', USERS.alice), '&offline_token=true&client_id=docker');
    assert.ok(t.refresh_token !== undefined);
  });

  it('a user added to the htpasswd file can log in without a restart', async () => {
    const before = await new AuthClient(wharf.url, basic('carol', 'carol-pw')).request('/auth/token?service=wharf-test');
    assert.equal(before.status, 401);
    await writeFile(htpasswd, `${await htpasswdLine('carol', 'carol-pw', 4)}\n${await htpasswdLine('alice', USERS.alice, 4)}\n`);
    // The file is looked at at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await new AuthClient(wharf.url, basic('carol', 'carol-pw')).request('/auth/token?service=wharf-test');
    assert.equal(after.status, 200);
  });

  it('failed logins at the token endpoint are limited: 429 with Retry-After', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 8; i++) {
      last = await new AuthClient(wharf.url, basic('bob', `guess-${i}`)).request('/auth/token?service=wharf-test');
      if (last.status === 429) break;
      assert.equal(last.status, 401);
    }
    assert.equal(last?.status, 429);
    assert.match(last!.headers.get('retry-after') ?? '', /^\d+$/);
  });
});

describe('without a token service', () => {
  it('/auth/token is not found', async () => {
    const wharf = await startTestWharf();
    try {
      const res = await fetch(`${wharf.url}/auth/token?service=x`);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'NOT_FOUND');
    } finally {
      await wharf.stop(0);
    }
  });
});

describe('silly auth', () => {
  it('lets any Authorization header through and challenges requests without one', async () => {
    const wharf = await startTestWharf({ auth: { provider: { kind: 'silly', realm: 'silly-realm', service: 'silly-service' }, loginLimit: { failures: 0, windowMs: 0 } } });
    try {
      const res = await fetch(`${wharf.url}/v2/app/manifests/latest`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="silly-realm",service="silly-service",scope="repository:app:pull"');
      const base = await fetch(`${wharf.url}/v2/`);
      assert.equal(base.headers.get('www-authenticate'), 'Bearer realm="silly-realm",service="silly-service"');
      assert.equal((await fetch(`${wharf.url}/v2/app/manifests/latest`, { headers: { Authorization: 'anything' } })).status, 404);
      assert.equal((await fetch(`${wharf.url}/v2/`, { headers: { Authorization: 'Bearer x' } })).status, 200);
    } finally {
      await wharf.stop(0);
    }
  });
});
