/**
 * Wharf's gc against distribution's own `garbage-collect` (Debian's docker-registry, 2.8.2) on
 * copies of ONE root written by distribution: shared layers, a tag moved away, a multi-arch index
 * with untagged children, referrers (a signature, an SBOM of the signature, a signature of the
 * index, a signature of an untagged manifest), a manifest deleted by digest and an orphan blob.
 * The file trees after each are diffed; they must be equal except for these documented cases:
 *
 * 1. `_layers` links to swept blobs: Wharf removes them (as distribution 3 does); 2.8.2 leaves them
 *    dangling. Both modes.
 * 2. With --delete-untagged, the children of a kept index: 2.8.2 deletes their revision links and
 *    sweeps their configs and layers (it marks the child manifests' own blobs only), which breaks
 *    the multi-arch image; Wharf keeps them whole.
 * 3. With --delete-untagged, referrers whose subject is kept (signatures, SBOMs, also a referrer of
 *    a referrer): 2.8.2 deletes them (revision link, manifest blob, their blobs); Wharf keeps them.
 *    A referrer whose subject goes is removed by both.
 *
 * Then Wharf serves each collected root: on Wharf's, everything reachable pulls intact; on
 * distribution's --delete-untagged root, the multi-arch image no longer does (case 2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TestClient } from '../helpers/client.js';
import { distributionConfig, freePort, startDistribution } from '../helpers/distribution.js';
import { MAIN, requireProgram, run } from '../helpers/process.js';
import { pullIntact, pushGcFixture, verifyAfterGc, type GcFixture } from '../helpers/gc-fixture.js';
import { startTestWharf } from '../helpers/wharf.js';
import { makeClients, verifyLayout } from '../helpers/clients.js';
import { FilesystemDriver } from '../../src/storage/filesystem/filesystem-driver.js';
import { wrapDriver } from '../../src/storage/base.js';

async function filesBelow(dir: string): Promise<Set<string>> {
  const base = join(dir, 'docker/registry/v2');
  const entries = await readdir(base, { recursive: true, withFileTypes: true });
  return new Set(entries.filter((e) => e.isFile()).map((e) => relative(base, join(e.parentPath, e.name))));
}

const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();
const blobFile = (digest: string): string => {
  const [alg, hex] = digest.split(':') as [string, string];
  return `blobs/${alg}/${hex.slice(0, 2)}/${hex}/data`;
};
const blobsIn = (files: Set<string>): Set<string> =>
  new Set([...files].map((f) => /^blobs\/(\w+)\/\w\w\/(\w+)\/data$/.exec(f)).filter((m) => m !== null).map((m) => `${m[1]}:${m[2]}`));

describe('wharf gc and distribution garbage-collect on copies of one distribution root', () => {
  let work: string;
  let original: Set<string>;
  let fixture: GcFixture;

  before(async () => {
    requireProgram('docker-registry');
    work = await mkdtemp(join(tmpdir(), 'wharf-gc-compare-'));
    const host = `127.0.0.1:${await freePort()}`;
    const config = join(work, 'source.yml');
    await writeFile(config, distributionConfig(join(work, 'source'), host));
    const distribution = await startDistribution(config, host);
    try {
      // distribution 2.8 cannot delete a tag: untagging is done by moving tags.
      fixture = await pushGcFixture(new TestClient(distribution.url), { canDeleteTags: false });
    } finally {
      await distribution.stop();
    }
    original = await filesBelow(join(work, 'source'));
    // Past the collector's margin for files written while it runs.
    await new Promise((r) => setTimeout(r, 2_100));
  });
  after(() => (work === undefined ? undefined : rm(work, { recursive: true, force: true })));

  /** Collects a copy of the source root with distribution and another with Wharf. */
  async function collectBoth(deleteUntagged: boolean): Promise<{ dist: Set<string>; wharf: Set<string>; wharfRoot: string; distRoot: string }> {
    const flag = deleteUntagged ? ['--delete-untagged'] : [];
    const roots: Record<'dist' | 'wharf', string> = { dist: '', wharf: '' };
    for (const who of ['dist', 'wharf'] as const) {
      const root = join(work, `${who}${deleteUntagged ? '-untagged' : ''}`);
      await cp(join(work, 'source'), root, { recursive: true, preserveTimestamps: true });
      const config = join(work, `${who}${deleteUntagged ? '-untagged' : ''}.yml`);
      await writeFile(config, distributionConfig(root, '127.0.0.1:0'));
      const result = who === 'dist'
        ? await run('docker-registry', ['garbage-collect', ...flag, config], { timeoutMs: 120_000 })
        : await run(process.execPath, [MAIN, 'gc', ...flag, config], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, `${who} gc failed:\n${result.stderr}${result.stdout}`);
      roots[who] = root;
    }
    return { dist: await filesBelow(roots.dist), wharf: await filesBelow(roots.wharf), distRoot: roots.dist, wharfRoot: roots.wharf };
  }

  /** Case 1: the `_layers` links Wharf removed are exactly those to blobs it swept. */
  function assertLayerLinksOfSwept(onlyWharfRemoved: string[], wharf: Set<string>): void {
    const swept = minus(blobsIn(original), blobsIn(wharf));
    const expected = [...original].filter((f) => {
      const m = /^repositories\/.+\/_layers\/(\w+)\/(\w+)\/link$/.exec(f);
      return m !== null && swept.includes(`${m[1]}:${m[2]}`);
    }).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual(onlyWharfRemoved, expected, 'Wharf also removed the _layers links of the blobs it swept, and nothing else');
  }

  it('without --delete-untagged: the same blobs and manifests go; Wharf also drops their layer links', { timeout: 300_000 }, async () => {
    const { dist, wharf, wharfRoot } = await collectBoth(false);
    const removedByDist = new Set(minus(original, dist));
    const removedByWharf = new Set(minus(original, wharf));
    assert.deepEqual(minus(removedByDist, removedByWharf), [], 'Wharf removed everything distribution removed');
    assertLayerLinksOfSwept(minus(removedByWharf, removedByDist), wharf);
    assert.deepEqual([...removedByDist].sort(), fixture.unreachable.map(blobFile).sort(), 'distribution removed the deleted manifest and the orphan');

    const w = await startTestWharf({ driver: wrapDriver(await FilesystemDriver.open({ rootDirectory: wharfRoot })) });
    try {
      await verifyAfterGc(new TestClient(w.url), fixture, false, { referrersApi: false });
    } finally {
      await w.stop();
    }
  });

  it('with --delete-untagged: Wharf keeps index children and referrers of kept manifests that distribution deletes', { timeout: 300_000 }, async () => {
    const { dist, wharf, wharfRoot, distRoot } = await collectBoth(true);
    const removedByDist = new Set(minus(original, dist));
    const removedByWharf = new Set(minus(original, wharf));

    // Cases 2 and 3: what only distribution removed.
    const wharfKeeps = fixture.keptBlobs(true);
    const distKeeps = new Set<string>();
    for (const m of fixture.tagged.values()) for (const d of [m.digest, ...m.blobs]) distKeeps.add(d);
    const indexChildren = fixture.untaggedKept.filter((m) => m.repo === 'multi' && m.blobs.length > 0 && /child/.test(fixture.names.get(m.digest) ?? ''));
    assert.equal(indexChildren.length, 2);
    for (const child of indexChildren) distKeeps.add(child.digest); // 2.8.2 marks the child's own blob only
    const onlyDist = [
      ...fixture.untaggedKept.map((m) => {
        const [alg, hex] = m.digest.split(':') as [string, string];
        return `repositories/${m.repo}/_manifests/revisions/${alg}/${hex}/link`;
      }),
      ...[...wharfKeeps].filter((d) => !distKeeps.has(d)).map(blobFile),
    ].sort();
    assert.deepEqual(minus(removedByDist, removedByWharf), onlyDist, 'only the documented cases differ');
    assertLayerLinksOfSwept(minus(removedByWharf, removedByDist), wharf);
    // Both removed the manifests nothing kept reaches (tag moved away, a referrer of it).
    for (const m of fixture.untaggedGone) {
      const [alg, hex] = m.digest.split(':') as [string, string];
      const revision = `repositories/${m.repo}/_manifests/revisions/${alg}/${hex}/link`;
      assert.ok(removedByDist.has(revision) && removedByWharf.has(revision), `${fixture.names.get(m.digest)} removed by both`);
    }

    // A real client pulls the multi-arch image (every platform) from Wharf's root; from 2.8.2's it fails.
    requireProgram('skopeo');
    const w = await startTestWharf({ driver: wrapDriver(await FilesystemDriver.open({ rootDirectory: wharfRoot })) });
    const d = await startTestWharf({ driver: wrapDriver(await FilesystemDriver.open({ rootDirectory: distRoot })) });
    const hostOf = (url: string): string => url.replace(/^http:\/\//, '');
    const clients = await makeClients(join(work, 'clients'), [hostOf(w.url), hostOf(d.url)]);
    try {
      await verifyAfterGc(new TestClient(w.url), fixture, true, { referrersApi: false });
      const layout = join(work, 'multi-from-wharf');
      await clients.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${hostOf(w.url)}/multi:latest`, `oci:${layout}:latest`]);
      const pulled = await verifyLayout(layout, 'latest');
      assert.equal(pulled.top, fixture.tagged.get('multi:latest')?.digest);
      assert.equal(pulled.manifests.size, 2, 'both platforms pulled');

      await assert.rejects(pullIntact(new TestClient(d.url), 'multi', 'latest'), 'distribution 2.8.2 broke the multi-arch image');
      const broken = await clients.raw('skopeo', ['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${hostOf(d.url)}/multi:latest`, `oci:${join(work, 'multi-from-dist')}:latest`]);
      assert.notEqual(broken.code, 0, 'skopeo cannot pull the multi-arch image from the root 2.8.2 collected');
    } finally {
      await w.stop();
      await d.stop();
      await clients.remove();
    }
  });
});
