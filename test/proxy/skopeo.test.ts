/**
 * The pull-through cache end to end: the real server (`wharf serve config.yml`) with an
 * `upstreams:` section in front of another Wharf and of distribution's registry with htpasswd,
 * driven by skopeo. Cold pulls through each upstream, a warm pull with the upstream stopped (also
 * after the cache restarts), a push to a private repository beside the cache, and distribution's
 * own `proxy:` section (pulls through, pushes refused).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageBlobs, writeLayout, type BuiltImage } from '../helpers/oci-layout.js';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { makeClients, verifyLayout, type Clients } from '../helpers/clients.js';
import { startDistributionUpstream, type DistributionUpstream } from './distribution-upstream.js';

const USER = 'bob';
const PASSWORD = 'pw-for-bob';

describe('pull-through cache with skopeo', () => {
  let work: string;
  let clients: Clients;
  let upstreamWharf: WharfProcess | undefined;
  let dist: DistributionUpstream;
  let cache: WharfProcess | undefined;
  let cacheConfig: string;
  const wharfImage: BuiltImage = buildImage([{ 'etc/wharf': 'from the wharf upstream\n' }, { 'bin/tool': Buffer.alloc(300_000, 7) }]);
  const distImage: BuiltImage = buildImage([{ 'etc/dist': 'from distribution\n' }]);
  const ownImage: BuiltImage = buildImage([{ 'etc/own': 'pushed beside the cache\n' }]);

  const layout = async (name: string, image: BuiltImage): Promise<string> => {
    const dir = join(work, 'layouts', name);
    await writeLayout(dir, 'v1', image.manifest, imageBlobs(image));
    return dir;
  };

  const pull = async (host: string, repo: string, expected: BuiltImage): Promise<void> => {
    const out = join(work, 'pulls', `${repo.replace(/\//g, '_')}-${Math.random().toString(36).slice(2, 8)}`);
    await clients.skopeo(['copy', '--src-tls-verify=false', `docker://${host}/${repo}:v1`, `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, expected.manifest.digest, `${repo} via ${host}: the manifest digest`);
    assert.deepEqual([...pulled.digests].sort(), imageBlobs(expected).map((b) => b.digest).sort());
  };

  before(async () => {
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-proxy-e2e-'));
    clients = await makeClients(join(work, 'clients'), []);
    await mkdir(join(work, 'pulls'), { recursive: true });
    upstreamWharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'upstream-root'), REGISTRY_LOG_ACCESSLOG_DISABLED: 'true' });
    dist = await startDistributionUpstream(work, USER, PASSWORD);
    await clients.skopeo(['copy', '--dest-tls-verify=false', '--preserve-digests', `oci:${await layout('wharf', wharfImage)}:v1`, `docker://${upstreamWharf.host}/lib/app:v1`]);
    await clients.skopeo(['copy', '--dest-tls-verify=false', '--preserve-digests', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${await layout('dist', distImage)}:v1`, `docker://${dist.host}/team/tool:v1`]);
    cacheConfig = join(work, 'cache.yml');
    await writeFile(cacheConfig, [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(work, 'cache-root')}}}`,
      'upstreams:',
      '  - name: wharf',
      `    url: ${upstreamWharf.url}`,
      '    prefixes: [wharf/]',
      '    freshness: 0s',
      '  - name: dist',
      `    url: ${dist.url}`,
      '    prefixes: [dist/]',
      `    username: ${USER}`,
      `    password: ${PASSWORD}`,
      '',
    ].join('\n'));
    cache = await startWharfProcess({}, cacheConfig);
  });
  after(async () => {
    await cache?.stop();
    await upstreamWharf?.stop();
    await dist?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('pulls cold through a Wharf upstream and through distribution with htpasswd', async () => {
    await pull(cache!.host, 'wharf/lib/app', wharfImage);
    await pull(cache!.host, 'dist/team/tool', distImage);
  });

  it('pushes to a private repository beside the cache and refuses a push into a cached one', async () => {
    const own = await layout('own', ownImage);
    await clients.skopeo(['copy', '--dest-tls-verify=false', '--preserve-digests', `oci:${own}:v1`, `docker://${cache!.host}/own/app:v1`]);
    await pull(cache!.host, 'own/app', ownImage);
    const refused = await clients.raw('skopeo', ['copy', '--dest-tls-verify=false', `oci:${own}:v1`, `docker://${cache!.host}/wharf/lib/app:v2`]);
    assert.notEqual(refused.code, 0);
  });

  it('pulls warm with the upstream stopped, also after the cache restarts', async () => {
    await upstreamWharf!.stop();
    upstreamWharf = undefined;
    await pull(cache!.host, 'wharf/lib/app', wharfImage);
    await cache!.stop();
    cache = await startWharfProcess({}, cacheConfig);
    await pull(cache.host, 'wharf/lib/app', wharfImage);
  });

  it("serves distribution's proxy section: every repository mirrored, pushes refused", async () => {
    const config = join(work, 'proxy.yml');
    await writeFile(config, [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(work, 'proxy-root')}}}`,
      'proxy:',
      `  remoteurl: ${dist.url}`,
      `  username: ${USER}`,
      `  password: ${PASSWORD}`,
      '  ttl: 1h',
      '',
    ].join('\n'));
    const mirror = await startWharfProcess({}, config);
    try {
      await pull(mirror.host, 'team/tool', distImage);
      const refused = await clients.raw('skopeo', ['copy', '--dest-tls-verify=false', `oci:${await layout('own2', ownImage)}:v1`, `docker://${mirror.host}/own/app:v1`]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /unsupported|405|pull-through/i);
    } finally {
      await mirror.stop();
    }
  });
});
