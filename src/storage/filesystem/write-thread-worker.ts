/**
 * The filesystem write thread's body (see write-thread.ts): writes the chunks of each request to
 * the descriptor it names, in the order the requests arrive, with blocking writev(2) calls, and
 * answers with the bytes written or the error. It only writes; opening, syncing and closing stay
 * with the FileHandle on the main thread.
 */
import { writevSync } from 'node:fs';
import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { v8Collector } from '../../runtime/garbage-relief.js';
import type { WriteReply, WriteRequest } from './write-thread.js';

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
let sinceCollect = 0;

function collectGarbage(): void {
  sinceCollect = 0;
  if (collect === undefined) return;
  const type = v8.getHeapStatistics().external_memory > MAX_EXTERNAL_BYTES ? 'major' : 'minor';
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

function byteLength(chunks: readonly ArrayBuffer[]): number {
  return chunks.reduce((n, c) => n + c.byteLength, 0);
}

function handle(request: WriteRequest): WriteReply {
  try {
    return { id: request.id, written: writeAll(request.fd, request.chunks.map((c) => Buffer.from(c))) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const error = { message: String(e.message ?? err), ...(e.code === undefined ? {} : { code: e.code }) };
    return { id: request.id, error };
  }
}

let collectScheduled = false;

parentPort?.on('message', (request: WriteRequest) => {
  // The requests before this one are garbage now: collect here too, not only when the thread is
  // idle, since with many writers at once and slow writes it may not be idle for a long time.
  if (sinceCollect >= COLLECT_EVERY_BYTES) collectGarbage();
  sinceCollect += byteLength(request.chunks);
  parentPort?.postMessage(handle(request));
  if (sinceCollect >= COLLECT_EVERY_BYTES && !collectScheduled) {
    collectScheduled = true;
    setImmediate(() => {
      collectScheduled = false;
      if (sinceCollect >= COLLECT_EVERY_BYTES) collectGarbage(); // the last request's, when no other follows
    });
  }
});
