/**
 * The filesystem write thread's body (see write-thread.ts): appends the chunks of each request to
 * the descriptor it names with blocking writev(2) calls, or takes them into the staging of a file
 * written with O_DIRECT (direct-staging.ts), and answers with the bytes taken or the error. After
 * an append, it passes on the writer's advice about the file's page cache (page-cache.ts). One
 * file's requests are handled in the order they came. It only writes; opening, syncing and
 * closing stay with the FileHandles on the main thread.
 */
import { writevSync } from 'node:fs';
import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { AlignedSlots } from '../../runtime/aligned-memory.js';
import { v8Collector } from '../../runtime/garbage-relief.js';
import { DirectStaging, type DirectFile } from './direct-staging.js';
import { dropBelow, startWriteback } from './page-cache.js';
import { DIRECT_STAGING_BYTES, type WriteReply, type WriteRequest } from './write-thread.js';

/**
 * The chunks that moved here are this thread's garbage once written, and their memory is freed
 * only when this thread's V8 collects them, which it would put off for tens of MiB. So every
 * COLLECT_EVERY_BYTES this thread collects, between two requests, synchronously: a scavenge of
 * its tiny heap (well under a millisecond), or a full collection when memory that outlived
 * scavenges has piled up past MAX_EXTERNAL_BYTES. Sending the memory back to the main thread
 * instead cost it 0.4-0.6 s more CPU per 512 MiB upload and 13 MiB more peak RSS.
 */
const COLLECT_EVERY_BYTES = 1024 * 1024;
const MAX_EXTERNAL_BYTES = 6 * 1024 * 1024;
const collect = v8Collector();
const slots = new AlignedSlots(DIRECT_STAGING_BYTES);
let sinceCollect = 0;

function collectGarbage(): void {
  sinceCollect = 0;
  if (collect === undefined) return;
  const garbage = v8.getHeapStatistics().external_memory - slots.mappedBytes;
  const type = garbage > MAX_EXTERNAL_BYTES ? 'major' : 'minor';
  collect({ type, execution: 'sync' });
}

/** Writes every byte, going on after a short write; returns the bytes written. */
function writeAll(fd: number, buffers: Buffer[]): number {
  let pending = buffers;
  let total = 0;
  while (pending.length > 0) {
    const written = writevSync(fd, pending);
    if (written <= 0) throw Object.assign(new Error('short write: the file took no bytes'), { code: 'EIO' });
    total += written;
    let skip = written;
    while (skip > 0 && pending.length > 0) {
      const first = pending[0]!;
      if (first.length <= skip) {
        skip -= first.length;
        pending = pending.slice(1);
      } else {
        pending = [first.subarray(skip), ...pending.slice(1)];
        skip = 0;
      }
    }
  }
  return total;
}

const directs = new Map<number, DirectStaging>();

/** The staging of the direct `file`, made on its first request. */
function staging(file: DirectFile): DirectStaging {
  let known = directs.get(file.id);
  if (!known) {
    known = new DirectStaging(file, slots);
    directs.set(file.id, known);
  }
  return known;
}

async function closeDirect(id: number): Promise<number> {
  const known = directs.get(id);
  directs.delete(id);
  await known?.close();
  return 0;
}

function byteLength(chunks: readonly ArrayBuffer[]): number {
  return chunks.reduce((n, c) => n + c.byteLength, 0);
}

function failure(id: number, err: unknown): WriteReply {
  const e = err as NodeJS.ErrnoException;
  return { id, error: { message: String(e.message ?? err), ...(e.code === undefined ? {} : { code: e.code }) } };
}

/** An append is written before the reply, synchronously, as it comes, and the advice given after. */
function append(request: Extract<WriteRequest, { op: 'append' }>): WriteReply {
  try {
    const written = writeAll(request.fd, request.chunks.map((c) => Buffer.from(c)));
    const hint = request.pageCache;
    if (hint) {
      startWriteback(request.fd, hint.writebackFrom, hint.writebackTo - hint.writebackFrom);
      dropBelow(request.fd, hint.dropBelow);
    }
    return { id: request.id, written };
  } catch (err) {
    return failure(request.id, err);
  }
}

type DirectRequest = Exclude<WriteRequest, { op: 'append' }>;

async function direct(request: DirectRequest): Promise<WriteReply> {
  try {
    switch (request.op) {
      case 'direct':
        return { id: request.id, written: await staging(request.file).take(request.chunks) };
      case 'flush':
        await staging(request.file).flush();
        return { id: request.id, written: 0 };
      case 'close':
        return { id: request.id, written: await closeDirect(request.file) };
    }
  } catch (err) {
    return failure(request.id, err);
  }
}

/**
 * Each direct file's requests in the order they came, one at a time. Different files' go on side
 * by side, so a file that waits for a disk write to free a slot holds up only its own stream.
 */
const inOrder = new Map<number, Promise<void>>();

function directInOrder(request: DirectRequest): void {
  const file = request.op === 'close' ? request.file : request.file.id;
  const turn = (inOrder.get(file) ?? Promise.resolve()).then(() => direct(request)).then((reply) => parentPort?.postMessage(reply));
  inOrder.set(file, turn);
  void turn.finally(() => {
    if (inOrder.get(file) === turn) inOrder.delete(file);
  });
}

let collectScheduled = false;

parentPort?.on('message', (request: WriteRequest) => {
  // The requests before this one are garbage now: collect here too, not only when the thread is
  // idle, since with many writers at once and slow writes it may not be idle for a long time.
  if (sinceCollect >= COLLECT_EVERY_BYTES) collectGarbage();
  sinceCollect += request.op === 'append' || request.op === 'direct' ? byteLength(request.chunks) : 0;
  if (request.op === 'append') parentPort?.postMessage(append(request));
  else directInOrder(request);
  if (sinceCollect >= COLLECT_EVERY_BYTES && !collectScheduled) {
    collectScheduled = true;
    setImmediate(() => {
      collectScheduled = false;
      if (sinceCollect >= COLLECT_EVERY_BYTES) collectGarbage(); // the last request's, when no other follows
    });
  }
});
