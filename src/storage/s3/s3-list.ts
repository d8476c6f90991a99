/** Listing on S3: a directory is a key prefix ending in `/`; S3 has no empty directories. */
import { ListObjectsCommand, type ListObjectsCommandOutput } from '@aws-sdk/client-s3';
import type { S3Target } from './s3-writer.js';

export interface ListedPage {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/**
 * Pages of `prefix` (which ends in `/` or is ''), keys and sub-prefixes; with a delimiter, direct
 * children only. ListObjects (v1) with markers: every S3 store has it, and s3rver's ListObjectsV2
 * continuation tokens need DES, which Node 17+ (OpenSSL 3) no longer offers.
 */
export async function* listPages(t: S3Target, prefix: string, delimited: boolean, signal?: AbortSignal): AsyncGenerator<ListedPage> {
  let marker: string | undefined;
  for (;;) {
    const out: ListObjectsCommandOutput = await t.client.send(
      new ListObjectsCommand({
        Bucket: t.options.bucket,
        Prefix: prefix,
        MaxKeys: 1000,
        ...(delimited ? { Delimiter: '/' } : {}),
        ...(marker ? { Marker: marker } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    const files = (out.Contents ?? []).flatMap((o) => (o.Key !== undefined ? [o.Key] : []));
    const dirs = (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix !== undefined ? [p.Prefix] : []));
    yield { files, dirs };
    if (!out.IsTruncated) return;
    const last = [files.at(-1), dirs.at(-1)].filter((k): k is string => k !== undefined).sort().at(-1);
    const next = out.NextMarker ?? last;
    if (next === undefined || next === marker) return;
    marker = next;
  }
}

/** Whether any key lies below `prefix`. */
export async function hasKeysUnder(t: S3Target, prefix: string, signal?: AbortSignal): Promise<boolean> {
  const out = await t.client.send(new ListObjectsCommand({ Bucket: t.options.bucket, Prefix: prefix, MaxKeys: 1 }), signal ? { abortSignal: signal } : {});
  return (out.Contents?.length ?? 0) > 0;
}

/**
 * The direct children of `prefix` without the delimiter, for stores whose delimiter listing misses
 * sub-prefixes that hold no object directly (s3rver): every key below is listed and folded into its
 * child. (Jumping past a child with StartAfter would need the store to list in byte order, which
 * s3rver does not.) Real S3 keeps the delimiter listing (`wharf.s3.delimiterlisting`).
 */
export async function* walkChildren(t: S3Target, prefix: string, signal?: AbortSignal): AsyncGenerator<ListedPage> {
  const seen = new Set<string>();
  for await (const page of listPages(t, prefix, false, signal)) {
    const files: string[] = [];
    const dirs: string[] = [];
    for (const key of page.files) {
      const slash = key.indexOf('/', prefix.length);
      if (slash === -1) {
        files.push(key);
        continue;
      }
      const dir = key.slice(0, slash + 1);
      if (!seen.has(dir)) {
        seen.add(dir);
        dirs.push(dir);
      }
    }
    yield { files, dirs };
  }
}
