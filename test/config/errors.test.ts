import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { MINIMAL, configFile, load, problemsOf } from './helpers.js';

test('unknown keys are errors naming the full path, with the closest known key', async () => {
  const problems = await problemsOf(`version: 0.1
storage:
  filesystem:
    rootdirectry: /x
htpp:
  addr: :5000
http:
  adr: :5000
  secret: s
catalog:
  maxentires: 10
notifications:
  endpoint: []
zzz: 1
`);
  assert.deepEqual([...problems].sort(), [
    'catalog.maxentires: unknown key (did you mean maxentries?)',
    'htpp: unknown key (did you mean http?)',
    'http.adr: unknown key (did you mean addr?)',
    'notifications.endpoint: unknown key (did you mean endpoints?)',
    'storage.filesystem.rootdirectry: unknown key (did you mean rootdirectory?)',
    'zzz: unknown key',
  ]);
});

test('wrong types name the path and the expected type', async () => {
  const problems = await problemsOf(`version: 0.1
log:
  level: verbose
  formatter: xml
  fields: [a]
storage:
  filesystem:
    rootdirectory: {}
  delete:
    enabled: maybe
  maintenance:
    uploadpurging:
      age: 10
      interval: 1d
http:
  addr: 5000
  net: udp
  headers:
    X-Frame-Options: DENY
  draintimeout: soon
catalog:
  maxentries: 1.5
validation:
  manifests:
    urls:
      allow: ['(unclosed']
wharf:
  http:
    timeouts:
      header: 30
`);
  assert.deepEqual([...problems].sort(), [
    'catalog.maxentries: expected an integer, got number 1.5',
    'http.addr: expected "host:port" or ":port" (port 0-65535), got "5000"',
    'http.draintimeout: invalid duration "soon" (write e.g. "30s", "1h30m", "500ms")',
    'http.headers.X-Frame-Options: expected a list, got string "DENY"',
    'http.net: expected one of "tcp", "unix", got string "udp"',
    'log.fields: expected a mapping, got a list',
    'log.formatter: expected one of "text", "json", "logstash", got string "xml"',
    'log.level: expected one of "error", "warn", "info", "debug", got string "verbose"',
    'storage.delete.enabled: expected boolean, got string "maybe"',
    'storage.filesystem.rootdirectory: expected string or number or boolean, got a mapping',
    'storage.maintenance.uploadpurging.age: expected a duration string such as "168h", got number 10',
    'storage.maintenance.uploadpurging.interval: unknown unit "d" in duration "1d" (write e.g. "30s", "1h30m", "500ms")',
    'validation.manifests.urls.allow[0]: invalid regular expression: Invalid regular expression: /(unclosed/: Unterminated group',
    'wharf.http.timeouts.header: a bare number is ambiguous here; write a duration with a unit such as "30s" (only 0 may stand alone)',
  ]);
});

test('version and storage are required; other versions are refused', async () => {
  assert.deepEqual(await problemsOf('log:\n  level: info\n'), [
    'version: required: write "version: 0.1" at the top of the file',
    'storage: required: configure one storage driver, e.g. "storage: {filesystem: {rootdirectory: /var/lib/registry}}"',
  ]);
  assert.deepEqual(await problemsOf('version: 0.2\nstorage: inmemory\n'), [
    'version: unsupported version "0.2"; Wharf, like distribution, reads version 0.1 configurations',
  ]);
  assert.deepEqual(await problemsOf('version: 0.10\nstorage: inmemory\n'), [
    'version: unsupported version "0.10"; Wharf, like distribution, reads version 0.1 configurations',
  ]);
  assert.deepEqual(await problemsOf('version: 0.1\nstorage:\n  delete:\n    enabled: true\n'), [
    'storage: no storage driver configured; add one of filesystem, inmemory, s3, azure (e.g. "filesystem: {rootdirectory: /var/lib/registry}")',
  ]);
});

test('two storage drivers are an error', async () => {
  const problems = await problemsOf('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /x\n  inmemory:\n');
  assert.deepEqual(problems, ['storage: exactly one storage driver must be configured, found 2: filesystem, inmemory']);
});

test('refused sections are errors naming the key and why', async () => {
  const problems = await problemsOf(`version: 0.1
storage:
  gcs:
    bucket: a
    keyfile: /shh.json
auth:
  htpasswd:
    realm: basic-realm
    path: /etc/registry/htpasswd
http:
  tls:
    certificate: /cert.pem
    key: /key.pem
    letsencrypt:
      cachefile: /c
middleware:
  storage:
    - name: cloudfront
`);
  assert.equal(problems.length, 3);
  const byKey = new Map(problems.map((p) => [p.slice(0, p.indexOf(':')), p]));
  assert.match(byKey.get('http.tls.letsencrypt') ?? '', /Let's Encrypt .* is not supported yet; give certificate and key instead/);
  assert.match(byKey.get('storage.gcs') ?? '', /the gcs storage driver is not supported yet/);
  assert.match(byKey.get('middleware') ?? '', /middleware .* is not supported yet/);
  for (const driver of ['gcs', 'swift', 'oss']) {
    const refused = await problemsOf(`version: 0.1\nstorage:\n  ${driver}:\n`);
    assert.deepEqual(refused, [`storage.${driver}: the ${driver} storage driver is not supported yet; supported drivers are filesystem, inmemory, s3 and azure`]);
  }
  // empty sections do nothing, so they are fine
  const { warnings } = await load(`${MINIMAL}auth:\nmiddleware: {}\nproxy:\nhttp:\n  tls: {}\n`);
  assert.deepEqual(warnings, []);
});

test('file and YAML errors are ConfigErrors naming the file', async () => {
  await assert.rejects(loadConfig({ file: '/nonexistent/wharf.yml', env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, 'invalid configuration (/nonexistent/wharf.yml, 1 problem):\n  /nonexistent/wharf.yml: cannot read the configuration file: no such file');
    return true;
  });
  const syntax = await problemsOf('version: 0.1\nstorage:\n  filesystem: {\n');
  assert.equal(syntax.length, 1);
  assert.match(syntax[0] ?? '', /^YAML syntax: line \d+, column \d+: /);
  assert.deepEqual(await problemsOf('version: 0.1\nstorage: inmemory\nstorage: inmemory\n'), ['YAML syntax: line 3, column 1: Map keys must be unique']);
  assert.deepEqual(await problemsOf('- a\n- b\n'), ['the file must hold a YAML mapping (version, storage, http, …)']);
  assert.deepEqual(await problemsOf(''), [
    'version: required: write "version: 0.1" at the top of the file',
    'storage: required: configure one storage driver, e.g. "storage: {filesystem: {rootdirectory: /var/lib/registry}}"',
  ]);
});

test('a configuration file in a path with a custom name is reported by that name', async () => {
  const file = await configFile('version: 0.1\nstorage: {}\n', 'registry.yaml');
  await assert.rejects(loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.message.includes(`${file}: storage: no storage driver configured`));
});
