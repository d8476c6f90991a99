import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { MINIMAL, load, problemsOf } from './helpers.js';

const FILE = `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: false
http:
  addr: :5000
`;

test('REGISTRY_* variables override file keys, values parsed as YAML', async () => {
  const { config } = await load(FILE, {
    REGISTRY_HTTP_ADDR: '127.0.0.1:5100',
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/tmp/x',
    REGISTRY_STORAGE_DELETE_ENABLED: 'true',
    REGISTRY_LOG_LEVEL: 'debug',
    REGISTRY_WHARF_MANIFESTS_MAXSIZE: '1048576',
    REGISTRY_HTTP_DRAINTIMEOUT: '60s',
    REGISTRY_LOG_FIELDS_SERVICE: 'registry',
    REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW: '[^https://a/, ^https://b/]',
    REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED: 'yes',
    PATH: '/usr/bin',
    registry_http_addr: 'ignored: not the REGISTRY_ prefix',
  });
  assert.equal(config.http.addr, '127.0.0.1:5100');
  assert.ok(config.storage.driver === 'filesystem');
  assert.equal(config.storage.filesystem.rootdirectory, '/tmp/x');
  assert.equal(config.storage.delete.enabled, true);
  assert.equal(config.log.level, 'debug');
  assert.equal(config.wharf.manifests.maxsize, 1048576);
  assert.equal(config.http.draintimeout, 60_000);
  assert.deepEqual(config.log.fields, { service: 'registry' });
  assert.deepEqual(config.validation.manifests.urls.allow, ['^https://a/', '^https://b/']);
  assert.equal(config.storage.maintenance.readonly.enabled, true);
});

test('overrides apply to the embedded default too', async () => {
  const { config, source } = await loadConfig({
    env: { REGISTRY_HTTP_ADDR: '127.0.0.1:5100', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/tmp/x', REGISTRY_LOG_LEVEL: 'debug' },
  });
  assert.equal(source, 'embedded default');
  assert.equal(config.http.addr, '127.0.0.1:5100');
  assert.ok(config.storage.driver === 'filesystem');
  assert.equal(config.storage.filesystem.rootdirectory, '/tmp/x');
  assert.equal(config.log.level, 'debug');
  assert.equal(config.log.formatter, 'json');
});

test('list elements by index', async () => {
  const { config } = await load(`${MINIMAL}validation:\n  manifests:\n    urls:\n      allow: ['^a', '^b']\n`, {
    REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW_1: '^c',
    REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW_2: '^d',
    REGISTRY_VALIDATION_MANIFESTS_URLS_DENY_0: '^e',
    REGISTRY_VALIDATION_MANIFESTS_INDEXES_PLATFORMLIST_0_OS: 'linux',
    REGISTRY_VALIDATION_MANIFESTS_INDEXES_PLATFORMLIST_0_ARCHITECTURE: 'arm64',
  });
  assert.deepEqual(config.validation.manifests.urls.allow, ['^a', '^c', '^d']);
  assert.deepEqual(config.validation.manifests.urls.deny, ['^e']);
  assert.deepEqual(config.validation.manifests.indexes.platformlist, [{ os: 'linux', architecture: 'arm64' }]);
  assert.deepEqual(await problemsOf(MINIMAL, { REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW_3: '^x' }), [
    'validation.manifests.urls.allow: environment variable REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW_3: "3" is not an index of validation.manifests.urls.allow (a list of 0)',
  ]);
});

test('REGISTRY_STORAGE selects the driver, replacing the driver section only', async () => {
  const inmemory = await load(FILE, { REGISTRY_STORAGE: 'inmemory' });
  assert.equal(inmemory.config.storage.driver, 'inmemory');
  assert.equal(inmemory.config.storage.delete.enabled, false);
  const kept = await load(FILE, { REGISTRY_STORAGE: 'inmemory', REGISTRY_STORAGE_DELETE_ENABLED: 'true' });
  assert.equal(kept.config.storage.delete.enabled, true);
  // the same driver again: its file parameters are dropped, env parameters apply (as distribution)
  const same = await load(`version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /from/file\n    maxthreads: 50\n`, {
    REGISTRY_STORAGE: 'filesystem',
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/from/env',
    REGISTRY_STORAGE_FILESYSTEM_DIRECTIO: 'false',
  });
  assert.ok(same.config.storage.driver === 'filesystem');
  assert.deepEqual(same.config.storage.filesystem, { rootdirectory: '/from/env', maxthreads: 100, directio: false });
  // from a bare driver name in the file, and on the embedded default
  const bare = await load('version: 0.1\nstorage: inmemory\n', { REGISTRY_STORAGE: 'filesystem' });
  assert.ok(bare.config.storage.driver === 'filesystem');
  assert.equal(bare.config.storage.filesystem.rootdirectory, '/var/lib/registry');
  const embedded = await loadConfig({ env: { REGISTRY_STORAGE: 'inmemory' } });
  assert.equal(embedded.config.storage.driver, 'inmemory');
  const s3 = await load(FILE, { REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_BUCKET: 'b', REGISTRY_STORAGE_S3_REGION: 'eu-west-1', REGISTRY_STORAGE_S3_SECURE: 'false' });
  assert.ok(s3.config.storage.driver === 's3');
  assert.deepEqual(s3.config.storage.s3, { bucket: 'b', region: 'eu-west-1', secure: false });
  const azure = await load(FILE, { REGISTRY_STORAGE: 'azure', REGISTRY_STORAGE_AZURE_ACCOUNTNAME: 'a', REGISTRY_STORAGE_AZURE_CONTAINER: 'c', REGISTRY_STORAGE_AZURE_MAXRETRIES: '-1' });
  assert.ok(azure.config.storage.driver === 'azure');
  assert.deepEqual(azure.config.storage.azure, { accountname: 'a', container: 'c', maxretries: -1 });
  assert.deepEqual(await problemsOf(FILE, { REGISTRY_STORAGE: 'gcs', REGISTRY_STORAGE_GCS_BUCKET: 'a' }), [
    'storage.gcs (from REGISTRY_STORAGE): the gcs storage driver is not supported yet; supported drivers are filesystem, inmemory, s3 and azure',
  ]);
});

test('adding a driver by variable next to the file one is two drivers', async () => {
  assert.deepEqual(await problemsOf(FILE, { REGISTRY_STORAGE_INMEMORY: '' }), [
    'storage (from REGISTRY_STORAGE_INMEMORY): exactly one storage driver must be configured, found 2: filesystem, inmemory',
  ]);
});

test('a variable that names no key is an error naming the variable', async () => {
  const problems = await problemsOf(FILE, {
    REGISTRY_HTTP_ADDRR: ':1',
    REGISTRY_DUCKS: 'quack',
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIR: '/x',
  });
  assert.deepEqual([...problems].sort(), [
    'ducks: environment variable REGISTRY_DUCKS names no configuration key',
    'http.addrr: environment variable REGISTRY_HTTP_ADDRR names no configuration key (did you mean REGISTRY_HTTP_ADDR?)',
    'storage.filesystem.rootdir: environment variable REGISTRY_STORAGE_FILESYSTEM_ROOTDIR names no configuration key (did you mean REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY?)',
  ]);
});

test('Kubernetes and Docker link variables for a "registry" service are skipped', async () => {
  const { config } = await load(FILE, {
    REGISTRY_PORT: 'tcp://10.0.0.1:5000',
    REGISTRY_PORT_5000_TCP: 'tcp://10.0.0.1:5000',
    REGISTRY_PORT_5000_TCP_ADDR: '10.0.0.1',
    REGISTRY_PORT_5000_TCP_PORT: '5000',
    REGISTRY_PORT_5000_TCP_PROTO: 'tcp',
    REGISTRY_SERVICE_HOST: '10.0.0.1',
    REGISTRY_SERVICE_PORT: '5000',
    REGISTRY_SERVICE_PORT_HTTP: '5000',
    REGISTRY_UI_SERVICE_HOST: '10.0.0.2',
    REGISTRY_NAME: '/web/registry',
    REGISTRY_ENV_FOO: 'bar',
  });
  assert.equal(config.http.addr, ':5000');
});

test('values of the wrong type or bad YAML name the variable', async () => {
  const problems = await problemsOf(FILE, {
    REGISTRY_STORAGE_DELETE_ENABLED: 'maybe',
    REGISTRY_LOG_LEVEL: '[',
    REGISTRY_HTTP_ADDR_HOST: '1',
    REGISTRY__X: '1',
  });
  assert.deepEqual([...problems].sort(), [
    'environment variable REGISTRY_LOG_LEVEL: value is not valid YAML: Flow sequence must end with a ]',
    'environment variable REGISTRY__X: malformed name (empty segment between underscores)',
    'http.addr: environment variable REGISTRY_HTTP_ADDR_HOST: cannot set a key below http.addr, which holds string ":5000"',
    'storage.delete.enabled (from REGISTRY_STORAGE_DELETE_ENABLED): expected boolean, got string "maybe"',
  ]);
});

test('refused sections set by variables are refused', async () => {
  assert.deepEqual(await problemsOf(FILE, { REGISTRY_HTTP_TLS_LETSENCRYPT_CACHEFILE: '/le.cache' }), [
    "http.tls.letsencrypt (from REGISTRY_HTTP_TLS_LETSENCRYPT_CACHEFILE): Let's Encrypt (http.tls.letsencrypt) is not supported yet; give certificate and key instead, or terminate TLS in a reverse proxy",
  ]);
});
