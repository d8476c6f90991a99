/** The pull-through cache's configuration: distribution's `proxy` section and Wharf's `upstreams`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINIMAL, load, problemsOf } from './helpers.js';
import { configToYaml } from '../../src/config/load.js';
import { upstreamsFromConfig } from '../../src/proxy/setup.js';
import { UpstreamRouter } from '../../src/proxy/routing.js';

test("distribution's proxy section: its keys, its ttl default of 168h, REGISTRY_PROXY_* overrides", async () => {
  const { config } = await load(`${MINIMAL}proxy:\n  remoteurl: https://registry-1.docker.io\n  username: u\n  password: p\n`);
  assert.equal(config.proxy?.remoteurl, 'https://registry-1.docker.io');
  assert.equal(config.proxy?.ttl, 168 * 3600 * 1000);
  const fromEnv = await load(MINIMAL, { REGISTRY_PROXY_REMOTEURL: 'https://mirror.example', REGISTRY_PROXY_TTL: '1h' });
  assert.equal(fromEnv.config.proxy?.remoteurl, 'https://mirror.example');
  assert.equal(fromEnv.config.proxy?.ttl, 3600 * 1000);
  const [only] = upstreamsFromConfig(config.proxy, config.upstreams ?? []);
  assert.equal(only?.catchAll, true);
  assert.equal(only?.writable, false);
  assert.equal(only?.freshnessMs, 0, 'every tag pull asks the upstream, as distribution does');
  const problems = await problemsOf(`${MINIMAL}proxy:\n  remoteurl: not a url\n`);
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? '', /^proxy\.remoteurl: expected the registry's base URL/);
});

test('upstreams: defaults, routing, and every problem named', async () => {
  const { config } = await load(`${MINIMAL}upstreams:
  - name: hub
    url: https://registry-1.docker.io
    prefixes: [docker.io/, hub/]
  - name: ghcr
    url: https://ghcr.io
    patterns: ["ghcr.io/org/**"]
    stripprefix: ghcr.io/
    freshness: 30s
    ttl: 0
    writable: true
`);
  const upstreams = upstreamsFromConfig(config.proxy, config.upstreams ?? []);
  // `wharf config print` writes durations back in Go syntax, and reads back to the same configuration.
  const printed = configToYaml(config);
  assert.match(printed, /freshness: 30s/);
  assert.deepEqual((await load(printed)).config, config);
  assert.equal(upstreams[0]?.freshnessMs, 5 * 60 * 1000);
  assert.equal(upstreams[0]?.ttlMs, 168 * 3600 * 1000);
  assert.deepEqual(upstreams[0]?.namespaces, ['docker.io', 'registry-1.docker.io']);
  assert.equal(upstreams[1]?.ttlMs, 0);
  const router = new UpstreamRouter(upstreams);
  const route = (name: string, ns?: string) => {
    const r = router.route(name, ns);
    return r === undefined ? undefined : [r.upstream.name, r.localName, r.remoteName];
  };
  assert.deepEqual(route('docker.io/library/alpine'), ['hub', 'docker.io/library/alpine', 'library/alpine']);
  assert.deepEqual(route('hub/alpine'), ['hub', 'hub/alpine', 'library/alpine'], "Docker Hub's official images");
  assert.deepEqual(route('ghcr.io/org/app'), ['ghcr', 'ghcr.io/org/app', 'org/app']);
  assert.deepEqual(route('ghcr.io/org/team/app'), ['ghcr', 'ghcr.io/org/team/app', 'org/team/app']);
  assert.deepEqual(route('library/alpine', 'docker.io'), ['hub', 'docker.io/library/alpine', 'library/alpine']);
  assert.deepEqual(route('org/app', 'ghcr.io'), ['ghcr', 'ghcr.io/org/app', 'org/app']);
  assert.equal(route('ghcr.io/other/app'), undefined);
  assert.equal(route('team/app'), undefined, 'a private repository');

  const problems = await problemsOf(`${MINIMAL}upstreams:
  - name: a
    url: ftp://x
    prefixes: [no-slash]
  - name: b
    url: https://b.example
    freshness: 5
    namespaces: ["not a host"]
`);
  assert.deepEqual([...problems].sort(), [
    'upstreams[0].prefixes[0]: a repository-name prefix ending in "/", such as "hub/" or "docker.io/"',
    'upstreams[0].url: expected the registry\'s base URL such as "https://registry-1.docker.io", got "ftp://x"',
    'upstreams[1].freshness: a bare number is ambiguous here; write a duration with a unit such as "5s" (only 0 may stand alone)',
    'upstreams[1].namespaces[0]: a registry host such as "docker.io" or "host:5000"',
  ].sort());
  const crossProblems = await problemsOf(`${MINIMAL}upstreams:
  - {name: a, url: "https://a.example"}
  - {name: a, url: "https://b.example", password: p}
`);
  assert.deepEqual([...crossProblems].sort(), [
    'upstreams[1].name: upstream name "a" is used twice',
    'upstreams[1].password: a password needs a username',
  ]);
});
