/**
 * The operational configuration through the real `wharf serve`: http.debug with Prometheus,
 * health, notifications with the default queue directory, and the start-up line naming them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWharfProcess } from '../helpers/process.js';
import { startSink } from '../helpers/sink.js';
import { TestClient } from '../helpers/client.js';
import { banner } from '../../src/cli/operations-config.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wharf-ops-cli-'));
});
after(() => rm(work, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('wharf serve with metrics, health and notifications', () => {
  it('serves /metrics and /debug/health on the debug address and delivers events from the queue beside the storage', async () => {
    const sink = await startSink({ failFirst: 1 });
    const root = join(work, 'root');
    const debugPort = await freePort();
    const file = join(work, 'config.yml');
    await writeFile(file, `version: 0.1
log:
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${root}
http:
  addr: 127.0.0.1:0
  debug:
    addr: 127.0.0.1:${debugPort}
    prometheus:
      enabled: true
health:
  storagedriver:
    enabled: true
notifications:
  endpoints:
    - name: sink
      url: ${sink.url}
      backoff: 100ms
      threshold: 1
    - name: paused
      url: http://127.0.0.1:1/
      disabled: true
`);
    const wharf = await startWharfProcess({}, file);
    try {
      const listening = wharf.logs.find((l) => l.msg === 'listening');
      assert.equal(listening?.metrics, `http://127.0.0.1:${debugPort}/metrics`);
      assert.deepEqual(listening?.notifications, ['sink']);
      assert.equal(listening?.eventQueue, join(root, '.wharf-events'));
      assert.equal(listening?.healthChecks, 1);
      assert.equal(listening?.auth, 'none');

      await new TestClient(wharf.url).pushBlob('cli/app', randomBytes(256));
      const [event] = await sink.waitFor(1);
      assert.equal(event?.action, 'push');
      assert.deepEqual(await readdir(join(root, '.wharf-events')), ['sink']);

      const debug = `http://127.0.0.1:${debugPort}`;
      assert.equal((await fetch(`${debug}/debug/health`)).status, 200);
      assert.equal((await fetch(`${debug}/readyz`)).status, 200);
      let text = '';
      for (let i = 0; i < 100 && !/registry_notifications_deliveries_total\{endpoint="sink"\} 1/.test(text); i++) {
        text = await (await fetch(`${debug}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(text, /registry_notifications_deliveries_total\{endpoint="sink"\} 1/);
      assert.match(text, /registry_notifications_failures_total\{endpoint="sink"\} 1/);
      assert.match(text, /registry_http_requests_total\{handler="blob_upload_chunk",method="put",code="201"\} 1/);
      assert.match(text, /registry_storage_action_seconds_count\{driver="filesystem",action="Writer"\} \d+/);
      assert.match(text, /process_resident_memory_bytes \d+/);
    } finally {
      assert.equal(await wharf.stop('SIGTERM'), 0);
      await sink.close();
    }
  });
});

describe('start-up banner', () => {
  it('names the address, storage, auth mode and what is enabled, one line each', () => {
    const text = banner({
      address: '127.0.0.1:5000', storage: 'filesystem /srv', auth: 'none', deletes: true, readOnly: false, cache: true,
      debug: '127.0.0.1:5001', metrics: 'http://127.0.0.1:5001/metrics', healthChecks: 2, notifications: ['ci', 'audit'], eventQueue: '/srv/.wharf-events', config: 'config.yml',
    });
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^Wharf \d+\.\d+\.\d+/);
    for (const expected of [/address\s+127\.0\.0\.1:5000$/, /storage\s+filesystem \/srv$/, /auth\s+none$/, /deletes\s+enabled$/, /metrics\s+http:\/\/127\.0\.0\.1:5001\/metrics$/, /notifications\s+ci, audit \(queue \/srv\/\.wharf-events\)$/]) {
      assert.ok(lines.some((line) => expected.test(line)), `a line matching ${expected}`);
    }
    assert.match(banner({ address: 'a', storage: 's', auth: 'none', notifications: [], healthChecks: 0 }), /notifications\s+off\n/);
  });
});
