/**
 * Upstream authentication of the pull-through cache: Basic against distribution's registry with
 * htpasswd (static credentials, a docker config.json, a credential helper program), and docker's
 * Bearer token dance against a small token server in front of a Wharf upstream (401 with
 * `WWW-Authenticate: Bearer realm,service,scope` → GET realm with service and scope → retry with
 * the token), with the token reused until it expires.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { TestClient, errorCode } from '../helpers/client.js';
import { bodyDigest, startCache, startGate, upstream, type Gate } from './helpers.js';
import { startDistributionUpstream, type DistributionUpstream } from './distribution-upstream.js';
import { staticCredentials } from '../../src/proxy/credentials.js';
import { upstreamFromConfig } from '../../src/proxy/setup.js';
import { upstreamsSchema } from '../../src/config/schema-proxy.js';

const USER = 'alice';
const PASSWORD = 's3cret-pw';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pullImage(cacheUrl: string, name: string, image: { digest: string; layers: { digest: string }[]; config: { digest: string } }): Promise<void> {
  const client = new TestClient(cacheUrl);
  const res = await client.request(`/v2/${name}/manifests/v1`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('docker-content-digest'), image.digest);
  for (const blob of [image.config, ...image.layers]) {
    assert.equal(await bodyDigest(await client.request(`/v2/${name}/blobs/${blob.digest}`)), blob.digest);
  }
}

describe('Basic against distribution with htpasswd', () => {
  let dir: string;
  let dist: DistributionUpstream;
  let image: Awaited<ReturnType<TestClient['pushImage']>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-proxy-auth-'));
    dist = await startDistributionUpstream(dir, USER, PASSWORD);
    image = await dist.client.pushImage('private/app', 'v1', { layers: 2 });
  });
  after(async () => {
    await dist.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls through with static credentials', async () => {
    const cache = await startCache([upstream('dist', dist.url, { prefixes: ['d/'], credentials: staticCredentials(USER, PASSWORD) })]);
    try {
      await pullImage(cache.url, 'd/private/app', image);
    } finally {
      await cache.stop(0);
    }
  });

  it('answers DENIED without credentials, and with wrong ones', async () => {
    for (const credentials of [undefined, staticCredentials(USER, 'wrong')]) {
      const cache = await startCache([upstream('dist', dist.url, { prefixes: ['d/'], ...(credentials !== undefined && { credentials }) })]);
      try {
        const res = await new TestClient(cache.url).request('/v2/d/private/app/manifests/v1');
        assert.equal(res.status, 403);
        assert.equal(await errorCode(res), 'DENIED');
      } finally {
        await cache.stop(0);
      }
    }
  });

  it('takes credentials from a docker config.json (auths) and from a credential helper', async () => {
    const auths = join(dir, 'config-auths.json');
    await writeFile(auths, JSON.stringify({ auths: { [`http://${dist.host}`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    const asked = join(dir, 'helper-asked');
    const helper = join(bin, 'docker-credential-wharftest');
    await writeFile(helper, `#!/bin/sh\n[ "$1" = get ] || exit 1\ncat > '${asked}'\nprintf '{"ServerURL":"x","Username":"${USER}","Secret":"${PASSWORD}"}'\n`);
    await chmod(helper, 0o755);
    const helpers = join(dir, 'config-helpers.json');
    await writeFile(helpers, JSON.stringify({ auths: {}, credHelpers: { [dist.host]: helper } }));
    for (const dockerconfig of [auths, helpers]) {
      const [config] = upstreamsSchema.parse([{ name: 'dist', url: dist.url, prefixes: ['d/'], dockerconfig }]);
      const cache = await startCache([upstreamFromConfig(config!)]);
      try {
        await pullImage(cache.url, 'd/private/app', image);
      } finally {
        await cache.stop(0);
      }
    }
    assert.equal(await readFile(asked, 'utf8'), dist.host, 'the helper was asked for the upstream host on stdin');
  });
});

describe('Bearer token dance', () => {
  let origin: TestWharf;
  let gate: Gate;
  let tokenServer: Server;
  let tokenUrl: string;
  const issued: { scope: string | null; service: string | null; authorization: string | undefined }[] = [];
  let lifetimeS = 300;
  const TOKEN = randomBytes(16).toString('hex');

  before(async () => {
    origin = await startTestWharf();
    gate = await startGate(origin.url);
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://token');
      issued.push({ scope: url.searchParams.get('scope'), service: url.searchParams.get('service'), authorization: req.headers.authorization });
      if (req.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: TOKEN, expires_in: lifetimeS, issued_at: new Date().toISOString() }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    gate.bearer = { token: TOKEN, challenge: `Bearer realm="${tokenUrl}",service="wharf-test",scope="repository:tok/app:pull"` };
  });
  after(async () => {
    await gate.close();
    await origin.stop(0);
    await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
  });

  it('answers the challenge with a token for the scope, reuses it, and fetches a new one after expiry', async () => {
    const originClient = new TestClient(origin.url);
    const image = await originClient.pushImage('tok/app', 'v1', { layers: 2 });
    const cache = await startCache([upstream('tok', gate.url, { prefixes: ['b/'], credentials: staticCredentials(USER, PASSWORD), freshnessMs: 0 })]);
    try {
      lifetimeS = 5;
      await pullImage(cache.url, 'b/tok/app', image);
      assert.equal(issued.length, 1, 'one token for the whole pull');
      assert.deepEqual(issued[0], { scope: 'repository:tok/app:pull', service: 'wharf-test', authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` });
      const unauthorised = gate.total(/^HEAD \/v2\/tok\/app\/manifests\/v1$/);
      assert.equal(unauthorised, 2, 'the first request was refused with the challenge, the retry carried the token');
      await sleep(5_200);
      const res = await new TestClient(cache.url).request('/v2/b/tok/app/manifests/v1');
      assert.equal(res.status, 200);
      assert.equal(issued.length, 2, 'an expired token is replaced');
    } finally {
      await cache.stop(0);
    }
  });
});
