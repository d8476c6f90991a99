/**
 * A durable, append-only queue of one endpoint's events: `events.log` (one JSON event a line) and
 * `cursor` (the byte offset of the first event not yet delivered) in the endpoint's directory.
 *
 * - `append` writes a line and resolves once it is on disk (fdatasync). Appends that arrive while
 *   a write is under way are written together with one fdatasync (group commit), so a busy
 *   registry pays one disk flush per batch, not per event.
 * - `next` reads the first undelivered lines (a batch); `ack` moves the cursor past them. The
 *   cursor file is replaced atomically but not synced: after a crash a few delivered events may
 *   be sent again (delivery is at least once).
 * - When everything is delivered and the file has grown past `compactBytes`, it is truncated
 *   (under the write lock, then the cursor is reset); a cursor found beyond the end of the file
 *   at start-up means a crash between the two, and is reset too.
 */
import { open, readFile, rename, writeFile, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const LOG = 'events.log';
const CURSOR = 'cursor';
const NEWLINE = 0x0a;

export interface JournalBatch {
  /** Events, each a JSON text, in journal order. */
  readonly lines: readonly string[];
  /** Offset just past the last line's newline: the cursor once they are delivered. */
  readonly end: number;
}

interface Pending {
  readonly data: string;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Journal {
  private buffer: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  /** Lines after the cursor. */
  private pendingCount: number;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly dir: string,
    private readonly writer: FileHandle,
    private readonly reader: FileHandle,
    /** Bytes written to the file (readable by `next`). */
    private size: number,
    private cursor: number,
    pending: number,
    private readonly compactBytes: number,
  ) {
    this.pendingCount = pending;
  }

  static async open(dir: string, options: { readonly compactBytes?: number } = {}): Promise<Journal> {
    await mkdir(dir, { recursive: true });
    const writer = await open(join(dir, LOG), 'a');
    const reader = await open(join(dir, LOG), 'r');
    let size = (await writer.stat()).size;
    let cursor = Number((await readFile(join(dir, CURSOR), 'utf8').catch(() => '0')).trim());
    if (!Number.isSafeInteger(cursor) || cursor < 0 || cursor > size) cursor = 0;
    // A line cut by a crash mid-write has no newline: drop it so later lines stay whole.
    if (size > 0) {
      const last = Buffer.alloc(1);
      await reader.read(last, 0, 1, size - 1);
      if (last[0] !== NEWLINE) {
        const tail = await lastNewline(reader, size);
        await writer.truncate(tail);
        size = tail;
        if (cursor > size) cursor = size;
      }
    }
    const pending = await countLines(reader, cursor, size);
    const journal = new Journal(dir, writer, reader, size, cursor, pending, options.compactBytes ?? 16 * 1024 * 1024);
    await journal.saveCursor();
    return journal;
  }

  /** Events queued and not yet delivered. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Calls `listener` whenever new lines become readable. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Queues one event (a JSON line without newline); resolves when it is on disk. */
  append(json: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the event journal is closed'));
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ data: `${json}\n`, resolve, reject });
      this.writing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let appends of the same tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.buffer.length > 0) {
      const batch = this.buffer;
      this.buffer = [];
      const bytes = Buffer.from(batch.map((p) => p.data).join(''));
      try {
        await this.writer.write(bytes, 0, bytes.length, null);
        this.size += bytes.length;
        this.pendingCount += batch.length;
        for (const listener of this.listeners) listener();
        await this.writer.datasync();
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.writing = undefined;
  }

  /**
   * The first undelivered events, in order: up to `maxEvents` and about `maxBytes` (always at least
   * one whole event); undefined when all are delivered.
   */
  async next(maxEvents = 1, maxBytes = 256 * 1024): Promise<JournalBatch | undefined> {
    if (this.cursor >= this.size) return undefined;
    let length = Math.min(maxBytes, this.size - this.cursor);
    for (;;) {
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await this.reader.read(chunk, 0, length, this.cursor);
      const lines: string[] = [];
      let at = 0;
      while (lines.length < maxEvents) {
        const newline = chunk.indexOf(NEWLINE, at);
        if (newline === -1 || newline >= bytesRead) break;
        lines.push(chunk.toString('utf8', at, newline));
        at = newline + 1;
      }
      if (lines.length > 0) return { lines, end: this.cursor + at };
      if (this.cursor + bytesRead >= this.size) return undefined; // cannot happen: every write ends with a newline
      length = Math.min(length * 2, this.size - this.cursor);
    }
  }

  /** Marks a batch from `next` delivered: the cursor moves to its end. */
  async ack(batch: JournalBatch): Promise<void> {
    if (batch.end <= this.cursor) return;
    this.cursor = batch.end;
    this.pendingCount = Math.max(this.pendingCount - batch.lines.length, 0);
    if (this.cursor === this.size && this.size >= this.compactBytes && this.writing === undefined) {
      await this.compact();
      return;
    }
    await this.saveCursor();
  }

  private async compact(): Promise<void> {
    // No write is under way (checked by the caller, and nothing awaits between that check and here).
    const lock = this.truncateAndReset();
    this.writing = lock;
    await lock;
    this.writing = undefined;
    if (this.buffer.length > 0) this.writing = this.flushLoop();
  }

  private async truncateAndReset(): Promise<void> {
    await this.writer.truncate(0);
    await this.writer.datasync();
    this.size = 0;
    this.cursor = 0;
    this.pendingCount = 0;
    await this.saveCursor();
  }

  private async saveCursor(): Promise<void> {
    const tmp = join(this.dir, `${CURSOR}.tmp`);
    await writeFile(tmp, String(this.cursor));
    await rename(tmp, join(this.dir, CURSOR));
  }

  /** Waits for queued appends, then closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing !== undefined) await this.writing;
    await this.saveCursor().catch(() => undefined);
    await this.writer.close();
    await this.reader.close();
  }
}

async function countLines(file: FileHandle, from: number, to: number): Promise<number> {
  let count = 0;
  const chunk = Buffer.alloc(256 * 1024);
  for (let at = from; at < to; ) {
    const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, to - at), at);
    if (bytesRead === 0) break;
    for (let i = 0; i < bytesRead; i++) if (chunk[i] === NEWLINE) count++;
    at += bytesRead;
  }
  return count;
}

/** The offset just past the last newline before `size` (0 when there is none). */
async function lastNewline(file: FileHandle, size: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await file.read(chunk, 0, end - start, start);
    const at = chunk.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return 0;
}
