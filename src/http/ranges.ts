/**
 * Byte ranges: the `Range` request header of a blob GET (RFC 9110 §14.1.2, one range) and the
 * `Content-Range` header of an upload chunk (`<start>-<end>`, inclusive; `bytes ` or `bytes=`
 * prefixes and a `/<total>` suffix are tolerated, as clients send them).
 */
import type { ByteRange } from '../registry/registry.js';

export type RangeRequest =
  | { readonly kind: 'none' }
  | { readonly kind: 'satisfiable'; readonly offset: number; readonly length: number }
  | { readonly kind: 'unsatisfiable' };

const RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * What a `Range` header asks of a blob of `size` bytes. A header that is not one byte range is
 * ignored (the whole blob is sent, as RFC 9110 allows); one that cannot be met is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'none' };
  const match = RANGE.exec(header.trim());
  if (match === null) return { kind: 'none' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'none' };
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix) || suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    const length = Math.min(suffix, size);
    return { kind: 'satisfiable', offset: size - length, length };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' };
  if (last === '') return { kind: 'satisfiable', offset: start, length: size - start };
  const end = Number(last);
  if (!Number.isSafeInteger(end) || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'satisfiable', offset: start, length: Math.min(end, size - 1) - start + 1 };
}

const CONTENT_RANGE = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/;

/** An upload chunk's `Content-Range`; undefined when absent, 'invalid' when unparseable or reversed. */
export function parseContentRange(header: string | undefined): ByteRange | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const match = CONTENT_RANGE.exec(header.trim());
  if (match === null) return 'invalid';
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) return 'invalid';
  return { start, end };
}
