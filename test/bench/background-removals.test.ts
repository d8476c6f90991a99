/**
 * The bench waits for an earlier run's storage deletion (bench/servers.ts,
 * waitForBackgroundRemovals) before it measures: an `rm` whose arguments lie under the bench's
 * storage prefix holds it back until that process is gone; any other `rm` does not. The tests use
 * a prefix of their own, so a real bench's deletion running beside them (the quick bench's, in
 * `npm test`) neither holds them back nor is seen by them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { backgroundRemovals, STORAGE_PREFIX, waitForBackgroundRemovals } from '../../bench/servers.js';

const prefix = `${STORAGE_PREFIX}removal-test-${process.pid}-`;

/** A process that looks like `rm <args...>` in /proc and lives for `seconds`. */
function fakeRm(seconds: number, ...args: string[]): ChildProcess {
  return spawn('/bin/sh', ['-c', `sleep ${seconds}`, ...args], { argv0: 'rm', stdio: 'ignore' });
}

describe('waiting for an earlier run\'s storage to be deleted', () => {
  it('waits while an rm of bench storage runs, and only then', async () => {
    const rm = fakeRm(1.2, `${prefix}wharf-abc123`);
    await once(rm, 'spawn');
    assert.deepEqual(backgroundRemovals(prefix), [rm.pid]);
    assert.ok(backgroundRemovals().includes(rm.pid ?? -1), 'the bench\'s own prefix covers it too');
    const lines: string[] = [];
    const waited = await waitForBackgroundRemovals((line) => lines.push(line), { prefix });
    assert.equal(rm.exitCode, 0, 'the rm had ended');
    assert.ok(waited >= 800 && waited < 5000, `waited ${waited} ms`);
    assert.match(lines[0] ?? '', new RegExp(`pid ${rm.pid}`));
    assert.deepEqual(backgroundRemovals(prefix), []);
  });

  it('does not wait for an rm of anything else, nor without one', async () => {
    const rm = fakeRm(2, '/tmp/something-else');
    await once(rm, 'spawn');
    try {
      assert.equal(await waitForBackgroundRemovals(() => {}, { prefix }), 0);
    } finally {
      rm.kill();
    }
  });

  it('gives up after its limit and says so', async () => {
    const rm = fakeRm(3, `${prefix}distribution-xyz789`);
    await once(rm, 'spawn');
    try {
      const lines: string[] = [];
      const waited = await waitForBackgroundRemovals((line) => lines.push(line), { prefix, limitMs: 300 });
      assert.ok(waited >= 300 && waited < 2000, `waited ${waited} ms`);
      assert.match(lines.at(-1) ?? '', /measuring anyway/);
    } finally {
      rm.kill();
    }
  });
});
