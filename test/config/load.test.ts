import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configToYaml, loadConfig, redactConfig, resolveConfig, EMBEDDED_SOURCE } from '../../src/config/load.js';
import { configSchema, configJsonSchema, compileUrlPattern } from '../../src/config/schema.js';
import { MINIMAL, load, problemsOf } from './helpers.js';

test('embedded default: ./data, :5000, info, JSON lines', async () => {
  const { config, warnings, source } = await loadConfig({ env: {} });
  assert.equal(source, EMBEDDED_SOURCE);
  assert.deepEqual(warnings, []);
  assert.equal(config.version, '0.1');
  assert.deepEqual(config.log, { level: 'info', formatter: 'json', fields: {}, accesslog: { disabled: false } });
  assert.equal(config.storage.driver, 'filesystem');
  assert.ok(config.storage.driver === 'filesystem');
  assert.deepEqual(config.storage.filesystem, { rootdirectory: './data', maxthreads: 100, directio: true });
  assert.equal(config.http.addr, ':5000');
  assert.equal(config.http.net, 'tcp');
  assert.equal(config.http.prefix, '/');
  assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['nosniff'] });
  assert.deepEqual(await loadConfig({ env: {}, defaults: 'embedded' }), { config, warnings, source });
});

test('minimal file: distribution defaults everywhere', async () => {
  const { config, warnings, source } = await load(MINIMAL);
  assert.match(source, /config\.yml$/);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    version: '0.1',
    log: { level: 'info', formatter: 'json', fields: {}, accesslog: { disabled: false } },
    storage: {
      driver: 'filesystem',
      filesystem: { rootdirectory: '/var/lib/registry', maxthreads: 100, directio: true },
      delete: { enabled: false },
      redirect: { disable: false },
      cache: { blobdescriptorsize: 10000 },
      maintenance: {
        uploadpurging: { enabled: true, age: 168 * 3600_000, interval: 24 * 3600_000, dryrun: false },
        readonly: { enabled: false },
      },
      tag: {},
    },
    middleware: {},
    http: {
      addr: ':5000',
      net: 'tcp',
      prefix: '/',
      relativeurls: false,
      headers: { 'X-Content-Type-Options': ['nosniff'] },
      draintimeout: 0,
      http2: { disabled: false },
      debug: { prometheus: { enabled: false, path: '/metrics' } },
    },
    notifications: { events: { includereferences: false }, endpoints: [] },
    health: { storagedriver: { enabled: false, interval: 10_000, threshold: 0 }, file: [], http: [], tcp: [] },
    validation: {
      disabled: false,
      manifests: { urls: { allow: [], deny: [] }, indexes: { platforms: 'all', platformlist: [] } },
    },
    catalog: { maxentries: 1000 },
    tags: { maxtags: 0 },
    wharf: {
      manifests: { maxsize: 4194304 },
      referrers: { pagesize: 500 },
      s3: { delimiterlisting: true },
      cache: { ttl: 2000, maxbytes: 16777216 },
      http: { timeouts: { header: 30_000, idle: 120_000, request: 0 } },
      notifications: {},
    },
    gc: { enabled: false, interval: 86_400_000, deleteuntagged: false, dryrun: false, draintimeout: 300_000 },
    access: { groups: {}, loginlimit: { failures: 10, window: 60_000 } },
  });
});

const FULL = String.raw`
version: 0.1
log:
  accesslog:
    disabled: true
  level: DEBUG
  formatter: logstash
  fields:
    service: registry
    environment: staging
storage:
  filesystem:
    rootdirectory: /srv/registry
    maxthreads: 10
    directio: false
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: inmemory
    blobdescriptorsize: 5000
  maintenance:
    uploadpurging:
      enabled: false
      age: 72h
      interval: 1h30m
      dryrun: true
    readonly:
      enabled: true
http:
  addr: localhost:5000
  net: tcp
  prefix: my/nested/registry
  host: https://myregistryaddress.org:5000
  secret: asecretforlocaldevelopment
  relativeurls: true
  draintimeout: 60s
  headers:
    X-Content-Type-Options: [nosniff]
    Strict-Transport-Security: [max-age=31536000]
  http2:
    disabled: true
  debug:
    addr: 127.0.0.1:5001
    prometheus:
      enabled: true
      path: /prom
notifications:
  events:
    includereferences: true
  endpoints:
    - name: alistener
      url: https://my.listener.com/event
      headers:
        Authorization: [Bearer token]
      timeout: 500ms
      threshold: 5
      backoff: 2s
      ignoredmediatypes: [application/octet-stream]
      ignore:
        mediatypes: [application/vnd.oci.image.config.v1+json]
        actions: [pull]
    - name: paused
      url: http://off.example/
      disabled: true
health:
  storagedriver:
    enabled: true
    interval: 5s
    threshold: 2
  file:
    - file: /tmp/out-of-rotation
      interval: 3s
  http:
    - uri: http://127.0.0.1:9/ping
      headers:
        X-Probe: [1]
      statuscode: 204
      timeout: 2s
      interval: 4s
      threshold: 3
  tcp:
    - addr: 127.0.0.1:6379
      timeout: 750ms
      interval: 6s
      threshold: 1
catalog:
  maxentries: 0
tags:
  maxtags: 100
validation:
  disabled: false
  manifests:
    urls:
      allow:
        - ^https?://([^/]+\.)*example\.com/
      deny:
        - ^https?://www\.example\.com/
    indexes:
      platforms: List
      platformlist:
        - architecture: amd64
          os: linux
wharf:
  manifests:
    maxsize: 1048576
  referrers:
    pagesize: 100
  cache:
    ttl: 500ms
    maxbytes: 1048576
  http:
    timeouts:
      header: 10s
      idle: 1m
      request: 5m
`;

test('full distribution-style file: every implemented key read, defaults filled', async () => {
  const { config, warnings } = await load(FULL);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.log, {
    level: 'debug',
    formatter: 'logstash',
    fields: { service: 'registry', environment: 'staging' },
    accesslog: { disabled: true },
  });
  assert.ok(config.storage.driver === 'filesystem');
  assert.deepEqual(config.storage.filesystem, { rootdirectory: '/srv/registry', maxthreads: 25, directio: false }); // raised to distribution's minimum
  assert.equal(config.storage.delete.enabled, true);
  assert.equal(config.storage.redirect.disable, true);
  assert.deepEqual(config.storage.cache, { blobdescriptor: 'inmemory', blobdescriptorsize: 5000 });
  assert.deepEqual(config.storage.maintenance, {
    uploadpurging: { enabled: false, age: 72 * 3600_000, interval: 5_400_000, dryrun: true },
    readonly: { enabled: true },
  });
  assert.deepEqual(config.http, {
    addr: 'localhost:5000',
    net: 'tcp',
    prefix: '/my/nested/registry/',
    host: 'https://myregistryaddress.org:5000',
    relativeurls: true,
    secret: 'asecretforlocaldevelopment',
    headers: { 'X-Content-Type-Options': ['nosniff'], 'Strict-Transport-Security': ['max-age=31536000'] },
    draintimeout: 60_000,
    http2: { disabled: true },
    debug: { addr: '127.0.0.1:5001', prometheus: { enabled: true, path: '/prom' } },
  });
  assert.deepEqual(config.notifications, {
    events: { includereferences: true },
    endpoints: [
      {
        name: 'alistener', disabled: false, url: 'https://my.listener.com/event', headers: { Authorization: ['Bearer token'] },
        timeout: 500, threshold: 5, backoff: 2000, ignoredmediatypes: ['application/octet-stream'],
        ignore: { mediatypes: ['application/vnd.oci.image.config.v1+json'], actions: ['pull'] },
      },
      {
        name: 'paused', disabled: true, url: 'http://off.example/', headers: {}, timeout: 1000, threshold: 10, backoff: 1000,
        ignoredmediatypes: [], ignore: { mediatypes: [], actions: [] },
      },
    ],
  });
  assert.deepEqual(config.health, {
    storagedriver: { enabled: true, interval: 5000, threshold: 2 },
    file: [{ file: '/tmp/out-of-rotation', interval: 3000 }],
    http: [{ uri: 'http://127.0.0.1:9/ping', headers: { 'X-Probe': ['1'] }, statuscode: 204, timeout: 2000, interval: 4000, threshold: 3 }],
    tcp: [{ addr: '127.0.0.1:6379', timeout: 750, interval: 6000, threshold: 1 }],
  });
  assert.equal(config.catalog.maxentries, 1000); // ≤ 0 means distribution's default
  assert.equal(config.tags.maxtags, 100);
  assert.deepEqual(config.validation.manifests.indexes, { platforms: 'list', platformlist: [{ architecture: 'amd64', os: 'linux' }] });
  assert.equal(config.validation.manifests.urls.allow.length, 1);
  assert.deepEqual(config.wharf, {
    manifests: { maxsize: 1048576 },
    referrers: { pagesize: 100 },
    s3: { delimiterlisting: true },
    cache: { ttl: 500, maxbytes: 1048576 },
    http: { timeouts: { header: 10_000, idle: 60_000, request: 300_000 } },
    notifications: {},
  });
});

test("distribution's own config-example.yml loads (its health section read as distribution reads it)", async () => {
  const { config, warnings } = await load(`version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`);
  assert.equal(config.http.addr, ':5000');
  assert.deepEqual(config.health.storagedriver, { enabled: true, interval: 10_000, threshold: 3 });
  assert.deepEqual(warnings, []);
});

test('storage as a bare driver name, inmemory with no parameters, YAML 1.1 booleans', async () => {
  const { config } = await load('version: "0.1"\nstorage: inmemory\n');
  assert.equal(config.storage.driver, 'inmemory');
  const second = await load('version: 0.1\nstorage:\n  inmemory:\n  delete:\n    enabled: yes\n  redirect:\n');
  assert.ok(second.config.storage.driver === 'inmemory');
  assert.deepEqual(second.config.storage.inmemory, {});
  assert.equal(second.config.storage.delete.enabled, true);
  assert.equal(second.config.storage.redirect.disable, false);
});

test('ignored sections load with one warning each; deprecated keys still work', async () => {
  const { config, warnings } = await load(`version: 0.1
loglevel: warn
log:
  hooks:
    - type: mail
      levels: [panic]
  reportcaller: true
storage:
  filesystem:
  cache:
    layerinfo: redis
  tag:
    concurrencylimit: 8
http:
  secret: not-needed
  debug:
    addr: localhost:5001
    prometheus:
      enabled: true
  h2c:
    enabled: true
notifications:
  endpoints:
    - name: alistener
      url: https://my.listener.com/event
redis:
  addrs: [localhost:6379]
  password: asecret
health:
  storagedriver:
    enabled: true
reporting:
  bugsnag:
    apikey: key
compatibility:
  schema1:
    enabled: true
policy:
  repository:
    classes: [image]
validation:
  enabled: true
`);
  assert.equal(config.log.level, 'warn');
  assert.equal(config.storage.cache.blobdescriptor, 'redis');
  assert.deepEqual(
    warnings.map((w) => w.slice(0, w.indexOf(':'))),
    ['redis', 'http.h2c', 'reporting', 'log.hooks', 'log.reportcaller', 'compatibility', 'policy', 'storage.tag.concurrencylimit', 'loglevel', 'storage.cache.layerinfo', 'validation.enabled'],
  );
  assert.ok(warnings.includes('redis: redis is not supported yet; Wharf will not connect to it and caches in-process instead'));
  assert.ok(!warnings.some((w) => w.startsWith('http.secret')), 'http.secret is accepted silently');
  // log.level wins over the deprecated loglevel; redis blobdescriptor warns
  const second = await load(`version: 0.1\nloglevel: warn\nlog:\n  level: error\nstorage:\n  inmemory:\n  cache:\n    blobdescriptor: redis\n`);
  assert.equal(second.config.log.level, 'error');
  assert.deepEqual(second.warnings, [
    'storage.cache.blobdescriptor: the redis blob descriptor cache is not used yet; Wharf caches blob descriptors in-process',
    'loglevel: deprecated; use log.level (log.level wins when both are set)',
  ]);
});

test('http: unix sockets, prefix normalisation, host URLs, header merge', async () => {
  const unix = await load(`${MINIMAL}http:\n  net: unix\n  addr: /run/wharf.sock\n  prefix: /v/\n`);
  assert.equal(unix.config.http.addr, '/run/wharf.sock');
  assert.equal(unix.config.http.prefix, '/v/');
  assert.deepEqual(await problemsOf(`${MINIMAL}http:\n  net: unix\n`), ['http.addr: required when http.net is unix: the path of the socket']);
  assert.deepEqual(await problemsOf(`${MINIMAL}http:\n  host: myregistry.example.com\n  addr: ":70000"\n`), [
    'http.addr: expected "host:port" or ":port" (port 0-65535), got ":70000"',
    'http.host: expected an absolute http:// or https:// URL such as "https://registry.example.com", got "myregistry.example.com"',
  ]);
  const v6 = await load(`${MINIMAL}http:\n  addr: "[::1]:5000"\n  prefix: ""\n  headers:\n    x-content-type-options: []\n    X-Frame-Options: [DENY]\n`);
  assert.equal(v6.config.http.addr, '[::1]:5000');
  assert.equal(v6.config.http.prefix, '/');
  assert.deepEqual(v6.config.http.headers, { 'X-Frame-Options': ['DENY'] });
});

test('the configuration is deep-frozen', async () => {
  const { config } = await load(FULL);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.storage.maintenance.uploadpurging));
  assert.ok(Object.isFrozen(config.http.headers['X-Content-Type-Options']));
  assert.throws(() => {
    (config.http as { addr: string }).addr = ':1';
  }, TypeError);
  assert.throws(() => {
    (config.validation.manifests.urls.allow as string[]).push('x');
  }, TypeError);
});

test('redaction hides secrets at any depth and leaves the input alone', async () => {
  const { config } = await load(FULL);
  const redacted = redactConfig(config);
  assert.equal(redacted.http.secret, '[redacted]');
  assert.equal(config.http.secret, 'asecretforlocaldevelopment');
  assert.deepEqual(
    redactConfig({ redis: { password: 'p', addr: 'a' }, storage: { s3: { secretkey: 's', accesskey: 'k', bucket: 'b' }, azure: { accountkey: 'k' } }, list: [{ password: 'x' }], empty: { password: '' } }),
    { redis: { password: '[redacted]', addr: 'a' }, storage: { s3: { secretkey: '[redacted]', accesskey: '[redacted]', bucket: 'b' }, azure: { accountkey: '[redacted]' } }, list: [{ password: '[redacted]' }], empty: { password: '' } },
  );
  const yaml = configToYaml(config);
  assert.ok(!yaml.includes('asecretforlocaldevelopment'));
  assert.match(yaml, /secret: "?\[redacted\]"?/);
});

test('printed YAML reads back to the same configuration', async () => {
  for (const text of [FULL, MINIMAL, 'version: 0.1\nstorage: inmemory\nhttp:\n  draintimeout: 1500000\n']) {
    const first = await load(text);
    const again = await load(configToYaml(first.config, { redact: false }));
    assert.deepEqual(again.config, first.config);
  }
  const yaml = configToYaml((await load(FULL)).config);
  assert.match(yaml, /age: 72h\n/);
  assert.match(yaml, /interval: 1h30m\n/);
  assert.doesNotMatch(yaml, /^\s*driver:/m);
});

test('configSchema and resolveConfig work on in-memory documents', () => {
  const parsed = configSchema.parse({ version: '0.1', storage: { inmemory: null } });
  assert.equal(parsed.storage.driver, 'inmemory');
  const resolved = resolveConfig({ version: 0.1, storage: 'inmemory' }, 'memory', {});
  assert.equal(resolved.source, 'memory');
  assert.equal(resolved.config.storage.driver, 'inmemory');
  assert.throws(() => resolveConfig({ version: '0.1', storage: 'inmemory', auth: { token: {} } }, 'memory', {}), ConfigError);
});

test('configJsonSchema describes the file', () => {
  const schema = configJsonSchema();
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  const properties = schema.properties as Record<string, { properties?: Record<string, unknown> }>;
  assert.ok(properties.storage?.properties?.filesystem);
  assert.ok(properties.wharf?.properties?.manifests);
  assert.deepEqual(schema.required, ['version', 'storage']);
  assert.equal(schema.additionalProperties, false);
});

test('URL patterns accept RE2 spellings', () => {
  assert.ok(compileUrlPattern('(?i)^HTTPS://example\\.com/').test('https://EXAMPLE.com/x'));
  assert.ok(compileUrlPattern('^https://(?P<host>[^/]+)/').test('https://a/'));
});
