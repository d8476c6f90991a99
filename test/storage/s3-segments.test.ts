/**
 * Files larger than one segment on the S3 driver (s3-segments.ts). s3rver has no UploadPartCopy
 * (it answers NotImplemented), so these run on the fake S3 client (test/helpers/fake-s3.ts), which
 * enforces S3's rules: part numbers 1..10,000, parts but the last of at least the minimum size and
 * all equal, copy ranges within the limit. Most tests shrink the part (64 KiB, with the fake's
 * minimum lowered to match) and the segment (3 parts) so that a blob of a few MiB spans several
 * segments; one keeps S3's real 5 MiB minimum. The 5 TiB arithmetic is checked on the planning
 * functions.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { wrapDriver, type CheckedDriver } from '../../src/storage/base.js';
import { FileTooLargeError, PathNotFoundError } from '../../src/storage/driver.js';
import { S3Driver } from '../../src/storage/s3/s3-driver.js';
import { MAX_PART_SIZE, MAX_PARTS, s3Options, type S3DriverOptions } from '../../src/storage/s3/s3-config.js';
import { segmentPlan, uploadLayout } from '../../src/storage/s3/s3-segments.js';
import { copyPartSize } from '../../src/storage/s3/s3-copy.js';
import { collect, endWriter, readAll, write } from '../../src/storage/testing/driver-suite.js';
import { FakeS3, type FakeS3Options } from '../helpers/fake-s3.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PART = 64 * KiB;
const SEGMENT = 3 * PART;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function instance(fake: FakeS3, extra: Partial<S3DriverOptions> = { chunkSize: PART, segmentBytes: SEGMENT }): CheckedDriver {
  const options: S3DriverOptions = { ...s3Options({ bucket: 'b', region: 'r', rootdirectory: '/root' }), ...extra };
  return wrapDriver(new S3Driver(options, fake.client));
}

function smallFake(options: FakeS3Options = {}): FakeS3 {
  return new FakeS3({ minPartSize: PART, maxCopyRange: SEGMENT, ...options });
}

/** Writes `bytes` in uneven chunks (so part boundaries fall inside chunks). */
async function writeUneven(w: Parameters<typeof write>[0], bytes: Buffer): Promise<void> {
  const sizes = [10_000, 100_003, 65_536, 1, 150_000];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    await write(w, bytes.subarray(at, at + n));
    at += n;
  }
}

const hiddenKeys = (fake: FakeS3): string[] => [...fake.objects.keys()].filter((k) => k.includes('~'));

describe('S3 segments: planning', () => {
  it('keeps 5 TiB at the default chunksize under 10,000 parts in every upload, with copy ranges of at most 5 GiB', () => {
    const plan = segmentPlan(10 * MiB);
    assert.equal(plan.segmentParts, 512);
    assert.equal(plan.segmentSize, 5 * GiB);
    assert.equal(plan.maxFileSize, 5 * TiB);
    const layout = uploadLayout(5 * TiB, plan);
    assert.equal(layout.uploadParts.length, 1024, '1024 segment uploads');
    assert.ok(layout.uploadParts.every((n) => n === 512));
    assert.equal(layout.finalParts.length, 1024, 'a final upload of 1024 parts');
    assert.ok(layout.finalParts.every((n) => n === 5 * GiB && n <= MAX_PART_SIZE));
  });

  it('plans every chunksize from 5 MiB to 5 GiB, and odd sizes, within S3’s limits with equal parts', () => {
    for (const chunk of [5 * MiB, 7 * MiB, 10 * MiB, 33 * MiB + 5, 525 * MiB, 2 * GiB + 1, 5 * GiB]) {
      const plan = segmentPlan(chunk);
      assert.ok(plan.segmentSize <= MAX_PART_SIZE, `${chunk}: a segment is one copy range`);
      assert.equal(plan.maxFileSize, 5 * TiB, `${chunk}: 5 TiB reachable`);
      for (const size of [1, chunk, 5 * GiB, 5 * GiB + 1, 5 * GiB + chunk, 100 * GiB + 12_345, 5 * TiB - 1, 5 * TiB]) {
        const { uploadParts, finalParts } = uploadLayout(size, plan);
        assert.ok(uploadParts.every((n) => n >= 1 && n <= MAX_PARTS), `${chunk}/${size}: ${Math.max(...uploadParts)} parts in an upload`);
        assert.ok(finalParts.length <= MAX_PARTS, `${chunk}/${size}: ${finalParts.length} final parts`);
        assert.ok(finalParts.slice(0, -1).every((n) => n === plan.segmentSize), `${chunk}/${size}: equal final parts`);
        assert.ok(finalParts.every((n) => n <= MAX_PART_SIZE && n > 0));
        if (finalParts.length > 0) assert.equal(finalParts.reduce((a, b) => a + b, 0), size);
      }
    }
  });

  it('keeps a file that ends within one segment (or one tail past it) in one upload on its key', () => {
    const plan = segmentPlan(10 * MiB);
    assert.deepEqual(uploadLayout(5 * GiB, plan), { uploadParts: [512], finalParts: [] });
    assert.deepEqual(uploadLayout(5 * GiB + 1, plan), { uploadParts: [513], finalParts: [] });
    assert.deepEqual(uploadLayout(5 * GiB + 10 * MiB, plan).finalParts, [5 * GiB, 10 * MiB]);
    // The old limit (10,000 parts of 10 MiB) is no longer one.
    assert.equal(uploadLayout(98 * GiB, plan).finalParts.length, 20);
  });

  it('moves 5 TiB with copy ranges of at most 5 GiB in at most 10,000 parts', () => {
    const chunk = copyPartSize(5 * TiB, 32 * MiB);
    assert.ok(chunk <= MAX_PART_SIZE);
    assert.ok(Math.ceil((5 * TiB) / chunk) <= MAX_PARTS);
    assert.equal(copyPartSize(100 * MiB, 32 * MiB), 32 * MiB, 'multipartcopychunksize where it fits');
  });
});

describe('S3 segments: writing', () => {
  it('writes a blob across several segments: byte-exact, equal parts everywhere, segments gone, few parts in flight', async () => {
    const fake = smallFake({ latencyMs: 3 });
    const driver = instance(fake);
    const blob = randomBytes(1 * MiB + 12_345);
    const w = await driver.writer('/_uploads/a/data');
    await writeUneven(w, blob);
    assert.ok(hiddenKeys(fake).length >= 4, 'full segments are completed on hidden keys as they fill');
    assert.deepEqual(await collect(driver.list('/_uploads/a')), ['/_uploads/a/data'], 'list() shows no segment');
    await w.commit();
    const read = await readAll(await driver.reader('/_uploads/a/data'));
    assert.equal(read.length, blob.length);
    assert.equal(sha(read), sha(blob));
    assert.equal((await driver.stat('/_uploads/a/data')).size, blob.length);
    const segments = Math.ceil(blob.length / SEGMENT);
    assert.equal(segments, 6);
    const final = fake.completed.at(-1)!;
    assert.equal(final.key, 'root/_uploads/a/data');
    assert.deepEqual(final.partSizes, [...Array<number>(segments - 1).fill(SEGMENT), blob.length - (segments - 1) * SEGMENT]);
    assert.equal(fake.names().filter((n) => n === 'UploadPartCopy').length, segments);
    // The writer made the uploads the planning function describes.
    const layout = uploadLayout(blob.length, segmentPlan(PART, { segmentBytes: SEGMENT }));
    assert.deepEqual(fake.completed.slice(0, -1).map((c) => c.partSizes.length).sort(), [...layout.uploadParts].sort());
    assert.deepEqual(final.partSizes, layout.finalParts);
    for (const { partSizes } of fake.completed) assert.ok(partSizes.slice(0, -1).every((n) => n === partSizes[0]), `equal parts: ${partSizes.join(',')}`);
    assert.deepEqual(hiddenKeys(fake), [], 'segment objects deleted after the commit');
    assert.equal(fake.uploads.size, 0, 'no multipart upload left open');
    assert.ok(fake.maxBytesInFlight <= 2 * PART, `at most 2 parts sent at once, saw ${fake.maxBytesInFlight} bytes`);
    assert.ok(fake.maxBytesInFlight >= PART);
  });

  it('resumes on fresh instances mid-segment, exactly at a segment boundary, and one tail past it', async () => {
    const fake = smallFake();
    const blob = randomBytes(4 * SEGMENT + 5000);
    // Stops: mid segment 1 (its upload open), exactly 2 segments (no upload open), a tail past it, mid segment 3.
    const stops = [SEGMENT + 2 * PART + 777, 2 * SEGMENT, 2 * SEGMENT + 100, 3 * SEGMENT + PART, blob.length];
    let at = 0;
    for (const stop of stops) {
      const driver = instance(fake); // another instance each time: nothing shared but the store
      const w = await driver.writer('/_uploads/r/data', { append: true }).catch(async (err: unknown) => {
        if (at === 0) return driver.writer('/_uploads/r/data');
        throw err;
      });
      assert.equal(w.size, at);
      await writeUneven(w, blob.subarray(at, stop));
      at = stop;
      if (stop === blob.length) await w.commit();
      else await endWriter(w);
      assert.equal((await instance(fake).stat('/_uploads/r/data')).size, stop, `another instance sees ${stop} bytes`);
    }
    const read = await readAll(await instance(fake).reader('/_uploads/r/data'));
    assert.equal(sha(read), sha(blob));
    for (const { partSizes } of fake.completed) assert.ok(partSizes.slice(0, -1).every((n) => n === partSizes[0]));
    assert.deepEqual(hiddenKeys(fake), []);
    assert.equal(fake.uploads.size, 0);
  });

  it('works at S3’s real 5 MiB minimum part size, parts equal', async () => {
    const fake = new FakeS3({ equalParts: true });
    const driver = instance(fake, { chunkSize: 5 * MiB, segmentBytes: 10 * MiB });
    const blob = randomBytes(27 * MiB + 3);
    const w1 = await driver.writer('/_uploads/m/data');
    await write(w1, blob.subarray(0, 12 * MiB));
    await endWriter(w1);
    const w2 = await instance(fake, { chunkSize: 5 * MiB, segmentBytes: 10 * MiB }).writer('/_uploads/m/data', { append: true });
    await write(w2, blob.subarray(12 * MiB));
    await w2.commit();
    assert.equal(sha(await readAll(await driver.reader('/_uploads/m/data'))), sha(blob));
    assert.deepEqual(fake.completed.at(-1)!.partSizes, [10 * MiB, 10 * MiB, 7 * MiB + 3]);
    assert.ok(fake.maxBytesInFlight <= 10 * MiB);
  });

  it('takes the old path for a file within one segment: one upload on the key, no copy, no hidden key', async () => {
    const fake = smallFake();
    const driver = instance(fake);
    const blob = randomBytes(SEGMENT + 100); // 3 full parts and a tail: still segment 0
    const w = await driver.writer('/f/data');
    await writeUneven(w, blob);
    await w.commit();
    assert.deepEqual(fake.completed, [{ key: 'root/f/data', partSizes: [PART, PART, PART, 100] }]);
    assert.ok(!fake.names().includes('UploadPartCopy'));
    assert.ok(!fake.calls.some((c) => String(c.input['Key']).includes('~')));
    assert.equal(sha(await driver.getContent('/f/data')), sha(blob));
  });

  it('leaves nothing behind on cancel, on an upload purge, or when a new writer replaces a pending file', async () => {
    const fake = smallFake();
    const driver = instance(fake);
    const pending = async (path: string): Promise<void> => {
      const w = await driver.writer(path);
      await writeUneven(w, randomBytes(3 * SEGMENT + PART + 5));
      await endWriter(w);
    };
    await pending('/_uploads/c/data');
    assert.ok(hiddenKeys(fake).length > 0 && fake.uploads.size === 2, 'segments, segment 0 and the open segment');
    await (await driver.writer('/_uploads/c/data', { append: true })).cancel();
    assert.deepEqual([...fake.objects.keys()], []);
    assert.equal(fake.uploads.size, 0);

    await pending('/repo/_uploads/p/data');
    await driver.delete('/repo/_uploads'); // what the upload purge does
    assert.deepEqual([...fake.objects.keys()], []);
    assert.equal(fake.uploads.size, 0);

    await pending('/_uploads/o/data');
    const w = await driver.writer('/_uploads/o/data'); // not append: starts the file anew
    await write(w, Buffer.from('new'));
    await w.commit();
    assert.deepEqual([...fake.objects.keys()], ['root/_uploads/o/data']);
    assert.equal(fake.uploads.size, 0);
    assert.equal((await driver.getContent('/_uploads/o/data')).toString(), 'new');
    await pending('/_uploads/d/data');
    await driver.delete('/_uploads/d/data');
    assert.deepEqual([...fake.objects.keys()], ['root/_uploads/o/data']);
    assert.equal(fake.uploads.size, 0);
  });

  it('refuses a write past the largest file with a FileTooLargeError naming the limit, keeping what was stored', async () => {
    const fake = smallFake();
    const driver = instance(fake, { chunkSize: PART, segmentBytes: SEGMENT, maxObjectSize: 5 * SEGMENT });
    const w = await driver.writer('/_uploads/l/data');
    w.on('error', () => {}); // the error is asserted on the write below
    await write(w, randomBytes(5 * SEGMENT));
    const err = await write(w, Buffer.from('x')).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof FileTooLargeError, String(err));
    assert.equal(err.limit, 5 * SEGMENT);
    assert.match(err.message, new RegExp(`${5 * SEGMENT} bytes, the largest file`));
    await new Promise((resolve) => w.once('close', resolve));
    assert.equal((await driver.stat('/_uploads/l/data')).size, 5 * SEGMENT, 'what was written is kept');
    await driver.delete('/_uploads');
    await assert.rejects(driver.stat('/_uploads/l/data'), PathNotFoundError);
    assert.equal(fake.uploads.size, 0);
  });

  for (const [what, size] of [['the last segment open', 2 * SEGMENT + PART + 10], ['a tail past the last segment', 2 * SEGMENT + 10]] as const) {
    it(`fails the commit on a store without UploadPartCopy with the state kept, and a retried commit completes (${what})`, async () => {
      const fake = smallFake();
      const driver = instance(fake);
      const send = fake.send.bind(fake);
      let copies = false;
      fake.send = (command) => (command.constructor.name === 'UploadPartCopyCommand' && !copies ? Promise.reject(new Error('NotImplemented')) : send(command));
      const blob = randomBytes(size);
      const w = await driver.writer('/_uploads/n/data');
      await writeUneven(w, blob);
      await endWriter(w);
      await assert.rejects((await driver.writer('/_uploads/n/data', { append: true })).commit(), /NotImplemented/);
      assert.equal((await instance(fake).stat('/_uploads/n/data')).size, blob.length, 'the stored state stands for every byte');
      const more = await instance(fake).writer('/_uploads/n/data', { append: true });
      more.on('error', () => {});
      await assert.rejects(write(more, Buffer.from('x')), /being committed/);
      copies = true;
      const retry = await instance(fake).writer('/_uploads/n/data', { append: true });
      await retry.commit();
      assert.equal(sha(await readAll(await driver.reader('/_uploads/n/data'))), sha(blob));
      assert.deepEqual([...fake.objects.keys()], ['root/_uploads/n/data']);
      assert.equal(fake.uploads.size, 0);
    });
  }

  it('removes a sealed file (a commit that failed) on delete', async () => {
    const fake = smallFake();
    const driver = instance(fake);
    const send = fake.send.bind(fake);
    fake.send = (command) => (command.constructor.name === 'UploadPartCopyCommand' ? Promise.reject(new Error('NotImplemented')) : send(command));
    const w = await driver.writer('/_uploads/s/data');
    await writeUneven(w, randomBytes(3 * SEGMENT + 7));
    await assert.rejects(w.commit(), /NotImplemented/);
    assert.ok(hiddenKeys(fake).length > 0);
    await driver.delete('/_uploads/s/data');
    assert.deepEqual([...fake.objects.keys()], []);
    assert.equal(fake.uploads.size, 0);
  });
});
