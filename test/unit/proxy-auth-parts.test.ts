/** Unit tests of the cache's parts: WWW-Authenticate parsing, repository globs, credential caching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges, pickChallenge } from '../../src/proxy/challenge.js';
import { globToRegExp } from '../../src/proxy/routing.js';
import { cached, helperProgram, serverUrlFor } from '../../src/proxy/credentials.js';

test('parses Bearer and Basic challenges, quoted values with commas and escapes', () => {
  const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push", Basic realm="a \\"b\\""';
  assert.deepEqual(parseChallenges(header), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push' } },
    { scheme: 'basic', params: { realm: 'a "b"' } },
  ]);
  assert.equal(pickChallenge(['Basic realm="x"', 'Bearer realm="y"'])?.scheme, 'bearer');
  assert.deepEqual(pickChallenge('basic realm=plain'), { scheme: 'basic', params: { realm: 'plain' } });
  assert.equal(pickChallenge('Negotiate abc'), undefined);
  assert.equal(pickChallenge(undefined), undefined);
});

test('globs: * stays within a path component, ** crosses them, the rest is literal', () => {
  assert.ok(globToRegExp('ghcr.io/org/*').test('ghcr.io/org/app'));
  assert.ok(!globToRegExp('ghcr.io/org/*').test('ghcr.io/org/team/app'));
  assert.ok(globToRegExp('ghcr.io/**').test('ghcr.io/org/team/app'));
  assert.ok(!globToRegExp('ghcr.io/**').test('ghcrXio/org'));
});

test('credential sources are cached for their lifetime and asked once at a time', async () => {
  let calls = 0;
  const source = cached({ get: async () => ({ username: 'u', password: String(++calls) }) }, 10_000);
  const answers = await Promise.all([source.get(), source.get(), source.get()]);
  assert.deepEqual(answers.map((a) => a?.password), ['1', '1', '1']);
  assert.equal(calls, 1);
  assert.equal(helperProgram('pass'), 'docker-credential-pass');
  assert.equal(helperProgram('/opt/bin/helper'), '/opt/bin/helper');
  assert.equal(serverUrlFor('registry-1.docker.io'), 'https://index.docker.io/v1/');
  assert.equal(serverUrlFor('ghcr.io'), 'ghcr.io');
});
