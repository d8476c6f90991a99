/**
 * The collector on content pushed through Wharf (memory storage): what each mode keeps and removes,
 * that everything kept still pulls intact afterwards, dry runs, the referrers index, and the
 * safety nets (files newer than the run, uploads in progress, unreadable manifests).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TestClient } from '../helpers/client.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { pushGcFixture, verifyAfterGc, type GcFixture } from '../helpers/gc-fixture.js';
import { listFiles, storedBlobs } from '../helpers/storage-tree.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { GcRefusedError } from '../../src/gc/safety.js';
import { UnreadableManifestError } from '../../src/gc/references.js';
import type { GcEvent } from '../../src/gc/events.js';
import { paths } from '../../src/registry/paths.js';
import { parseDigest } from '../../src/registry/digest.js';

/** Runs the collector on a test server's storage with "now" far enough ahead that nothing is new. */
function gc(w: TestWharf, options: { deleteUntagged: boolean; dryRun?: boolean; events?: GcEvent[] }) {
  return collectGarbage({
    driver: w.driver,
    deleteUntagged: options.deleteUntagged,
    dryRun: options.dryRun ?? false,
    protectMarginMs: -60_000,
    onEvent: (e) => options.events?.push(e),
  });
}

const difference = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

for (const deleteUntagged of [false, true]) {
  describe(`gc ${deleteUntagged ? '--delete-untagged' : '(every manifest kept)'} on a root Wharf wrote`, () => {
    let w: TestWharf;
    let client: TestClient;
    let fixture: GcFixture;
    before(async () => {
      w = await startTestWharf();
      client = new TestClient(w.url);
      fixture = await pushGcFixture(client, { canDeleteTags: true });
    });
    after(() => w.stop());

    it('a dry run changes nothing and reports exactly what the real run then removes', async () => {
      const before = await listFiles(w.driver);
      const events: GcEvent[] = [];
      const dry = await gc(w, { deleteUntagged, dryRun: true, events });
      assert.deepEqual(await listFiles(w.driver), before, 'nothing changed');
      const wouldGo = events.filter((e) => e.type === 'delete').map((e) => `${e.kind} ${e.repository ?? ''} ${e.digest}`).sort();
      assert.ok(events.filter((e) => e.type === 'delete').every((e) => e.type === 'delete' && e.dryRun));

      const blobsBefore = await storedBlobs(w.driver);
      const realEvents: GcEvent[] = [];
      const report = await gc(w, { deleteUntagged, events: realEvents });
      const went = realEvents.filter((e) => e.type === 'delete').map((e) => `${e.kind} ${e.repository ?? ''} ${e.digest}`).sort();
      assert.deepEqual(went, wouldGo, 'the dry run listed what the real run removed');
      assert.deepEqual({ ...dry, dryRun: true, markMs: 0, sweepMs: 0, totalMs: 0 }, { ...report, dryRun: true, markMs: 0, sweepMs: 0, totalMs: 0 });

      // Nothing unreachable remains, nothing reachable is gone.
      const expected = fixture.keptBlobs(deleteUntagged);
      const after = await storedBlobs(w.driver);
      assert.deepEqual(difference(expected, after).map((d) => fixture.names.get(d) ?? d), [], 'kept blobs are all there');
      assert.deepEqual(difference(after, expected).map((d) => fixture.names.get(d) ?? d), [], 'no other blob remains');
      assert.equal(report.blobsDeleted, blobsBefore.size - after.size);
      assert.equal(report.blobsExamined, blobsBefore.size);
      assert.equal(report.manifestsDeleted, deleteUntagged ? fixture.untaggedGone.length : 0);
      assert.ok(report.bytesFreed > 0);
    });

    it('everything kept pulls intact; removed manifests are unknown', async () => {
      await verifyAfterGc(client, fixture, deleteUntagged);
    });

    it('links to removed content are gone: layer links, revisions, tag index entries, referrers index entries', async () => {
      const files = await listFiles(w.driver);
      const kept = fixture.keptBlobs(deleteUntagged);
      for (const file of files) {
        const m = /\/_layers\/(sha256)\/([0-9a-f]{64})\/link$/.exec(file);
        if (m !== null) assert.ok(kept.has(`${m[1]}:${m[2]}`), `layer link to a removed blob remains: ${file}`);
      }
      for (const m of fixture.untaggedGone) {
        const d = parseDigest(m.digest);
        const left = files.filter((f) => f.includes(d.hex) && f.includes(`/repositories/${m.repo}/`));
        if (deleteUntagged) assert.deepEqual(left, [], `${fixture.names.get(m.digest)}: no revision, tag index or referrers entry remains`);
        else assert.ok(left.some((f) => f === paths.revisionLink(m.repo, d)), 'kept without --delete-untagged');
      }
      // Wharf's referrers index keeps the entries of referrers that stay.
      for (const [key, referrers] of fixture.referrers) {
        const [repo, subject] = key.split('@') as [string, string];
        for (const r of referrers) assert.ok(files.includes(paths.referrerEntry(repo, parseDigest(subject), parseDigest(r))), `${fixture.names.get(r)} entry kept`);
      }
    });

    it('a second run finds nothing more to remove', async () => {
      const report = await gc(w, { deleteUntagged });
      assert.equal(report.blobsDeleted + report.manifestsDeleted + report.layerLinksDeleted + report.referrerEntriesDeleted, 0);
    });
  });
}

describe('gc safety nets', () => {
  let w: TestWharf;
  let client: TestClient;
  before(async () => {
    w = await startTestWharf();
    client = new TestClient(w.url);
  });
  after(() => w.stop());

  it('never sweeps a blob or link written after the run began', async () => {
    const orphan = await client.pushBlob('fresh', randomBytes(100));
    // The default margin counts the blob as written during the run.
    const report = await collectGarbage({ driver: w.driver, deleteUntagged: false, dryRun: false });
    assert.ok(report.keptAsNew >= 2, 'the blob and its layer link were kept as new');
    assert.equal(report.blobsDeleted, 0);
    assert.ok((await storedBlobs(w.driver)).has(orphan.digest));
    // Once older than the run, it goes.
    const later = await collectGarbage({ driver: w.driver, deleteUntagged: false, dryRun: false, protectMarginMs: -60_000 });
    assert.equal(later.blobsDeleted, 1);
  });

  it('refuses while an upload was recently written to (a registry is writing), but a dry run reports', async () => {
    const start = await client.request('/v2/busy/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    await assert.rejects(
      collectGarbage({ driver: w.driver, deleteUntagged: false, dryRun: false, refuseActiveUploadsWithinMs: 600_000 }),
      (err: unknown) => err instanceof GcRefusedError && /busy\//.test(err.message),
    );
    const dry = await collectGarbage({ driver: w.driver, deleteUntagged: false, dryRun: true, refuseActiveUploadsWithinMs: 600_000 });
    assert.equal(dry.dryRun, true);
    await client.request(start.headers.get('location') ?? '', { method: 'DELETE' });
  });

  it('stops, deleting nothing, at a manifest it cannot read', async () => {
    const image = await client.pushImage('broken', 'v1');
    const orphan = await client.pushBlob('broken', randomBytes(50));
    await w.driver.putContent(paths.blobData(parseDigest(image.digest)), Buffer.from('not json'));
    const before = await listFiles(w.driver);
    await assert.rejects(
      collectGarbage({ driver: w.driver, deleteUntagged: false, dryRun: false, protectMarginMs: -60_000 }),
      (err: unknown) => err instanceof UnreadableManifestError && err.message.includes(`broken@${image.digest}`),
    );
    assert.deepEqual(await listFiles(w.driver), before);
    assert.ok((await storedBlobs(w.driver)).has(orphan.digest));
  });
});
