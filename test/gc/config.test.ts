/** The `gc` configuration section: defaults, environment overrides, validation, and what `serve` makes of it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError } from '../../src/config/load.js';
import { wharfOptions } from '../../src/cli/serve.js';
import { silentLogger } from '../../src/log/logger.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';

const base = { version: '0.1', storage: { inmemory: null } };

test('gc is off by default', () => {
  const { config } = resolveConfig(base, 'test', {});
  assert.equal(config.gc.enabled, false);
  assert.equal(wharfOptions(config, new MemoryDriver(), silentLogger()).gc, undefined);
});

test('the gc section maps onto the server schedule, durations in milliseconds', () => {
  const { config } = resolveConfig({ ...base, gc: { enabled: true, interval: '6h', deleteuntagged: true, draintimeout: '30s' } }, 'test', {});
  assert.deepEqual(wharfOptions(config, new MemoryDriver(), silentLogger()).gc, {
    intervalMs: 6 * 3_600_000, deleteUntagged: true, dryRun: false, drainTimeoutMs: 30_000,
  });
});

test('REGISTRY_GC_* variables set the gc keys', () => {
  const { config } = resolveConfig(base, 'test', { REGISTRY_GC_ENABLED: 'true', REGISTRY_GC_DRYRUN: 'true', REGISTRY_GC_INTERVAL: '1h' });
  assert.deepEqual(config.gc, { enabled: true, interval: 3_600_000, deleteuntagged: false, dryrun: true, draintimeout: 300_000 });
});

test('an enabled gc needs an interval, and unknown gc keys are errors', () => {
  assert.throws(() => resolveConfig({ ...base, gc: { enabled: true, interval: 0 } }, 'test', {}), (err: unknown) => err instanceof ConfigError && /gc\.interval/.test(err.message));
  assert.throws(() => resolveConfig({ ...base, gc: { delete_untagged: true } }, 'test', {}), (err: unknown) => err instanceof ConfigError && /delete_untagged/.test(err.message));
});

test('wharf serve with gc enabled schedules the collector', { timeout: 60_000 }, async () => {
  const { startWharfProcess } = await import('../helpers/process.js');
  const wharf = await startWharfProcess({ REGISTRY_STORAGE: 'inmemory', REGISTRY_GC_ENABLED: 'true', REGISTRY_GC_INTERVAL: '6h', REGISTRY_GC_DELETEUNTAGGED: 'true' });
  try {
    const scheduled = wharf.logs.find((l) => l['msg'] === 'garbage collection scheduled');
    assert.ok(scheduled, JSON.stringify(wharf.logs));
    assert.equal(scheduled['intervalMs'], 6 * 3_600_000);
    assert.equal(scheduled['deleteUntagged'], true);
  } finally {
    await wharf.stop();
  }
});
