/** Access rules, scopes and challenges, the htpasswd file and the failed-login limiter. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, utimes } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRules, globToRegExp } from '../../src/auth/access-rules.js';
import { ANONYMOUS, covers, formatScope, parseScopes } from '../../src/auth/access.js';
import { basicChallenge, bearerChallenge } from '../../src/auth/challenge.js';
import { createAuth } from '../../src/auth/compose.js';
import { HtpasswdFile, htpasswdLine, parseHtpasswd, provisionHtpasswd } from '../../src/auth/htpasswd.js';
import { createLogger } from '../../src/log/logger.js';
import { LoginLimiter } from '../../src/auth/login-limiter.js';
import { basicCredentials } from '../../src/auth/authorizer.js';
import { RegistryError } from '../../src/registry/errors.js';

const user = (name: string) => ({ name, via: 'htpasswd' as const });
const list = (set: ReadonlySet<string>) => [...set].sort();

describe('access rules', () => {
  const rules = new AccessRules({
    groups: { admins: ['alice'], ci: ['bot'] },
    rules: [
      { repository: '**', pull: ['authenticated'], push: ['admins'], delete: ['admins'] },
      { repository: 'public/*', pull: ['anonymous'], push: ['ci'] },
      { repository: 'public/secret', pull: ['alice'] },
      { repository: 'team/*/app', pull: ['bob'] },
    ],
  });

  it('globs: * and ? within a component, ** across', () => {
    assert.ok(globToRegExp('public/*').test('public/a'));
    assert.ok(!globToRegExp('public/*').test('public/a/b'));
    assert.ok(globToRegExp('public/**').test('public/a/b'));
    assert.ok(globToRegExp('a?c').test('abc') && !globToRegExp('a?c').test('a/c'));
    assert.ok(!globToRegExp('a.b').test('axb'));
  });

  it('the most specific matching pattern decides alone', () => {
    assert.deepEqual(list(rules.allowed(ANONYMOUS, 'public/x')), ['pull']);
    assert.deepEqual(list(rules.allowed(ANONYMOUS, 'private/x')), []);
    // public/* beats **: alice, an admin, may not push to public/x
    assert.deepEqual(list(rules.allowed(user('alice'), 'public/x')), ['pull']);
    // the exact name beats public/*: anonymous gets nothing, alice pull
    assert.deepEqual(list(rules.allowed(ANONYMOUS, 'public/secret')), []);
    assert.deepEqual(list(rules.allowed(user('alice'), 'public/secret')), ['pull']);
    // team/*/app has more literal characters than **
    assert.deepEqual(list(rules.allowed(user('carol'), 'team/x/app')), []);
    assert.deepEqual(list(rules.allowed(user('bob'), 'team/x/app')), ['pull']);
  });

  it('groups, authenticated, and push including pull', () => {
    assert.deepEqual(list(rules.allowed(user('alice'), 'private/x')), ['delete', 'pull', 'push']);
    assert.deepEqual(list(rules.allowed(user('carol'), 'private/x')), ['pull']);
    const pushOnly = new AccessRules({ rules: [{ repository: 'x', push: ['bot'] }] });
    assert.deepEqual(list(pushOnly.allowed(user('bot'), 'x')), ['pull', 'push']);
  });

  it('without rules: logged-in users everything, anonymous nothing; no matching rule: nothing', () => {
    const open = new AccessRules({});
    assert.deepEqual(list(open.allowed(user('x'), 'a/b')), ['delete', 'pull', 'push']);
    assert.deepEqual(list(open.allowed(ANONYMOUS, 'a/b')), []);
    assert.deepEqual(list(new AccessRules({ rules: [{ repository: 'a', pull: ['anonymous'] }] }).allowed(user('x'), 'b')), []);
  });
});

describe('scopes and challenges', () => {
  it('parses scopes with ports in names, classes, and several per parameter', () => {
    assert.deepEqual(parseScopes(['repository:host:5000/app:pull,push registry:catalog:*', 'repository(plugin):p:pull', 'garbage']), [
      { type: 'repository', name: 'host:5000/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'p', actions: ['pull'] },
    ]);
  });

  it("spells challenges as distribution does", () => {
    assert.equal(basicChallenge('Registry Realm'), 'Basic realm="Registry Realm"');
    const items = [{ type: 'repository', name: 'app', actions: ['push', 'pull'] }];
    assert.equal(formatScope(items), 'repository:app:pull,push');
    assert.equal(bearerChallenge('https://auth/token', 'reg', items), 'Bearer realm="https://auth/token",service="reg",scope="repository:app:pull,push"');
    assert.equal(bearerChallenge('r', 's', [], 'invalid_token'), 'Bearer realm="r",service="s",error="invalid_token"');
    assert.equal(bearerChallenge('r', 's', items, 'insufficient_scope'), 'Bearer realm="r",service="s",scope="repository:app:pull,push",error="insufficient_scope"');
  });

  it('covers: every required action of every item, * for all', () => {
    const granted = [{ type: 'repository', name: 'a', actions: ['pull'] }, { type: 'registry', name: 'catalog', actions: ['*'] }];
    assert.ok(covers(granted, [{ type: 'repository', name: 'a', actions: ['pull'] }]));
    assert.ok(!covers(granted, [{ type: 'repository', name: 'a', actions: ['pull', 'push'] }]));
    assert.ok(!covers(granted, [{ type: 'repository', name: 'b', actions: ['pull'] }]));
    assert.ok(covers(granted, [{ type: 'registry', name: 'catalog', actions: ['*'] }]));
  });

  it('reads Basic credentials, and takes an empty user and password as none', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(basicCredentials(basic('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
    assert.equal(basicCredentials(basic(':')), undefined);
    assert.equal(basicCredentials('Bearer abc'), undefined);
    assert.equal(basicCredentials(undefined), undefined);
  });
});

describe('htpasswd', () => {
  it('reads $2y$, $2a$ and $2b$ entries and skips other lines', async () => {
    const y = await htpasswdLine('y', 'py', 4);
    assert.match(y, /^y:\$2y\$04\$/);
    const a = y.replace('y:$2y$', 'a:$2a$');
    const b = y.replace('y:$2y$', 'b:$2b$');
    const parsed = parseHtpasswd(`${y}\n${a}\r\n# comment\n\nmd5:$apr1$xyz$abc\n${b}\n`);
    assert.deepEqual([...parsed.users.keys()], ['y', 'a', 'b']);
    assert.deepEqual(parsed.invalidLines, [5]);
  });

  it('verifies passwords and picks up a changed file without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-htpasswd-'));
    try {
      const path = join(dir, 'htpasswd');
      await writeFile(path, `${await htpasswdLine('alice', 'secret', 4)}\n`);
      const file = new HtpasswdFile(path);
      assert.equal(await file.verify('alice', 'secret'), true);
      assert.equal(await file.verify('alice', 'wrong'), false);
      assert.equal(await file.verify('bob', 'pw'), false);
      await writeFile(path, `${await htpasswdLine('bob', 'pw', 4)}\n`);
      await utimes(path, new Date(), new Date(Date.now() + 5000));
      await file.refresh(true);
      assert.equal(await file.verify('bob', 'pw'), true);
      assert.equal(await file.verify('alice', 'secret'), false, 'a removed user (and the remembered password) is gone');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing file is created as distribution does: user docker, a random password, mode 0600; an existing one is left alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-htpasswd-'));
    try {
      const path = join(dir, 'auth', 'htpasswd');
      const password = provisionHtpasswd(path, 4);
      assert.ok(password !== undefined && password.length >= 40, 'a long random password');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'auth'))).mode & 0o777, 0o700);
      const file = new HtpasswdFile(path);
      assert.deepEqual([...parseHtpasswd(await readFile(path, 'utf8')).users.keys()], ['docker']);
      assert.equal(await file.verify('docker', password), true);
      const before = await readFile(path, 'utf8');
      assert.equal(provisionHtpasswd(path, 4), undefined);
      assert.equal(await readFile(path, 'utf8'), before);
      assert.notEqual(provisionHtpasswd(join(dir, 'other'), 4), password, 'each file gets its own password');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('auth.htpasswd on a missing file starts with the provisioned user and logs its password once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-htpasswd-'));
    try {
      const path = join(dir, 'htpasswd');
      const stream = new PassThrough();
      const lines: string[] = [];
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((l) => l !== '')));
      const log = createLogger({ level: 'info', formatter: 'json', destination: stream });
      const provider = { kind: 'htpasswd', realm: 'r', path } as const;
      createAuth({ provider, loginLimit: { failures: 10, windowMs: 1000 } }, log);
      createAuth({ provider, loginLimit: { failures: 10, windowMs: 1000 } }, log);
      await new Promise((r) => setImmediate(r));
      const provisioned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'htpasswd is missing, provisioning with default user');
      assert.equal(provisioned.length, 1);
      assert.equal(provisioned[0]!['user'], 'docker');
      assert.equal(await new HtpasswdFile(path).verify('docker', String(provisioned[0]!['initialPassword'])), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a directory is a start-up error that says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wharf-htpasswd-'));
    try {
      await mkdir(join(dir, 'registry'));
      assert.throws(() => new HtpasswdFile(join(dir, 'registry')), /htpasswd file .*registry is a directory/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('login limiter', () => {
  it('answers 429 with Retry-After after the failures, per address, until the window ends', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter({ failures: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      limiter.check('10.0.0.1');
      limiter.fail('10.0.0.1');
    }
    now += 15_000;
    assert.throws(() => limiter.check('10.0.0.1'), (err: unknown) => err instanceof RegistryError && err.status === 429 && err.headers['Retry-After'] === '45');
    limiter.check('10.0.0.2');
    now += 45_000;
    limiter.check('10.0.0.1');
  });
});
