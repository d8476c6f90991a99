/** Conditional requests: `If-None-Match` against the ETag of a manifest or blob (their digest). */

/** Whether an `If-None-Match` header names this ETag (or `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || value === etag;
  });
}
