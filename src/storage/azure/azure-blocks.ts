/**
 * How the azure writer cuts a file into blocks, so that the committed block list alone says where
 * an upload stands (no state outside Azure):
 *
 * - block i is exactly `blockSize(i)` bytes, except the last, which may be shorter (the "tail");
 * - block sizes grow with the index, 8 MiB for the first 10,000 blocks and doubling every 10,000
 *   after, so Azure's 50,000-block limit is reached only at 2.4 TiB (MAX_FILE_SIZE), while an
 *   upload holds at most (1 + MAX_IN_FLIGHT) blocks in memory: 24 MiB below 78 GiB;
 * - block ids are base64 of `wharf:<index, 6 digits>:<8 random hex>`, all the same length (as
 *   Azure requires within one blob); the random part keeps a new block apart from a stale
 *   uncommitted one of an interrupted writer.
 */
import { randomBytes } from 'node:crypto';

export const MiB = 1024 * 1024;
/** Azure's limit of committed blocks per block blob. */
export const MAX_BLOCKS = 50_000;
const BASE_BLOCK = 8 * MiB;
const BAND = 10_000;
/** Blocks staged at once per writer, besides the one being filled. */
export const MAX_IN_FLIGHT = 2;

export function blockSize(index: number): number {
  return BASE_BLOCK * 2 ** Math.floor(index / BAND);
}

/** The largest file the writer stores: 50,000 blocks of the sizes above. */
export const MAX_FILE_SIZE = Array.from({ length: MAX_BLOCKS / BAND }, (_, band) => BAND * BASE_BLOCK * 2 ** band).reduce((a, b) => a + b, 0);

const ID_RE = /^wharf:(\d{6}):[0-9a-f]{8}$/;

export function blockId(index: number): string {
  return Buffer.from(`wharf:${String(index).padStart(6, '0')}:${randomBytes(4).toString('hex')}`).toString('base64');
}

export interface CommittedBlock {
  readonly name: string;
  readonly size: number;
}

/**
 * What an append writer continues from: the full blocks it keeps, and the tail (the last block,
 * when short) that it reads back and stages again with the new bytes. Undefined when the blob's
 * blocks are not laid out as above (written by another tool): the writer then reads it all back.
 */
export function resumePoint(blocks: readonly CommittedBlock[]): { keep: string[]; tail: number } | undefined {
  const keep: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const decoded = ID_RE.exec(Buffer.from(block.name, 'base64').toString('latin1'));
    if (!decoded || Number(decoded[1]) !== i) return undefined;
    const last = i === blocks.length - 1;
    if (block.size === blockSize(i)) keep.push(block.name);
    else if (!last || block.size > blockSize(i)) return undefined;
    else return { keep, tail: block.size };
  }
  return { keep, tail: 0 };
}
