/** The auth, http.tls, access and tokenservice configuration, and how it maps onto WharfOptions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authOptions, defaultSigningKeyPath, tlsSettings } from '../../src/cli/auth-options.js';
import { load, problemsOf } from './helpers.js';

const MINIMAL = 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv/registry\n';

test('auth.htpasswd, from the file and from REGISTRY_AUTH_* variables', async () => {
  const { config } = await load(`${MINIMAL}auth:\n  htpasswd:\n    realm: r\n    path: /etc/htpasswd\n`);
  assert.deepEqual(authOptions(config)?.provider, { kind: 'htpasswd', realm: 'r', path: '/etc/htpasswd' });
  const fromEnv = await load(MINIMAL, { REGISTRY_AUTH_HTPASSWD_REALM: 'env-realm', REGISTRY_AUTH_HTPASSWD_PATH: '/env/htpasswd' });
  assert.deepEqual(authOptions(fromEnv.config)?.provider, { kind: 'htpasswd', realm: 'env-realm', path: '/env/htpasswd' });
});

test('REGISTRY_AUTH=<provider> names the provider whose parameters REGISTRY_AUTH_<PROVIDER>_* set (Docker\'s documented setup)', async () => {
  const htpasswd = { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_REALM: 'Registry Realm', REGISTRY_AUTH_HTPASSWD_PATH: '/auth/htpasswd' };
  const expected = { kind: 'htpasswd', realm: 'Registry Realm', path: '/auth/htpasswd' };
  assert.deepEqual(authOptions((await load(MINIMAL, htpasswd)).config)?.provider, expected);
  // it replaces the file's provider, as distribution's does
  const token = `${MINIMAL}auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n    rootcertbundle: /c\n`;
  assert.deepEqual(authOptions((await load(token, htpasswd)).config)?.provider, expected);
  // and a bare provider name in the file is read the same way
  assert.deepEqual(authOptions((await load(`${MINIMAL}auth: htpasswd\n`, { REGISTRY_AUTH_HTPASSWD_REALM: 'x', REGISTRY_AUTH_HTPASSWD_PATH: '/p' })).config)?.provider, { kind: 'htpasswd', realm: 'x', path: '/p' });
  assert.equal(authOptions((await load(token, { REGISTRY_AUTH: 'none' })).config), undefined);
  assert.deepEqual(await problemsOf(MINIMAL, { REGISTRY_AUTH: 'htpasswd' }), [
    'auth.htpasswd.realm (from REGISTRY_AUTH): required',
    'auth.htpasswd.path (from REGISTRY_AUTH): required',
  ]);
});

test('a provider named with no parameters is refused, never read as no authentication', async () => {
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  htpasswd:\n`), ['auth.htpasswd.realm: required', 'auth.htpasswd.path: required']);
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  silly:\n`), ['auth.silly.realm: required', 'auth.silly.service: required']);
  assert.equal(authOptions((await load(`${MINIMAL}auth:\n  none:\n`)).config), undefined);
});

test('auth: none, auth: {none: }, and no auth all mean no authentication', async () => {
  for (const text of [`${MINIMAL}auth: none\n`, `${MINIMAL}auth:\n  none:\n`, `${MINIMAL}auth:\n`, MINIMAL]) {
    assert.equal(authOptions((await load(text)).config), undefined, text);
  }
});

test('one provider only, and each with its required keys', async () => {
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  silly:\n    realm: a\n    service: b\n  htpasswd:\n    realm: r\n    path: /p\n`), [
    'auth: must name exactly one auth provider, got htpasswd, silly',
  ]);
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  token:\n    realm: r\n    service: s\n`), ['auth.token.issuer: required']);
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n`), [
    'auth.token: needs rootcertbundle or jwks to verify tokens, or a tokenservice section to issue them',
  ]);
});

test('tokenservice needs auth.token, and a signing key path unless storage is filesystem', async () => {
  assert.deepEqual(await problemsOf(`${MINIMAL}tokenservice:\n  htpasswd: /h\n`), [
    'tokenservice: the token service issues the tokens of auth.token: configure auth.token (realm, service, issuer) too',
  ]);
  const token = 'auth:\n  token:\n    realm: https://r/auth/token\n    service: s\n    issuer: i\ntokenservice:\n  htpasswd: /h\n';
  assert.deepEqual(await problemsOf(`version: 0.1\nstorage: inmemory\n${token}`), [
    'tokenservice.signingkey: required unless the storage driver is filesystem (the key is then kept under its root directory)',
  ]);
  const options = authOptions((await load(`${MINIMAL}${token}`)).config);
  assert.deepEqual(options?.tokenService, {
    htpasswd: '/h',
    signingKey: defaultSigningKeyPath('/srv/registry'),
    expirationMs: 300_000,
    refreshExpirationMs: 720 * 3600_000,
  });
  assert.equal(defaultSigningKeyPath('/srv/registry'), '/srv/registry/.wharf/token-signing-key.pem');
});

test('access rules need htpasswd or the token service; loginlimit defaults', async () => {
  assert.deepEqual(await problemsOf(`${MINIMAL}access:\n  rules:\n    - repository: "*"\n      pull: [anonymous]\n`), [
    'access: access rules apply to users of auth.htpasswd or of the built-in tokenservice: configure one of them',
  ]);
  const { config } = await load(`${MINIMAL}auth:\n  htpasswd:\n    realm: r\n    path: /p\naccess:\n  groups:\n    admins: [alice]\n  rules:\n    - repository: "a/**"\n      push: [admins]\n  loginlimit:\n    failures: 3\n    window: 5m\n`);
  const options = authOptions(config);
  assert.deepEqual(options?.access, { groups: { admins: ['alice'] }, rules: [{ repository: 'a/**', push: ['admins'] }] });
  assert.deepEqual(options?.loginLimit, { failures: 3, windowMs: 300_000 });
  assert.deepEqual(await problemsOf(`${MINIMAL}auth:\n  htpasswd:\n    realm: r\n    path: /p\naccess:\n  rules:\n    - repository: x\n      pul: [a]\n`), ['access.rules[0].pul: unknown key (did you mean pull?)']);
});

test('http.tls: certificate and key together; clientcas need them; minimumtls values; letsencrypt refused', async () => {
  const { config } = await load(`${MINIMAL}http:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    clientcas: [/ca.pem]\n    minimumtls: tls1.3\n`);
  assert.deepEqual(tlsSettings(config.http), { certificate: '/c.pem', key: '/k.pem', clientCAs: ['/ca.pem'], minimumTls: 'tls1.3', cipherSuites: [] });
  assert.equal(tlsSettings((await load(MINIMAL)).config.http), undefined);
  assert.deepEqual(await problemsOf(`${MINIMAL}http:\n  tls:\n    certificate: /c.pem\n`), ['http.tls: certificate and key must be given together']);
  assert.deepEqual(await problemsOf(`${MINIMAL}http:\n  tls:\n    clientcas: [/ca.pem]\n`), ['http.tls.clientcas: client certificates need HTTPS: set certificate and key too']);
  const bad = await problemsOf(`${MINIMAL}http:\n  tls:\n    certificate: /c\n    key: /k\n    minimumtls: ssl3\n`);
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /^http\.tls\.minimumtls: /);
  const le = await problemsOf(`${MINIMAL}http:\n  tls:\n    letsencrypt:\n      email: a@b.c\n`);
  assert.match(le[0]!, /^http\.tls\.letsencrypt: Let's Encrypt/);
});
