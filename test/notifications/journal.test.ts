/** The durable event journal: order, acknowledgement, reopening, a torn last line, compaction. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/notifications/journal.js';
import { endpointDirName } from '../../src/notifications/notifier.js';
import { retryDelay } from '../../src/notifications/sender.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-journal-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function drain(journal: Journal, batch = 1): Promise<string[]> {
  const lines: string[] = [];
  for (let next = await journal.next(batch); next !== undefined; next = await journal.next(batch)) {
    lines.push(...next.lines);
    await journal.ack(next);
  }
  return lines;
}

describe('event journal', () => {
  it('hands out appended events in order and forgets only acknowledged ones across a reopen', async () => {
    const path = join(dir, 'a');
    const journal = await Journal.open(path);
    await Promise.all(['{"n":1}', '{"n":2}', '{"n":3}'].map((line) => journal.append(line)));
    assert.equal(journal.pending, 3);
    const first = await journal.next();
    assert.deepEqual(first?.lines, ['{"n":1}']);
    await journal.ack(first!);
    assert.equal(journal.pending, 2);
    await journal.close();

    const reopened = await Journal.open(path);
    assert.equal(reopened.pending, 2);
    assert.deepEqual(await drain(reopened), ['{"n":2}', '{"n":3}']);
    assert.equal(await reopened.next(), undefined);
    await reopened.close();
  });

  it('drops a line torn by a crash mid-write and keeps the whole ones', async () => {
    const path = join(dir, 'b');
    const journal = await Journal.open(path);
    await journal.append('{"n":1}');
    await journal.close();
    await appendFile(join(path, 'events.log'), '{"n":2,"cut');
    const reopened = await Journal.open(path);
    await reopened.append('{"n":3}');
    assert.deepEqual(await drain(reopened), ['{"n":1}', '{"n":3}']);
    await reopened.close();
  });

  it('truncates the file once everything is delivered and it has grown past the limit', async () => {
    const path = join(dir, 'c');
    const journal = await Journal.open(path, { compactBytes: 100 });
    for (let i = 0; i < 20; i++) await journal.append(JSON.stringify({ i }));
    assert.ok((await stat(join(path, 'events.log'))).size > 100);
    assert.deepEqual((await journal.next(5))?.lines, [0, 1, 2, 3, 4].map((i) => JSON.stringify({ i })), 'batches of at most the size asked');
    assert.equal((await drain(journal, 8)).length, 20);
    assert.equal((await stat(join(path, 'events.log'))).size, 0);
    assert.equal((await readFile(join(path, 'cursor'), 'utf8')).trim(), '0');
    await journal.append('{"after":true}');
    assert.deepEqual(await drain(journal), ['{"after":true}']);
    await journal.close();
  });

  it('resets a cursor beyond the end of the file (a crash between truncation and cursor write)', async () => {
    const path = join(dir, 'd');
    const journal = await Journal.open(path);
    await journal.close();
    await appendFile(join(path, 'cursor'), '999');
    const reopened = await Journal.open(path);
    await reopened.append('{"n":1}');
    assert.deepEqual(await drain(reopened), ['{"n":1}']);
    await reopened.close();
  });

  it('names endpoint directories safely and backs off after the threshold', () => {
    assert.equal(endpointDirName('hooks.example/ci'), 'hooks.example%2fci');
    assert.equal(endpointDirName('..'), '%2e%2e');
    assert.equal(retryDelay(1, 3, 1000), 50);
    assert.equal(retryDelay(3, 3, 1000), 1000);
    assert.equal(retryDelay(4, 3, 1000), 2000);
    assert.equal(retryDelay(40, 3, 1000), 60_000);
    assert.equal(retryDelay(40, 3, 120_000), 120_000);
  });
});
