import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, type LoadedConfig } from '../../src/config/load.js';

let dir: string | undefined;

// Registered at import, so it runs once after all the tests of the importing file.
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh file in a temporary directory removed after the test file. */
export async function configFile(text: string, name = 'config.yml'): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'wharf-config-test-'));
  const sub = await mkdtemp(join(dir, 'c-'));
  const path = join(sub, name);
  await writeFile(path, text);
  return path;
}

/** Loads `text` as a configuration file with the given environment (none by default). */
export async function load(text: string, env: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
  return loadConfig({ file: await configFile(text), env });
}

/** Loads `text` expecting a ConfigError; returns its problems. */
export async function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  const file = await configFile(text);
  try {
    await loadConfig({ file, env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.source, file);
    for (const problem of err.problems) assert.ok(err.message.includes(`${file}: ${problem}`), 'message lists every problem with the file');
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
}

/** The smallest valid distribution configuration. */
export const MINIMAL = 'version: 0.1\nstorage:\n  filesystem:\n';
