/** Listing on S3: a directory is a key prefix ending in `/`; S3 has no empty directories. */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { S3Target } from './s3-writer.js';

export interface ListedPage {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/** Pages of `prefix` (which ends in `/` or is ''), keys and sub-prefixes; with a delimiter, direct children only. */
export async function* listPages(t: S3Target, prefix: string, delimited: boolean, signal?: AbortSignal): AsyncGenerator<ListedPage> {
  let token: string | undefined;
  do {
    const out: ListObjectsV2CommandOutput = await t.client.send(
      new ListObjectsV2Command({
        Bucket: t.options.bucket,
        Prefix: prefix,
        MaxKeys: 1000,
        ...(delimited ? { Delimiter: '/' } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    yield {
      files: (out.Contents ?? []).flatMap((o) => (o.Key !== undefined ? [o.Key] : [])),
      dirs: (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix !== undefined ? [p.Prefix] : [])),
    };
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

/** Whether any key lies below `prefix` (MaxKeys 2: s3rver answers MaxKeys 1 with an error when it truncates). */
export async function hasKeysUnder(t: S3Target, prefix: string, signal?: AbortSignal): Promise<boolean> {
  const out = await t.client.send(new ListObjectsV2Command({ Bucket: t.options.bucket, Prefix: prefix, MaxKeys: 2 }), signal ? { abortSignal: signal } : {});
  return (out.Contents?.length ?? 0) > 0;
}

/**
 * The direct children of `prefix` without the delimiter, for stores whose delimiter listing misses
 * sub-prefixes that hold no object directly (s3rver): each page is read, and past a child's first
 * key the listing jumps over the rest of that child's keys (StartAfter). One request per child
 * directory, so real S3 keeps the delimiter listing (`wharf.s3.delimiterlisting`).
 */
export async function* walkChildren(t: S3Target, prefix: string, signal?: AbortSignal): AsyncGenerator<ListedPage> {
  let startAfter: string | undefined;
  for (;;) {
    const out: ListObjectsV2CommandOutput = await t.client.send(
      new ListObjectsV2Command({ Bucket: t.options.bucket, Prefix: prefix, MaxKeys: 1000, ...(startAfter ? { StartAfter: startAfter } : {}) }),
      signal ? { abortSignal: signal } : {},
    );
    const files: string[] = [];
    const dirs: string[] = [];
    let jump: string | undefined;
    for (const o of out.Contents ?? []) {
      const key = o.Key;
      if (key === undefined) continue;
      const slash = key.indexOf('/', prefix.length);
      if (slash === -1) {
        files.push(key);
        startAfter = key;
        continue;
      }
      const dir = key.slice(0, slash + 1);
      dirs.push(dir);
      // Path characters sort below '~', so every key below `dir` sorts before `dir~`, and every
      // sibling after `dir` (its next character is above '/') sorts after it.
      jump = `${dir}~`;
      break;
    }
    yield { files, dirs };
    if (jump !== undefined) {
      startAfter = jump;
      continue;
    }
    if (!out.IsTruncated) return;
  }
}
