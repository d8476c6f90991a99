/**
 * The libc calls Wharf makes that Node has no binding for, through the koffi FFI package (whose
 * npm package ships its binary, so `npm ci` needs no compiler):
 * - sync_file_range(2) and posix_fadvise(2), for an upload's page cache (storage/filesystem/page-cache.ts);
 * - madvise(2), for huge pages under O_DIRECT buffers (aligned-memory.ts);
 * - the address of a buffer's memory, to align those buffers to a huge page.
 *
 * All of them are advice: where koffi or libc cannot be loaded (another OS, a platform koffi ships
 * no binary for), `libc()` is undefined and callers go on without. Bound on first use, so a
 * process that never needs them never loads the FFI. Each thread binds its own.
 */
import { createRequire } from 'node:module';

export interface Libc {
  syncFileRange(fd: number, offset: number, length: number, flags: number): number;
  fadvise(fd: number, offset: number, length: number, advice: number): number;
  /** posix_fadvise on libuv's thread pool; `done` is called once, whatever the outcome. */
  fadviseAsync(fd: number, offset: number, length: number, advice: number, done: () => void): void;
  /** madvise on the pages of `memory`, whose first byte must start a page. */
  madvise(memory: Buffer, advice: number): number;
  /** The address of `memory`'s first byte. */
  address(memory: Buffer): bigint;
}

export const SYNC_FILE_RANGE_WRITE = 2;
export const POSIX_FADV_DONTNEED = 4;
export const MADV_HUGEPAGE = 14;

function bind(): Libc | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const syncFileRange = lib.func('int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags)');
    const fadvise = lib.func('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)');
    const madvise = lib.func('int madvise(void *addr, size_t length, int advice)');
    return {
      syncFileRange: (fd, offset, length, flags) => syncFileRange(fd, offset, length, flags) as number,
      fadvise: (fd, offset, length, advice) => fadvise(fd, offset, length, advice) as number,
      fadviseAsync: (fd, offset, length, advice, done) => {
        try {
          fadvise.async(fd, offset, length, advice, () => done());
        } catch {
          done();
        }
      },
      madvise: (memory, advice) => madvise(memory, memory.length, advice) as number,
      address: (memory) => koffi.address(memory),
    };
  } catch {
    return undefined;
  }
}

let bound: Libc | undefined | null = null;

/** The calls, or undefined where they cannot be made here. */
export function libc(): Libc | undefined {
  if (bound === null) bound = bind();
  return bound;
}
