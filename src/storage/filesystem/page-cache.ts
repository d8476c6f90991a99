/**
 * What the filesystem driver tells the kernel about an upload's pages in the page cache, through
 * libc's sync_file_range(2) and posix_fadvise(2), which Node has no binding for (runtime/libc.ts):
 * - `startWriteback`: the disk starts writing a range now, not when the flusher gets to it;
 * - `dropBelow`, `dropAll`: a range's clean pages leave the page cache. Pages still dirty or being
 *   written stay.
 *
 * Why: on a VM whose freed memory goes back to the host (free page reporting, as on this
 * project's machine), every page the page cache takes anew must be faulted in by the host first,
 * and a write of 640 MiB into pages never used before cost the kernel 4.2-4.7 s of CPU against
 * 0.2-0.35 s into pages it had used recently. An upload that drops what is written back keeps its
 * footprint to a few MiB, whose pages the next writes take again straight away. 20 parallel
 * 32 MiB pushes went from 100-379 MiB/s to a steady 349-419 (docs/benchmarks.md, "Fourteenth
 * pass"). Durability is unchanged: commit still fdatasyncs; this only says when the pages go.
 *
 * Advice only: failures are ignored, and where the FFI or libc cannot be loaded (another OS, a
 * platform koffi ships no binary for) every call does nothing, and the pages stay cached as the
 * kernel pleases.
 */
import { libc, POSIX_FADV_DONTNEED, SYNC_FILE_RANGE_WRITE } from '../../runtime/libc.js';

/** Whether the advice reaches the kernel here (tests; the docs say what happens without it). */
export function pageCacheAdviceWorks(): boolean {
  return libc() !== undefined;
}

/** Starts writing `[offset, offset + length)` of `fd` to the disk, without waiting for it. */
export function startWriteback(fd: number, offset: number, length: number): void {
  if (length > 0) libc()?.syncFileRange(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

/** Drops the clean pages of `fd` below `end` from the page cache, on the calling thread. */
export function dropBelow(fd: number, end: number): void {
  if (end > 0) libc()?.fadvise(fd, 0, end, POSIX_FADV_DONTNEED);
}

/**
 * Drops every clean page of `fd` from the page cache, off the calling thread (after an fdatasync
 * that is all of them). `fd` must stay open until it resolves. Never rejects.
 */
export function dropAll(fd: number): Promise<void> {
  const c = libc();
  if (!c) return Promise.resolve();
  return new Promise((resolve) => c.fadviseAsync(fd, 0, 0, POSIX_FADV_DONTNEED, resolve));
}
