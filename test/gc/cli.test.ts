/**
 * `wharf gc` as a command on a filesystem root Wharf wrote: exit codes, plain progress lines when
 * stderr is not a terminal, --dry-run, --quiet, the refusal when uploads show a registry writing,
 * and the terminal progress bar (ProgressReporter in tty mode).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient } from '../helpers/client.js';
import { startTestWharf } from '../helpers/wharf.js';
import { MAIN, run } from '../helpers/process.js';
import { listFiles, storedBlobs } from '../helpers/storage-tree.js';
import { FilesystemDriver } from '../../src/storage/filesystem/filesystem-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { ProgressReporter } from '../../src/gc/progress.js';

describe('wharf gc', () => {
  let dir: string;
  let config: string;
  let driver: StorageDriver;
  let orphan: string;
  let kept: Set<string>;
  const gc = (...args: string[]) => run(process.execPath, [MAIN, 'gc', ...args], { timeoutMs: 120_000 });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-gc-cli-'));
    const root = join(dir, 'root');
    config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`);
    driver = wrapDriver(await FilesystemDriver.open({ rootDirectory: root }));
    const w = await startTestWharf({ driver });
    const client = new TestClient(w.url);
    const image = await client.pushImage('app', 'v1', { layers: 2 });
    kept = new Set([image.digest, image.config.digest, ...image.layers.map((l) => l.digest)]);
    orphan = (await client.pushBlob('app', randomBytes(2000))).digest;
    await w.stop();
    // Older than the collector's margin for files written while it runs.
    await new Promise((r) => setTimeout(r, 2_100));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('--dry-run prints what would go and changes nothing', async () => {
    const before = await listFiles(driver);
    const result = await gc(config, '--dry-run');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`would delete blob ${orphan} \\(2\\.0 KiB\\)`));
    assert.match(result.stdout, new RegExp(`would delete layer link app ${orphan}`));
    assert.match(result.stdout, /dry run done: nothing was deleted/);
    assert.match(result.stdout, /blobs +5 examined, 1 would be deleted, 2\.0 KiB would be freed/);
    assert.deepEqual(await listFiles(driver), before);
  });

  it('refuses (exit 2) while an upload shows a registry writing; --force runs anyway', async () => {
    const w = await startTestWharf({ driver });
    const started = await new TestClient(w.url).request('/v2/busy/blobs/uploads/', { method: 'POST' });
    assert.equal(started.status, 202);
    await w.stop();
    const refused = await gc(config);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to collect garbage: 1 upload\(s\) written to in the last 10 minutes \(busy\//);
    assert.ok((await storedBlobs(driver)).has(orphan), 'nothing was deleted');

    const forced = await gc(config, '--force', '--quiet');
    assert.equal(forced.code, 0, forced.stderr);
    // --quiet: the summary only.
    assert.equal(forced.stderr, '');
    assert.match(forced.stdout, /^garbage collection done\n/);
    assert.doesNotMatch(forced.stdout, /deleted blob/);
    assert.match(forced.stdout, /blobs +5 examined, 1 deleted, 2\.0 KiB freed/);
    assert.deepEqual(await storedBlobs(driver), kept);
  });

  it('prints plain progress lines when stderr is not a terminal, and the summary', async () => {
    const result = await gc(config, '--delete-untagged', '--force');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^wharf gc: filesystem .* --delete-untagged\n/);
    assert.match(result.stderr, /marking \(2 repositories\)\n/);
    assert.match(result.stderr, /sweeping blobs \(\d+ blob prefixes\)\n/);
    assert.doesNotMatch(result.stderr, /\r/);
    assert.match(result.stdout, /manifests +1 examined, 0 deleted/);
    assert.match(result.stdout, /time +[\d.]+ s \(mark [\d.]+ s, sweep [\d.]+ s\)/);
  });

  it('fails (exit 1) on the inmemory driver and on a bad configuration', async () => {
    const memory = join(dir, 'memory.yml');
    await writeFile(memory, 'version: 0.1\nstorage: inmemory\n');
    const result = await gc(memory);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /nothing to collect/);
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp\ngc:\n  bogus: 1\n');
    const badResult = await gc(bad);
    assert.equal(badResult.code, 1);
    assert.match(badResult.stderr, /bogus/);
  });
});

describe('the progress bar on a terminal', () => {
  it('redraws one line on stderr, clears it around removal lines, and ends each phase with a newline', () => {
    const out: string[] = [];
    const err: string[] = [];
    let now = 0;
    const reporter = new ProgressReporter('tty', { stdout: (t) => out.push(t), stderr: (t) => err.push(t), columns: 100, now: () => now });
    reporter.listener({ type: 'phase', phase: 'mark', total: 4 });
    now += 200;
    reporter.listener({ type: 'progress', phase: 'mark', done: 2, total: 4 });
    assert.match(err.at(-1) ?? '', /^\r\x1b\[Kmarking +\[#+-+\] +50% 2\/4 repositories/);
    reporter.listener({ type: 'progress', phase: 'mark', done: 3, total: 4 });
    assert.match(err.at(-1) ?? '', /50%/, 'redrawn at most ten times a second');
    reporter.listener({ type: 'delete', kind: 'blob', digest: 'sha256:aa', bytes: 10, dryRun: false });
    assert.deepEqual(out, ['deleted blob sha256:aa (10 B)\n']);
    assert.ok(err.includes('\r\x1b[K'), 'the bar is cleared before the line');
    reporter.listener({ type: 'phase-end', phase: 'mark', done: 4 });
    assert.match(err.at(-2) ?? '', /100% 4\/4 repositories/);
    assert.equal(err.at(-1), '\n');
  });

  it('quiet mode shows no progress and no removal lines', () => {
    const out: string[] = [];
    const err: string[] = [];
    const reporter = new ProgressReporter('quiet', { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    reporter.listener({ type: 'phase', phase: 'mark', total: 4 });
    reporter.listener({ type: 'delete', kind: 'blob', digest: 'sha256:aa', dryRun: false });
    reporter.listener({ type: 'phase-end', phase: 'mark', done: 4 });
    reporter.listener({ type: 'warning', message: 'careful' });
    assert.deepEqual(out, []);
    assert.deepEqual(err, ['warning: careful\n']);
  });
});
