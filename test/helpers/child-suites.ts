/**
 * Runs the whole HTTP suite (test/http) and the conformance suite (test/conformance) once more on
 * an object store driver (WHARF_TEST_STORAGE, see object-store.ts), in a child test run of its own
 * whose failures are reported by the calling test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const TEST_ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function runHttpSuitesOn(storage: 's3' | 'azure'): Promise<void> {
  const files: string[] = [];
  for (const dir of ['http', 'conformance']) {
    for (const name of (await readdir(join(TEST_ROOT, dir))).sort()) if (name.endsWith('.test.js')) files.push(join(TEST_ROOT, dir, name));
  }
  assert.ok(files.length >= 20, `found the suites' files (${files.length})`);
  // A run of its own, not a part of this one (the runner marks its children with NODE_TEST_CONTEXT).
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_TEST_STORAGE: storage };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=tap', ...files], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const summary = out.split('\n').filter((line) => /^# (tests|pass|fail|skipped)/.test(line));
  const failures = out.split('\n').filter((line) => /^\s*not ok/.test(line));
  assert.equal(code, 0, `the suites failed on ${storage}:\n${failures.join('\n')}\n${summary.join('\n')}\n${code !== 0 ? out.slice(-20_000) : ''}`);
  assert.match(summary.join('\n'), /# fail 0/);
  assert.match(summary.join('\n'), /# skipped 0/);
}
