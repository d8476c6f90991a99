/**
 * The entry point's first line carries Wharf's launch settings (src/main.ts): V8's memory flags
 * and glibc's malloc thresholds. A `wharf` started the way the bin and `npm start` start it
 * (the file executed, its `#!` line read by the kernel) must run with them, a GLIBC_TUNABLES of the
 * caller's own coming after ours (glibc takes the last value of a setting); and the bench must
 * read the same settings from that line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { launchLine } from '../../bench/servers.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const OURS = 'glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304';

/**
 * Runs `MAIN --version` as an executable, with a preloaded module (NODE_OPTIONS) that reports the
 * GLIBC_TUNABLES and the node flags the process got.
 */
async function startedAsBin(tunables: string): Promise<{ tunables: string; execArgv: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-launch-'));
  try {
    const report = join(dir, 'report.mjs');
    await writeFile(report, `process.stderr.write('REPORT ' + JSON.stringify({ tunables: process.env.GLIBC_TUNABLES, execArgv: process.execArgv }) + '\\n');`);
    const child = spawn(MAIN, ['--version'], { env: { ...process.env, GLIBC_TUNABLES: tunables, NODE_OPTIONS: `--import ${report}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    assert.equal(code, 0, `${out}\n${err}`);
    const line = /^REPORT (.*)$/m.exec(err);
    assert.ok(line, `no report in: ${err}`);
    return JSON.parse(line[1]!) as { tunables: string; execArgv: string[] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('wharf run as the bin gets the malloc thresholds and the V8 flags', { timeout: 30_000 }, async () => {
  const got = await startedAsBin('');
  assert.equal(got.tunables, `${OURS}:`);
  assert.deepEqual(got.execArgv, ['--max-semi-space-size=4', '--heap-growing-percent=30']);
});

it("a caller's GLIBC_TUNABLES comes after ours, so its settings win", { timeout: 30_000 }, async () => {
  const got = await startedAsBin('glibc.malloc.trim_threshold=131072');
  assert.equal(got.tunables, `${OURS}:glibc.malloc.trim_threshold=131072`);
});

it('the bench reads the same settings from the first line', () => {
  const launch = launchLine(MAIN, { GLIBC_TUNABLES: 'x=1' });
  assert.deepEqual(launch, { env: { GLIBC_TUNABLES: `${OURS}:x=1` }, nodeArgs: ['--max-semi-space-size=4', '--heap-growing-percent=30'] });
});

it('the bench refuses a first line it cannot read as env -S', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-launch-'));
  try {
    const script = join(dir, 'main.js');
    await writeFile(script, '#!/usr/bin/node\n');
    assert.throws(() => launchLine(script), /does not start with #!\/usr\/bin\/env -S/);
    await writeFile(script, '#!/usr/bin/env -S A=1 deno run\n');
    assert.throws(() => launchLine(script), /does not run node/);
    await writeFile(script, '#!/usr/bin/env -S A=1 --flag node\n');
    assert.throws(() => launchLine(script), /has --flag before node/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
