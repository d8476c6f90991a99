/** Starts Wharf in-process on a free loopback port, for HTTP tests. */
import { connect } from 'node:net';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { silentLogger } from '../../src/log/logger.js';
import { objectStoreDriver } from './object-store.js';
import { paths } from '../../src/registry/paths.js';
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

/**
 * Waits until the file at driver path `path` holds at least `size` bytes, for at most `maxMs`: a
 * server busy with other suites may not have read a body's last bytes off the socket yet, and a
 * writer that gathers bytes (an object store's, or the filesystem's batches) may show the last ones
 * only when the body ends, in which case it waits the whole time.
 */
export async function untilStored(driver: StorageDriver, path: string, size: number, maxMs = 3_000): Promise<void> {
  for (const deadline = Date.now() + maxMs; Date.now() < deadline; ) {
    const info = await driver.stat(path).catch(() => undefined);
    if (info !== undefined && info.size >= size) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Sends a PATCH to the upload at `location` (a URL or a path on `wharf`) of repository `name`,
 * whose headers announce `announced` bytes (and `range`, if given), writes only `sent`, and drops
 * the connection once the upload's data holds `storedAfter` bytes (see untilStored).
 */
export async function cutOffPatch(wharf: TestWharf, name: string, location: string, announced: number, sent: Buffer, storedAfter: number, range?: string): Promise<void> {
  const url = new URL(location, wharf.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.write(
    `PATCH ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\n` +
    `Content-Length: ${announced}\r\n${range === undefined ? '' : `Content-Range: ${range}\r\n`}\r\n`,
  );
  socket.write(sent);
  await untilStored(wharf.driver, paths.uploadData(name, url.pathname.split('/').pop() ?? ''), storedAfter);
  socket.destroy();
}
