/**
 * The collector inside the server: writes are refused (405 UNSUPPORTED, the read-only error) from
 * the moment a run starts until it ends, writes already under way finish before the mark begins
 * (or the run gives up), reads go on, and the read caches forget what the sweep removed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestClient, errorCode } from '../helpers/client.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { MemoryDriver } from '../../src/storage/memory/memory-driver.js';
import { wrapDriver } from '../../src/storage/base.js';
import { ForwardingDriver } from '../../src/storage/forwarding-driver.js';
import type { CallOptions, FileWriter, WriterOptions } from '../../src/storage/driver.js';
import { GateDrainTimeoutError } from '../../src/gc/write-gate.js';
import type { GcSchedule } from '../../src/gc/schedule.js';

/** A driver whose listings can be held (to catch the collector mid-run) and that reports opened writers. */
class HoldingDriver extends ForwardingDriver {
  override readonly name = 'holding';
  listCalls = 0;
  private held: Promise<void> | undefined;
  private writerWaiters: { match: string; resolve: () => void }[] = [];

  hold(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    this.listCalls = 0;
    return () => {
      this.held = undefined;
      release();
    };
  }
  /** Resolves when a writer is opened on a path containing `match`. */
  writerOpened(match: string): Promise<void> {
    return new Promise((resolve) => this.writerWaiters.push({ match, resolve }));
  }

  override async writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    const writer = await this.inner.writer(path, options);
    for (const w of this.writerWaiters.filter((x) => path.includes(x.match))) w.resolve();
    return writer;
  }
  override async *list(path: string, options?: CallOptions): AsyncIterable<string> {
    this.listCalls++;
    if (this.held !== undefined) await this.held;
    yield* this.inner.list(path, options);
  }
}

const schedule = (overrides: Partial<GcSchedule> = {}): GcSchedule => ({
  intervalMs: 3_600_000, firstRunMs: 3_600_000, deleteUntagged: true, dryRun: false, drainTimeoutMs: 30_000, ...overrides,
});

/** A PATCH whose body stays open until `finish()`. */
function slowPatch(client: TestClient, location: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  controller.enqueue(randomBytes(1000));
  const response = client.request(location, { method: 'PATCH', body, headers: { 'Content-Type': 'application/octet-stream' } });
  return {
    response,
    finish: () => {
      controller.enqueue(randomBytes(1000));
      controller.close();
    },
  };
}

async function startUpload(client: TestClient, repo: string): Promise<Response> {
  return client.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
}

describe('garbage collection inside the server', () => {
  let driver: HoldingDriver;
  let w: TestWharf;
  let client: TestClient;
  before(async () => {
    driver = new HoldingDriver(wrapDriver(new MemoryDriver()));
    // A long cache TTL: a stale entry would be served for the whole test.
    w = await startTestWharf({ driver, gc: schedule(), cache: { ttlMs: 600_000, maxBytes: 16 * 1024 * 1024 } });
    client = new TestClient(w.url);
  });
  after(() => w.stop());

  it('waits for writes under way, refuses new ones until the sweep is done, then accepts them again', async () => {
    const started = await startUpload(client, 'busy');
    assert.equal(started.status, 202);
    const location = started.headers.get('location') ?? '';
    const opened = driver.writerOpened('/_uploads/');
    const patch = slowPatch(client, location);
    await opened; // the PATCH is inside the registry, writing

    const release = driver.hold();
    const run = w.gc!.runNow();
    const refused = await startUpload(client, 'other');
    assert.equal(refused.status, 405, 'a new write is refused at once');
    assert.equal(await errorCode(refused), 'UNSUPPORTED');
    assert.equal(driver.listCalls, 0, 'the collector has not started marking while a write is under way');
    assert.equal((await client.request('/v2/')).status, 200, 'reads go on');

    patch.finish();
    assert.equal((await patch.response).status, 202, 'the write under way completes');
    // Now the run is marking (its listings are held): writes are still refused.
    while (driver.listCalls === 0) await new Promise((r) => setImmediate(r));
    assert.equal((await startUpload(client, 'other')).status, 405, 'refused while the collector runs');
    release();
    const report = await run;
    assert.equal(report.dryRun, false);
    assert.equal((await startUpload(client, 'other')).status, 202, 'writes are accepted again');
    // The upload that was under way survived the sweep and completes.
    const status = await client.request(location);
    assert.equal(status.status, 204);
  });

  it('forgets cached links, manifests and blob sizes of what it removed', async () => {
    const old = await client.pushImage('cached', 'moving');
    await client.pushImage('cached', 'moving');
    const orphan = await client.pushBlob('cached', randomBytes(300));
    // Read everything once so that the read cache holds it.
    assert.equal((await client.request(`/v2/cached/manifests/${old.digest}`, { headers: { Accept: old.mediaType } })).status, 200);
    assert.equal((await client.request(`/v2/cached/blobs/${old.layers[0]!.digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await client.request(`/v2/cached/blobs/${orphan.digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await client.request('/v2/cached/tags/list')).status, 200);
    // What a margin of 2 s would still protect as new is old enough after waiting past it.
    await new Promise((r) => setTimeout(r, 2_100));
    const report = await w.gc!.runNow();
    assert.ok(report.manifestsDeleted >= 1 && report.blobsDeleted >= 3, JSON.stringify(report));
    assert.equal((await client.request(`/v2/cached/manifests/${old.digest}`, { headers: { Accept: old.mediaType } })).status, 404);
    assert.equal((await client.request(`/v2/cached/blobs/${old.layers[0]!.digest}`, { method: 'HEAD' })).status, 404);
    assert.equal((await client.request(`/v2/cached/blobs/${orphan.digest}`, { method: 'HEAD' })).status, 404);
    assert.deepEqual(((await (await client.request('/v2/cached/tags/list')).json()) as { tags: string[] }).tags, ['moving']);
  });

  it('gives up, writes open again, when a write under way outlasts the drain timeout', async () => {
    const holding = new HoldingDriver(wrapDriver(new MemoryDriver()));
    const slow = await startTestWharf({ driver: holding, gc: schedule({ drainTimeoutMs: 200 }) });
    try {
      const c = new TestClient(slow.url);
      const started = await startUpload(c, 'stuck');
      const opened = holding.writerOpened('/_uploads/');
      const patch = slowPatch(c, started.headers.get('location') ?? '');
      await opened;
      await assert.rejects(slow.gc!.runNow(), GateDrainTimeoutError);
      assert.equal(holding.listCalls, 0, 'the run never started marking');
      assert.equal((await startUpload(c, 'stuck')).status, 202, 'writes are accepted after the run gave up');
      patch.finish();
      assert.equal((await patch.response).status, 202);
    } finally {
      await slow.stop();
    }
  });

  it('a dry run leaves writes open and deletes nothing', async () => {
    const dry = await startTestWharf({ gc: schedule({ dryRun: true }) });
    try {
      const c = new TestClient(dry.url);
      const orphan = await c.pushBlob('dry', randomBytes(100));
      await new Promise((r) => setTimeout(r, 2_100));
      const run = dry.gc!.runNow();
      assert.equal((await startUpload(c, 'dry')).status, 202, 'writes stay open');
      const report = await run;
      assert.equal(report.blobsDeleted, 1);
      assert.equal((await c.request(`/v2/dry/blobs/${orphan.digest}`, { method: 'HEAD' })).status, 200);
    } finally {
      await dry.stop();
    }
  });
});
