/**
 * What the filesystem driver tells the kernel about an upload's pages in the page cache, through
 * libc's sync_file_range(2) and posix_fadvise(2), which Node has no binding for (called with the
 * koffi FFI, whose package ships its binary):
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
import { createRequire } from 'node:module';

/** The two libc calls, as koffi binds them. */
interface Calls {
  syncFileRange(fd: number, offset: number, length: number, flags: number): number;
  fadvise(fd: number, offset: number, length: number, advice: number): number;
  /** fadvise on libuv's thread pool. */
  fadviseAsync(fd: number, offset: number, length: number, advice: number, done: (err: unknown) => void): void;
}

const SYNC_FILE_RANGE_WRITE = 2;
const POSIX_FADV_DONTNEED = 4;

function bind(): Calls | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const syncFileRange = libc.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)');
    const fadvise = libc.func('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)');
    return {
      syncFileRange: (fd, offset, length, flags) => syncFileRange(fd, offset, length, flags) as number,
      fadvise: (fd, offset, length, advice) => fadvise(fd, offset, length, advice) as number,
      fadviseAsync: (fd, offset, length, advice, done) => {
        fadvise.async(fd, offset, length, advice, (err: unknown) => done(err));
      },
    };
  } catch {
    return undefined;
  }
}

let calls: Calls | undefined | null = null;

/** Bound on first use, so a process that never uploads to a filesystem never loads the FFI. */
function libc(): Calls | undefined {
  if (calls === null) calls = bind();
  return calls;
}

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
  return new Promise((resolve) => {
    try {
      c.fadviseAsync(fd, 0, 0, POSIX_FADV_DONTNEED, () => resolve());
    } catch {
      resolve();
    }
  });
}
