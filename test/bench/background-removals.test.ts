/**
 * The bench waits for an earlier run's storage deletion (bench/servers.ts,
 * waitForBackgroundRemovals) before it measures: an `rm` whose arguments lie under the bench's
 * storage prefix holds it back until that process is gone; any other `rm` does not.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { backgroundRemovals, STORAGE_PREFIX, waitForBackgroundRemovals } from '../../bench/servers.js';

/** A process that looks like `rm <args...>` in /proc and lives for `seconds`. */
function fakeRm(seconds: number, ...args: string[]): ChildProcess {
  return spawn('/bin/sh', ['-c', `sleep ${seconds}`, ...args], { argv0: 'rm', stdio: 'ignore' });
}

describe('waiting for an earlier run\'s storage to be deleted', () => {
  it('waits while an rm of bench storage runs, and only then', async () => {
    const rm = fakeRm(1.2, `${STORAGE_PREFIX}wharf-abc123`);
    await once(rm, 'spawn');
    assert.deepEqual(backgroundRemovals(), [rm.pid]);
    const lines: string[] = [];
    const waited = await waitForBackgroundRemovals((line) => lines.push(line));
    assert.equal(rm.exitCode, 0, 'the rm had ended');
    assert.ok(waited >= 800 && waited < 5000, `waited ${waited} ms`);
    assert.match(lines[0] ?? '', new RegExp(`pid ${rm.pid}`));
    assert.deepEqual(backgroundRemovals(), []);
  });

  it('does not wait for an rm of anything else, nor without one', async () => {
    const rm = fakeRm(2, '/tmp/something-else');
    await once(rm, 'spawn');
    try {
      assert.equal(await waitForBackgroundRemovals(() => {}), 0);
    } finally {
      rm.kill();
    }
  });

  it('gives up after its limit and says so', async () => {
    const rm = fakeRm(3, `${STORAGE_PREFIX}distribution-xyz789`);
    await once(rm, 'spawn');
    try {
      const lines: string[] = [];
      const waited = await waitForBackgroundRemovals((line) => lines.push(line), 300);
      assert.ok(waited >= 300 && waited < 2000, `waited ${waited} ms`);
      assert.match(lines.at(-1) ?? '', /measuring anyway/);
    } finally {
      rm.kill();
    }
  });
});
