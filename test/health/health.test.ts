/**
 * Health checks and readiness: distribution's /debug/health (a map of failing checks, 503 when any
 * fails), /readyz on both listeners (503 while a check fails or while draining), liveness on `/`,
 * and API requests that keep working while a check fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestWharf } from '../helpers/wharf.js';
import { HealthMonitor, Readiness, type HealthCheck } from '../../src/health/monitor.js';
import type { HealthConfig } from '../../src/config/schema-ops.js';
import { storageDriverCheck } from '../../src/health/checks.js';
import { PathNotFoundError, type StorageDriver } from '../../src/storage/driver.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-health-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const NO_CHECKS: HealthConfig = { storagedriver: { enabled: false, interval: 10_000, threshold: 0 }, file: [], http: [], tcp: [] };

async function until(predicate: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('health and readiness', () => {
  it('reports failing checks on /debug/health and /readyz, without failing API requests', async () => {
    const flag = join(dir, 'out-of-rotation');
    const listening = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const open = (listening.address() as AddressInfo).port;
    const wharf = await startTestWharf({
      debug: { address: { host: '127.0.0.1', port: 0 } },
      health: {
        ...NO_CHECKS,
        storagedriver: { enabled: true, interval: 100, threshold: 0 },
        file: [{ file: flag, interval: 100 }],
        tcp: [{ addr: `127.0.0.1:${open}`, timeout: 5000, interval: 100, threshold: 0 }],
      },
    });
    try {
      const health = async () => {
        const response = await fetch(`${wharf.debugUrl}/debug/health`);
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      };
      await until(async () => (await health()).status === 200);
      assert.deepEqual(await health(), { status: 200, body: {} });
      assert.equal((await fetch(`${wharf.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${wharf.debugUrl}/readyz`)).status, 200);

      await writeFile(flag, '');
      await until(async () => (await health()).status === 503);
      assert.deepEqual((await health()).body, { [flag]: 'file exists' });
      const readyz = await fetch(`${wharf.url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.deepEqual(await readyz.json(), { status: 'not ready', failing: { [flag]: 'file exists' } });
      // Unlike distribution, the API keeps answering.
      assert.equal((await fetch(`${wharf.url}/v2/`)).status, 200);
      assert.equal((await fetch(`${wharf.url}/`)).status, 200);

      await rm(flag);
      await until(async () => (await health()).status === 200);
      assert.equal((await fetch(`${wharf.url}/readyz`)).status, 200);
    } finally {
      await wharf.stop(0);
      listening.close();
    }
  });

  it('fails TCP and HTTP checks against what does not answer as configured', async () => {
    const closed = await freePort();
    const wharf = await startTestWharf({
      debug: { address: { host: '127.0.0.1', port: 0 } },
      health: {
        ...NO_CHECKS,
        tcp: [{ addr: `127.0.0.1:${closed}`, timeout: 5000, interval: 100, threshold: 0 }],
        http: [{ uri: 'http://127.0.0.1:1/', headers: {}, statuscode: 200, timeout: 5000, interval: 100, threshold: 0 }],
      },
    });
    try {
      await until(async () => Object.keys(await (await fetch(`${wharf.debugUrl}/debug/health`)).json() as object).length === 2);
      const body = (await (await fetch(`${wharf.debugUrl}/debug/health`)).json()) as Record<string, string>;
      assert.match(body[`127.0.0.1:${closed}`] ?? '', /connection to .* failed/);
      assert.match(body['http://127.0.0.1:1/'] ?? '', /error while checking/);
    } finally {
      await wharf.stop(0);
    }
  });

  it('an HTTP check wants the configured status code', async () => {
    const wharf = await startTestWharf({ debug: { address: { host: '127.0.0.1', port: 0 } } });
    const checked = await startTestWharf({
      debug: { address: { host: '127.0.0.1', port: 0 } },
      health: { ...NO_CHECKS, http: [{ uri: `${wharf.url}/v2/`, headers: { 'X-Probe': ['yes'] }, statuscode: 204, timeout: 5000, interval: 100, threshold: 0 }] },
    });
    try {
      await until(async () => (await fetch(`${checked.debugUrl}/debug/health`)).status === 503);
      assert.deepEqual(await (await fetch(`${checked.debugUrl}/debug/health`)).json(), { [`${wharf.url}/v2/`]: 'downstream service returned unexpected status: 200' });
    } finally {
      await checked.stop(0);
      await wharf.stop(0);
    }
  });

  it('the storage check passes on an empty root and fails when the storage fails', async () => {
    let failure: Error = new PathNotFoundError('fake', '/docker/registry/v2');
    const driver = { name: 'fake', stat: async () => { throw failure; } } as unknown as StorageDriver;
    const check = storageDriverCheck(driver, 1000, 0);
    assert.equal(check.name, 'storagedriver_fake');
    await check.run();
    failure = new Error('disk gone');
    await assert.rejects(check.run(), /disk gone/);
  });

  it('counts a threshold of consecutive failures and recovers at the first success', async () => {
    let fail = true;
    const check: HealthCheck = { name: 'flaky', intervalMs: 60_000, threshold: 3, run: async () => { if (fail) throw new Error('down'); } };
    const monitor = new HealthMonitor([check]);
    const readiness = new Readiness(monitor);
    await monitor.runOnce(check);
    await monitor.runOnce(check);
    assert.deepEqual(monitor.failing(), {});
    assert.equal(readiness.status().ready, true);
    await monitor.runOnce(check);
    assert.deepEqual(monitor.failing(), { flaky: 'down' });
    assert.equal(readiness.status().ready, false);
    fail = false;
    await monitor.runOnce(check);
    assert.deepEqual(monitor.failing(), {});
    readiness.drain();
    assert.deepEqual(readiness.status(), { ready: false, failing: { draining: 'the server is shutting down' } });
  });

  it('reports not ready from the moment draining starts, while in-flight requests finish', async () => {
    const wharf = await startTestWharf({ debug: { address: { host: '127.0.0.1', port: 0 } } });
    const start = await fetch(`${wharf.url}/v2/drain/app/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', wharf.url);
    // An upload whose body is still arriving when the drain begins.
    const socket = connect({ host: '127.0.0.1', port: Number(location.port) });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PATCH ${location.pathname} HTTP/1.1\r\nHost: ${location.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n12345`);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    await until(async () => (await fetch(`${wharf.debugUrl}/metrics`)).status === 404); // the debug listener is up (no metrics configured)
    const stopped = wharf.stop(30_000);
    const readyz = await fetch(`${wharf.debugUrl}/readyz`);
    assert.equal(readyz.status, 503);
    assert.deepEqual(await readyz.json(), { status: 'not ready', failing: { draining: 'the server is shutting down' } });
    socket.write('67890');
    await stopped;
    assert.match(answer, /^HTTP\/1\.1 202 /, 'the in-flight upload finished');
  });
});
