/**
 * Every metric moves when its cause happens: requests by route, method and status, durations,
 * bytes in and out, uploads in progress, storage calls and errors, cache hits and misses, and the
 * process metrics; all served on the debug listener.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { CallOptions, ReaderOptions, StorageDriver, WriterOptions } from '../../src/storage/driver.js';
import { WharfMetrics } from '../../src/metrics/metrics.js';
import { HttpMetrics } from '../../src/metrics/http-metrics.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_MANIFEST, TestClient } from '../helpers/client.js';
import { metricReaches, metricValue } from '../notifications/helpers.js';

/** A driver whose listings fail while `broken` is set (a storage outage). */
class BreakableDriver implements StorageDriver {
  broken = false;
  readonly name: string;
  constructor(private readonly inner: StorageDriver) {
    this.name = inner.name;
  }
  stat(path: string, options?: CallOptions) { return this.inner.stat(path, options); }
  getContent(path: string, options?: CallOptions) { return this.inner.getContent(path, options); }
  putContent(path: string, content: Uint8Array, options?: CallOptions) { return this.inner.putContent(path, content, options); }
  reader(path: string, options?: ReaderOptions) { return this.inner.reader(path, options); }
  writer(path: string, options?: WriterOptions) { return this.inner.writer(path, options); }
  move(from: string, to: string, options?: CallOptions) { return this.inner.move(from, to, options); }
  delete(path: string, options?: CallOptions) { return this.inner.delete(path, options); }
  list(path: string, options?: CallOptions): AsyncIterable<string> {
    if (this.broken) {
      return (async function* () {
        yield* [];
        throw new Error('storage outage');
      })();
    }
    return this.inner.list(path, options);
  }
}

let wharf: TestWharf;
let metrics: WharfMetrics;
let client: TestClient;
let driver: BreakableDriver;

before(async () => {
  metrics = new WharfMetrics();
  driver = new BreakableDriver(wrapDriver(new MemoryDriver()));
  wharf = await startTestWharf({ driver, metrics, debug: { address: { host: '127.0.0.1', port: 0 }, metricsPath: '/metrics' } });
  client = new TestClient(wharf.url);
});
after(() => wharf.stop(0));

const value = (name: string, labels: Record<string, string> = {}) => metricValue(metrics, name, labels);

describe('metrics', () => {
  it('count requests by handler, method and status as distribution labels them, with durations and sizes', async () => {
    const image = await client.pushImage('metrics/app', 'v1', { layerSize: 4096 });
    const before404 = await value('registry_http_requests_total', { handler: 'manifest', method: 'get', code: '404' });
    const sentBefore = await value('registry_http_sent_bytes_total', { handler: 'blob' });
    assert.equal((await client.request('/v2/metrics/app/manifests/nope')).status, 404);
    assert.equal((await client.request(`/v2/metrics/app/blobs/${image.layers[0]!.digest}`).then(async (r) => (await r.arrayBuffer()).byteLength)), 4096);
    assert.equal(await metricReaches(metrics, 'registry_http_requests_total', { handler: 'manifest', method: 'get', code: '404' }, before404 + 1), before404 + 1);
    assert.ok((await value('registry_http_requests_total', { handler: 'manifest', method: 'put', code: '201' })) >= 1);
    assert.ok((await value('registry_http_requests_total', { handler: 'blob_upload', method: 'post', code: '202' })) >= 1);
    assert.ok((await value('registry_http_requests_total', { handler: 'blob_upload_chunk', method: 'put', code: '201' })) >= 1);
    assert.ok((await value('registry_http_sent_bytes_total', { handler: 'blob' })) >= sentBefore + 4096);
    assert.ok((await value('registry_http_received_bytes_total', { handler: 'blob_upload_chunk' })) >= 4096, 'the layer body counts as received on the upload route');
    const durations = await metrics.httpDuration.get();
    const count = durations.values.find((v) => v.metricName === 'registry_http_request_duration_seconds_count' && v.labels.handler === 'manifest' && v.labels.method === 'get');
    assert.ok((count?.value ?? 0) >= 1);
    const sizes = await metrics.httpRequestSize.get();
    const pushed = sizes.values.find((v) => v.metricName === 'registry_http_request_size_bytes_sum' && v.labels.handler === 'blob_upload_chunk');
    assert.ok((pushed?.value ?? 0) >= 4096, 'request sizes count the bodies');
    const responses = await metrics.httpResponseSize.get();
    assert.ok((responses.values.find((v) => v.metricName === 'registry_http_response_size_bytes_sum' && v.labels.handler === 'blob')?.value ?? 0) >= 4096);
    // Requests in flight go back to none once answered, and one no route matched takes nothing away.
    await client.request('/nowhere');
    for (const handler of ['manifest', 'blob', 'blob_upload_chunk']) assert.equal(await metricReaches(metrics, 'registry_http_in_flight_requests', { handler }, 0), 0);
    assert.ok((await metrics.httpInFlight.get()).values.every((v) => v.value >= 0));
    // An unknown method is one label value, not one per method a client invents.
    await client.request('/v2/', { method: 'BREW' }).catch(() => undefined);
    assert.equal((await metrics.httpRequests.get()).values.filter((v) => !['get', 'head', 'put', 'post', 'patch', 'delete', 'options', 'other'].includes(String(v.labels.method))).length, 0);
    assert.equal(image.mediaType, OCI_MANIFEST);
  });

  it('show an upload in progress while its body is being received', async () => {
    const start = await client.request('/v2/metrics/up/blobs/uploads/', { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', wharf.url);
    assert.equal(await value('registry_uploads_in_progress'), 0);
    const req = request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write(randomBytes(1024));
    assert.equal(await metricReaches(metrics, 'registry_uploads_in_progress', {}, 1), 1);
    req.end(randomBytes(1024));
    assert.equal(await answered, 202);
    assert.equal(await metricReaches(metrics, 'registry_uploads_in_progress', {}, 0), 0);
  });

  it('time storage calls by driver and operation and count their failures', async () => {
    const calls = async () => (await metrics.storageDuration.get()).values.find((v) => v.metricName === 'registry_storage_action_seconds_count' && v.labels.driver === 'inmemory' && v.labels.action === 'PutContent')?.value ?? 0;
    const before = await calls();
    await client.pushManifest('metrics/app', 'v2', (await client.pushImage('metrics/app', 'v3')).manifest);
    assert.ok((await calls()) > before);
    const errors = await value('registry_storage_errors_total', { driver: 'inmemory', action: 'List' });
    driver.broken = true;
    try {
      assert.equal((await client.request('/v2/_catalog')).status, 500);
    } finally {
      driver.broken = false;
    }
    assert.equal(await value('registry_storage_errors_total', { driver: 'inmemory', action: 'List' }), errors + 1);
    // Not-found answers are timed but are not errors.
    const getErrors = await value('registry_storage_errors_total', { driver: 'inmemory', action: 'GetContent' });
    await client.request('/v2/metrics/app/manifests/missing-tag');
    assert.equal(await value('registry_storage_errors_total', { driver: 'inmemory', action: 'GetContent' }), getErrors);
  });

  it('count cache hits and misses of the storage cache and the tag-list cache', async () => {
    await client.pushImage('metrics/cached', 'v1');
    const hits = await value('registry_cache_requests_total', { cache: 'storage', result: 'hit' });
    const misses = await value('registry_cache_requests_total', { cache: 'storage', result: 'miss' });
    await client.request('/v2/metrics/cached/manifests/v1');
    await client.request('/v2/metrics/cached/manifests/v1');
    assert.ok((await value('registry_cache_requests_total', { cache: 'storage', result: 'miss' })) > misses);
    assert.ok((await value('registry_cache_requests_total', { cache: 'storage', result: 'hit' })) > hits);
    const tagHits = await value('registry_cache_requests_total', { cache: 'tags', result: 'hit' });
    const tagMisses = await value('registry_cache_requests_total', { cache: 'tags', result: 'miss' });
    assert.equal((await client.request('/v2/metrics/cached/tags/list')).status, 200);
    assert.equal((await client.request('/v2/metrics/cached/tags/list')).status, 200);
    assert.equal(await value('registry_cache_requests_total', { cache: 'tags', result: 'miss' }), tagMisses + 1);
    assert.equal(await value('registry_cache_requests_total', { cache: 'tags', result: 'hit' }), tagHits + 1);
  });

  it('are served in the Prometheus text format on the debug listener, with process metrics', async () => {
    const response = await fetch(`${wharf.debugUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of ['registry_http_requests_total', 'registry_http_request_duration_seconds_bucket', 'registry_storage_action_seconds_bucket',
      'registry_cache_requests_total', 'registry_uploads_in_progress', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']) {
      assert.ok(text.includes(name), `${name} is exposed`);
    }
    assert.match(text, /registry_http_requests_total\{handler="manifest",method="put",code="201"\} \d+/);
    for (const name of ['registry_http_in_flight_requests', 'registry_http_request_size_bytes_bucket', 'registry_http_response_size_bytes_bucket']) {
      assert.ok(text.includes(name), `${name} is exposed`);
    }
    assert.equal((await fetch(`${wharf.url}/metrics`)).status, 404, 'not on the main listener');
  });

  it('keep one set of label children per route, method and status', () => {
    const own = new WharfMetrics({ processMetrics: false });
    const observer = new HttpMetrics(own);
    for (let i = 0; i < 3; i++) observer.finished('manifest', 'GET', 200, 0.001, 0, 100);
    observer.finished('manifest', 'WHATEVER', 405, 0.001, 0, 10);
    return own.httpRequests.get().then((m) => {
      assert.deepEqual(m.values.map((v) => [v.labels.method, v.labels.code, v.value]), [['get', '200', 3], ['other', '405', 1]]);
    });
  });
});
