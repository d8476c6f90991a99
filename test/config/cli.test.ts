import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerConfigCommands, runConfigCheck, runConfigPrint, type ConfigCommandIO } from '../../src/cli/config-command.js';
import { loadConfig } from '../../src/config/load.js';
import { MINIMAL, configFile } from './helpers.js';

function capture(env: NodeJS.ProcessEnv = {}): ConfigCommandIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    env,
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    out: () => out,
    err: () => err,
  };
}

test('config check: ok with warnings, exit 0', async () => {
  const file = await configFile(`${MINIMAL}redis:\n  addr: localhost:6379\n`);
  const io = capture();
  assert.equal(await runConfigCheck(file, io), 0);
  assert.equal(
    io.out(),
    `${file}: ok\n${file}: warning: redis: redis is not supported yet; Wharf will not connect to it and caches in-process instead\n`,
  );
  assert.equal(io.err(), '');
});

test('config check: every problem listed, exit 1', async () => {
  const file = await configFile('version: 0.1\nstorage:\n  filesystem:\n    rootdirectry: /x\nauth:\n  htpasswd:\n    path: /h\n');
  const io = capture({ REGISTRY_HTTP_ADDR: 'nope' });
  assert.equal(await runConfigCheck(file, io), 1);
  assert.equal(io.out(), '');
  const lines = io.err().trimEnd().split('\n');
  assert.equal(lines[0], `invalid configuration (${file}, 3 problems):`);
  assert.deepEqual(lines.slice(1).sort(), [
    `  ${file}: auth.htpasswd.realm: required`,
    `  ${file}: http.addr (from REGISTRY_HTTP_ADDR): expected "host:port" or ":port" (port 0-65535), got "nope"`,
    `  ${file}: storage.filesystem.rootdirectry: unknown key (did you mean rootdirectory?)`,
  ]);
  // --no-env: the environment is not consulted
  const ignoring = capture({ REGISTRY_HTTP_ADDR: 'nope' });
  assert.equal(await runConfigCheck(file, ignoring, { env: false }), 1);
  assert.match(ignoring.err(), /2 problems/);
  const missing = capture();
  assert.equal(await runConfigCheck('/nonexistent.yml', missing), 1);
  assert.match(missing.err(), /\/nonexistent\.yml: cannot read the configuration file: no such file/);
});

test('config print: effective YAML with env applied, secrets redacted, readable again', async () => {
  const file = await configFile(`${MINIMAL}http:\n  secret: hush\n  draintimeout: 90s\n`);
  const io = capture({ REGISTRY_STORAGE_DELETE_ENABLED: 'true' });
  assert.equal(await runConfigPrint(file, io), 0);
  const yaml = io.out();
  assert.match(yaml, /^# Effective Wharf configuration: .*config\.yml with REGISTRY_\* environment overrides/);
  assert.match(yaml, /secret: "?\[redacted\]"?\n/);
  assert.doesNotMatch(yaml, /hush/);
  assert.match(yaml, /draintimeout: 1m30s\n/);
  assert.match(yaml, /rootdirectory: \/var\/lib\/registry\n/);
  assert.match(yaml, /delete:\n {4}enabled: true\n/);
  const printed = await configFile(yaml);
  const reloaded = await loadConfig({ file: printed, env: {} });
  assert.equal(reloaded.config.http.draintimeout, 90_000);
  assert.equal(reloaded.config.storage.delete.enabled, true);
  assert.equal(reloaded.config.http.secret, '[redacted]');
});

test('config print without FILE: the embedded default', async () => {
  const io = capture({ REGISTRY_HTTP_ADDR: '127.0.0.1:5100' });
  assert.equal(await runConfigPrint(undefined, io), 0);
  assert.match(io.out(), /^# Effective Wharf configuration: the embedded default with REGISTRY_\* environment overrides/);
  assert.match(io.out(), /rootdirectory: \.\/data\n/);
  assert.match(io.out(), /formatter: json\n/);
  assert.match(io.out(), /addr: 127\.0\.0\.1:5100\n/);
  const bad = capture({ REGISTRY_LOG_LEVEL: 'loud' });
  assert.equal(await runConfigPrint(undefined, bad), 1);
  assert.match(bad.err(), /embedded default: log\.level \(from REGISTRY_LOG_LEVEL\): expected one of "error", "warn", "info", "debug", got string "loud"/);
});

test('registerConfigCommands wires check and print into a commander program', async () => {
  const file = await configFile(MINIMAL);
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const io = capture(env);
    const program = new Command('wharf').exitOverride();
    registerConfigCommands(program, io);
    const previous = process.exitCode;
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'wharf', ...args]);
      return { code: process.exitCode ?? 0, out: io.out(), err: io.err() };
    } finally {
      process.exitCode = previous;
    }
  };
  assert.deepEqual(await run(['config', 'check', file]), { code: 0, out: `${file}: ok\n`, err: '' });
  const failed = await run(['config', 'check', file], { REGISTRY_CATALOG_MAXENTRIES: 'many' });
  assert.equal(failed.code, 1);
  assert.match(failed.err, /catalog\.maxentries \(from REGISTRY_CATALOG_MAXENTRIES\): expected an integer, got string "many"/);
  assert.equal((await run(['config', 'check', '--no-env', file], { REGISTRY_CATALOG_MAXENTRIES: 'many' })).code, 0);
  const printed = await run(['config', 'print']);
  assert.equal(printed.code, 0);
  assert.match(printed.out, /rootdirectory: \.\/data/);
  const withFile = await run(['config', 'print', file]);
  assert.match(withFile.out, /rootdirectory: \/var\/lib\/registry/);
});
