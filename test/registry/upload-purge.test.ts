import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { paths } from '../../src/registry/paths.js';
import { purgeUploads, startUploadPurger } from '../../src/registry/uploads/purge.js';
import { silentLogger } from '../../src/log/logger.js';

async function upload(driver: ReturnType<typeof wrapDriver>, name: string, id: string, started: Date | undefined) {
  if (started !== undefined) await driver.putContent(paths.uploadStartedAt(name, id), Buffer.from(started.toISOString()));
  await driver.putContent(paths.uploadData(name, id), Buffer.from('partial'));
}

describe('upload purging', () => {
  it('deletes uploads started before the cut-off in every repository, keeps younger ones', async () => {
    const driver = wrapDriver(new MemoryDriver());
    const now = Date.now();
    await upload(driver, 'a', 'old1', new Date(now - 10 * 86400_000));
    await upload(driver, 'deep/nested/repo', 'old2', new Date(now - 8 * 86400_000));
    await upload(driver, 'a', 'young', new Date(now - 3600_000));
    await driver.putContent(paths.tagCurrentLink('a', 'v1'), Buffer.from(`sha256:${'0'.repeat(64)}`));

    const dry = await purgeUploads(driver, { olderThan: new Date(now - 7 * 86400_000), dryRun: true });
    assert.deepEqual([...dry.purged].sort(), ['a/old1', 'deep/nested/repo/old2']);
    assert.equal((await driver.stat(paths.uploadData('a', 'old1'))).size, 7, 'a dry run deletes nothing');

    const result = await purgeUploads(driver, { olderThan: new Date(now - 7 * 86400_000), dryRun: false });
    assert.equal(result.examined, 3);
    assert.deepEqual([...result.purged].sort(), ['a/old1', 'deep/nested/repo/old2']);
    await assert.rejects(driver.stat(paths.uploadDir('a', 'old1')));
    await assert.rejects(driver.stat(paths.uploadDir('deep/nested/repo', 'old2')));
    assert.equal((await driver.stat(paths.uploadData('a', 'young'))).size, 7);
    assert.ok(await driver.getContent(paths.tagCurrentLink('a', 'v1')), 'nothing but uploads is touched');
  });

  it('falls back to the upload directory\'s time when startedat is missing', async () => {
    const driver = wrapDriver(new MemoryDriver());
    await upload(driver, 'r', 'nostart', undefined);
    const kept = await purgeUploads(driver, { olderThan: new Date(Date.now() - 60_000), dryRun: false });
    assert.deepEqual(kept.purged, []);
    const purged = await purgeUploads(driver, { olderThan: new Date(Date.now() + 60_000), dryRun: false });
    assert.deepEqual(purged.purged, ['r/nostart']);
  });

  it('runs on a schedule until stopped', async () => {
    const driver = wrapDriver(new MemoryDriver());
    await upload(driver, 's', 'stale', new Date(Date.now() - 3600_000));
    const stop = startUploadPurger(driver, { ageMs: 1000, intervalMs: 50, dryRun: false, maxJitterMs: 10 }, silentLogger());
    try {
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline) {
        try {
          await driver.stat(paths.uploadDir('s', 'stale'));
        } catch {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await assert.rejects(driver.stat(paths.uploadDir('s', 'stale')), 'the scheduled purge removed it');
      await upload(driver, 's', 'second', new Date(Date.now() - 3600_000));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await assert.rejects(driver.stat(paths.uploadDir('s', 'second')), 'and keeps running every interval');
    } finally {
      stop();
    }
  });
});
