import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { startTestWharf } from '../helpers/wharf.js';
import { TestClient } from '../helpers/client.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('access log', () => {
  it('writes one line per request with method, path, status, bytes, duration and the request id the client got', async () => {
    const { lines, stream } = capture();
    const wharf = await startTestWharf({ accessLog: true, log: createLogger({ level: 'info', formatter: 'json', destination: stream }) });
    try {
      const client = new TestClient(wharf.url);
      const blob = Buffer.alloc(5000, 1);
      await client.pushBlob('logs/repo', blob);
      const res = await client.request('/v2/logs/repo/manifests/missing', { headers: { Authorization: 'Basic c2VjcmV0OnNlY3JldA==' } });
      assert.equal(res.status, 404);
      const requestId = res.headers.get('x-request-id');
      assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const requests = lines.filter((l) => l['msg'] === 'request');
      assert.equal(requests.length, 3, 'POST, PUT and GET: one line each');
      const get = requests.find((l) => l['requestId'] === requestId);
      assert.ok(get, 'the line carries the id returned to the client');
      assert.equal(get['method'], 'GET');
      assert.equal(get['path'], '/v2/logs/repo/manifests/missing');
      assert.equal(get['status'], 404);
      assert.equal(get['route'], 'manifest');
      assert.equal(typeof get['durationMs'], 'number');
      assert.ok((get['bytesOut'] as number) > 0);
      const put = requests.find((l) => l['method'] === 'PUT');
      assert.ok(put !== undefined && (put['bytesIn'] as number) >= blob.length, 'bytes received are counted');
      assert.equal(put?.['status'], 201);
      assert.ok(!JSON.stringify(lines).includes('c2VjcmV0'), 'credentials never reach the log');
    } finally {
      await wharf.stop();
    }
  });

  it('is silent when log.accesslog.disabled', async () => {
    const { lines, stream } = capture();
    const wharf = await startTestWharf({ accessLog: false, log: createLogger({ level: 'info', formatter: 'json', destination: stream }) });
    try {
      await fetch(`${wharf.url}/v2/`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(lines.filter((l) => l['msg'] === 'request').length, 0);
    } finally {
      await wharf.stop();
    }
  });
});
