/**
 * `node dist/bench/gc.js [--repos 2000] [--dir DIR] [--no-distribution] [--keep]`: how long garbage
 * collection takes on a large root. Builds (directly through the filesystem driver, for speed) a root
 * of `repos` repositories, each with two tagged images and one whose tag moved away (config, one
 * own layer, one of 50 shared base layers) and one orphan blob: about 10 blobs per repository
 * (20,050 for 2,000), then times on it, in order:
 *   1. `--delete-untagged --dry-run` (mark everything, walk every blob, delete nothing);
 *   2. gc (sweeps the orphans and their layer links);
 *   3. gc `--delete-untagged` (removes the untagged manifests and their blobs);
 *   4. gc again (nothing left to remove);
 * and, unless --no-distribution, distribution's `garbage-collect` on a copy of the root as built.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { FilesystemDriver } from '../src/storage/filesystem/filesystem-driver.js';
import { wrapDriver } from '../src/storage/base.js';
import type { StorageDriver } from '../src/storage/driver.js';
import { paths } from '../src/registry/paths.js';
import { parseDigest, type Digest } from '../src/registry/digest.js';
import { writeLink } from '../src/registry/links.js';
import { forEachLimit } from '../src/gc/concurrency.js';
import { collectGarbage, type GcReport } from '../src/gc/collector.js';

const digestOf = (bytes: Buffer): Digest => parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

async function putBlob(driver: StorageDriver, repo: string, bytes: Buffer): Promise<{ digest: Digest; size: number }> {
  const digest = digestOf(bytes);
  await driver.putContent(paths.blobData(digest), bytes);
  await writeLink(driver, paths.layerLink(repo, digest), digest);
  return { digest, size: bytes.length };
}

const descriptor = (mediaType: string, b: { digest: Digest; size: number }) => ({ mediaType, digest: b.digest.value, size: b.size });

async function buildRepository(driver: StorageDriver, repo: string, shared: readonly Buffer[]): Promise<number> {
  let blobs = 0;
  const image = async (tag: string): Promise<void> => {
    const config = await putBlob(driver, repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', repo, tag, n: randomBytes(8).toString('hex') })));
    const own = await putBlob(driver, repo, randomBytes(512));
    const base = await putBlob(driver, repo, shared[Math.floor(Math.random() * shared.length)] as Buffer);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: descriptor('application/vnd.oci.image.config.v1+json', config),
      layers: [descriptor('application/vnd.oci.image.layer.v1.tar+gzip', base), descriptor('application/vnd.oci.image.layer.v1.tar+gzip', own)],
    }));
    const m = digestOf(manifest);
    await driver.putContent(paths.blobData(m), manifest);
    await writeLink(driver, paths.revisionLink(repo, m), m);
    await writeLink(driver, paths.tagIndexLink(repo, tag, m), m);
    await writeLink(driver, paths.tagCurrentLink(repo, tag), m);
    blobs += 3;
  };
  await image('v1');
  await image('v2'); // tagged v2 first, then moved: this one becomes untagged
  await image('v2');
  await putBlob(driver, repo, randomBytes(256)); // an orphan
  return blobs + 1;
}

function line(label: string, r: GcReport): string {
  return `| ${label} | ${r.repositories} | ${r.manifestsExamined} | ${r.manifestsDeleted} | ${r.blobsExamined} | ${r.blobsDeleted} | ${r.layerLinksDeleted} | ${(r.markMs / 1000).toFixed(1)} s | ${(r.sweepMs / 1000).toFixed(1)} s | ${(r.totalMs / 1000).toFixed(1)} s |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repos: { type: 'string', default: '2000' },
      dir: { type: 'string' },
      distribution: { type: 'boolean', default: true },
      keep: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '8' },
    },
    allowNegative: true,
  });
  const repos = Number(values.repos);
  const concurrency = Number(values.concurrency);
  const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'wharf-bench-gc-')));
  const root = join(dir, 'root');
  const driver = wrapDriver(await FilesystemDriver.open({ rootDirectory: root }));
  const shared = Array.from({ length: 50 }, () => randomBytes(1024));

  let t = Date.now();
  let blobs = 50;
  await forEachLimit(Array.from({ length: repos }, (_, i) => `team-${String(i % 40).padStart(2, '0')}/app-${i}`), 8, async (repo) => {
    const added = await buildRepository(driver, repo, shared);
    blobs += added;
  });
  process.stdout.write(`built ${repos} repositories, ${blobs} blobs (${repos} orphans, 50 shared base layers) in ${((Date.now() - t) / 1000).toFixed(1)} s under ${root}\n`);
  process.stdout.write(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; concurrency ${concurrency}\n\n`);

  let distributionCopy: string | undefined;
  if (values.distribution) {
    distributionCopy = join(dir, 'distribution-copy');
    await cp(root, distributionCopy, { recursive: true, preserveTimestamps: true });
  }
  await new Promise((r) => setTimeout(r, 2_100)); // past the margin for files written during a run

  const rows: string[] = [
    '| run | repositories | manifests examined | manifests deleted | blobs examined | blobs deleted | layer links deleted | mark | sweep | total |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const runs: [string, boolean, boolean][] = [
    ['--delete-untagged --dry-run', true, true],
    ['gc', false, false],
    ['gc --delete-untagged', true, false],
    ['gc again (nothing to do)', false, false],
  ];
  for (const [label, deleteUntagged, dryRun] of runs) {
    const report = await collectGarbage({ driver, deleteUntagged, dryRun, concurrency });
    rows.push(line(label, report));
    process.stdout.write(`${rows.at(-1)}\n`);
  }

  if (distributionCopy !== undefined) {
    const config = join(dir, 'distribution.yml');
    writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${distributionCopy}\n`);
    t = Date.now();
    const result = spawnSync('docker-registry', ['garbage-collect', config], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const seconds = ((Date.now() - t) / 1000).toFixed(1);
    process.stdout.write(`\ndistribution 2.8.2 garbage-collect on a copy (same as "gc" above): exit ${result.status}, ${seconds} s\n`);
    t = Date.now();
    const untagged = spawnSync('docker-registry', ['garbage-collect', '--delete-untagged', config], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    process.stdout.write(`distribution 2.8.2 garbage-collect --delete-untagged after it: exit ${untagged.status}, ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}

await main();
