/** The checks of distribution's `health` section: storage driver, file, HTTP and TCP. */
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { HealthConfig } from '../config/schema-ops.js';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { ROOT } from '../registry/paths.js';
import type { HealthCheck } from './monitor.js';

/** The storage answers a stat of the registry's root directory (nothing there yet is fine, as in distribution). */
export function storageDriverCheck(driver: StorageDriver, intervalMs: number, threshold: number): HealthCheck {
  return {
    name: `storagedriver_${driver.name}`,
    intervalMs,
    threshold,
    run: async () => {
      try {
        await driver.stat(ROOT, { signal: AbortSignal.timeout(Math.max(intervalMs, 1000)) });
      } catch (err) {
        if (!(err instanceof PathNotFoundError)) throw err;
      }
    },
  };
}

/** Fails while the file exists (an operator's switch to take the instance out of rotation). */
export function fileCheck(file: string, intervalMs: number): HealthCheck {
  return {
    name: file,
    intervalMs,
    threshold: 0,
    run: async () => {
      const exists = await stat(file).then(() => true, () => false);
      if (exists) throw new Error('file exists');
    },
  };
}

/** A HEAD of `uri` must answer `statusCode` within the timeout. */
export function httpCheck(options: HealthConfig['http'][number]): HealthCheck {
  const headers = new Headers();
  for (const [name, values] of Object.entries(options.headers)) for (const value of values) headers.append(name, value);
  return {
    name: options.uri,
    intervalMs: options.interval,
    threshold: options.threshold,
    run: async () => {
      let status: number;
      try {
        const response = await fetch(options.uri, { method: 'HEAD', headers, redirect: 'manual', signal: AbortSignal.timeout(options.timeout) });
        status = response.status;
        await response.body?.cancel();
      } catch (err) {
        const cause = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : err.message) : String(err);
        throw new Error(`error while checking: ${cause}`);
      }
      if (status !== options.statuscode) throw new Error(`downstream service returned unexpected status: ${status}`);
    },
  };
}

/** A TCP connection to `addr` (`host:port`) must open within the timeout. */
export function tcpCheck(options: HealthConfig['tcp'][number]): HealthCheck {
  const colon = options.addr.lastIndexOf(':');
  const host = options.addr.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(options.addr.slice(colon + 1));
  return {
    name: options.addr,
    intervalMs: options.interval,
    threshold: options.threshold,
    run: () =>
      new Promise<void>((resolve, reject) => {
        if (colon === -1 || !Number.isInteger(port)) {
          reject(new Error(`not a host:port address: ${options.addr}`));
          return;
        }
        const socket = connect({ host, port });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('connection timed out'));
        }, options.timeout);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.destroy();
          resolve();
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          reject(new Error(`connection to ${options.addr} failed: ${err.message}`));
        });
      }),
  };
}

/** Every check the `health` section asks for. */
export function healthChecks(config: HealthConfig, driver: StorageDriver): HealthCheck[] {
  const checks: HealthCheck[] = [];
  if (config.storagedriver.enabled) checks.push(storageDriverCheck(driver, config.storagedriver.interval, config.storagedriver.threshold));
  for (const file of config.file) checks.push(fileCheck(file.file, file.interval));
  for (const http of config.http) checks.push(httpCheck(http));
  for (const tcp of config.tcp) checks.push(tcpCheck(tcp));
  return checks;
}
