/** Starts Wharf in-process on a free loopback port, for HTTP tests. */
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { silentLogger } from '../../src/log/logger.js';
import { objectStoreDriver } from './object-store.js';
import { DEFAULT_CACHE, DEFAULT_LIMITS, DEFAULT_TIMEOUTS, startWharf, type RunningWharf, type WharfOptions } from '../../src/startup.js';

export interface TestWharf extends RunningWharf {
  readonly url: string;
  readonly driver: StorageDriver;
}

export async function startTestWharf(overrides: Partial<WharfOptions> = {}): Promise<TestWharf> {
  const objectStore = overrides.driver === undefined ? await objectStoreDriver() : undefined;
  const driver = overrides.driver ?? objectStore?.driver ?? wrapDriver(new MemoryDriver());
  const running = await startWharf({
    driver,
    log: silentLogger(),
    address: { host: '127.0.0.1', port: 0 },
    deleteEnabled: true,
    readOnly: false,
    prefix: '/',
    relativeUrls: false,
    headers: { 'X-Content-Type-Options': ['nosniff'] },
    accessLog: false,
    limits: DEFAULT_LIMITS,
    timeouts: DEFAULT_TIMEOUTS,
    referrersPageSize: 500,
    cache: DEFAULT_CACHE,
    ...overrides,
    // The HTTP suites read blobs from Wharf itself; redirects to the store have tests of their own.
    ...(objectStore ? { limits: { ...(overrides.limits ?? DEFAULT_LIMITS), redirect: false, chunkMinLength: objectStore.chunkMinLength } } : {}),
  });
  if (running.url === undefined) throw new Error('test server has no TCP address');
  return { ...running, url: running.url, driver };
}
