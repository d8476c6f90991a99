/**
 * Files larger than one segment: how a large upload stays under S3's limits with equal parts and a
 * few parts in memory.
 *
 * The writer sends parts of `chunksize` bytes. A segment is `segmentParts` = floor(5 GiB /
 * chunksize) parts (5 GiB at the default 10 MiB: 512 parts). Segment 0 is the multipart upload on
 * the file's own key, as for any file: a file that ends within it (or one tail past it) is completed
 * there, exactly as before segments. Segments 1, 2, … are multipart uploads on hidden keys beside
 * the file, `<key>~<segment id>-<n>`, each completed to an object as soon as it holds its parts. On
 * commit, a file of n > 1 segments becomes one more multipart upload on its key whose part i is an
 * UploadPartCopy of segment i (all segments equal, the last shorter: equal parts), and the segment
 * objects are deleted. 5 TiB at 10 MiB parts: 1024 segments of 5 GiB, a final upload of 1024 parts.
 *
 * `~` never occurs in a driver path, so no file can be named like a segment: list() leaves hidden
 * keys out, and deleting the file's directory (an upload's purge) deletes them with it.
 */
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, writeOptions, type S3DriverOptions } from './s3-config.js';
import { listPages } from './s3-list.js';
import type { PendingState } from './s3-pending.js';
import type { S3Target } from './s3-writer.js';

export interface SegmentPlan {
  readonly partSize: number;
  /** Parts per segment (segment 0 may take one more: the tail of a file that ends there). */
  readonly segmentParts: number;
  readonly segmentSize: number;
  /** The largest file: S3's largest object, or MAX_PARTS segments when segments are small. */
  readonly maxFileSize: number;
}

export function segmentPlan(partSize: number, options: Pick<S3DriverOptions, 'segmentBytes' | 'maxObjectSize'> = {}, segmentParts?: number): SegmentPlan {
  const parts = segmentParts ?? Math.max(1, Math.min(MAX_PARTS - 1, Math.floor((options.segmentBytes ?? MAX_PART_SIZE) / partSize)));
  const segmentSize = parts * partSize;
  return { partSize, segmentParts: parts, segmentSize, maxFileSize: Math.min(options.maxObjectSize ?? MAX_OBJECT_SIZE, MAX_PARTS * segmentSize) };
}

/** How a file of `size` bytes is stored: the multipart uploads and their part counts, and the final parts. */
export interface UploadLayout {
  /** Parts of each multipart upload the writer makes (segment 0 first). */
  readonly uploadParts: readonly number[];
  /** Bytes of each part of the final multipart upload: empty when segment 0 is completed as the file. */
  readonly finalParts: readonly number[];
}

export function uploadLayout(size: number, plan: SegmentPlan): UploadLayout {
  const full = Math.floor(size / plan.partSize);
  const tail = size - full * plan.partSize;
  if (full <= plan.segmentParts) return { uploadParts: full === 0 ? [] : [full + (tail > 0 ? 1 : 0)], finalParts: [] };
  const segments = Math.ceil(size / plan.segmentSize);
  const uploadParts: number[] = [];
  for (let s = 0; s < segments; s++) {
    const bytes = Math.min(plan.segmentSize, size - s * plan.segmentSize);
    const parts = Math.ceil(bytes / plan.partSize);
    // A last segment of only a tail is one PutObject, not a multipart upload.
    if (s === 0 || bytes >= plan.partSize) uploadParts.push(parts);
  }
  return { uploadParts, finalParts: segmentSizes(size, segments, plan) };
}

/** Bytes of each of `segments` segments of a file of `size` bytes. */
export function segmentSizes(size: number, segments: number, plan: SegmentPlan): number[] {
  return Array.from({ length: segments }, (_, s) => Math.min(plan.segmentSize, size - s * plan.segmentSize));
}

export function newSegmentId(): string {
  return randomBytes(4).toString('hex');
}

/** The hidden key of segment `n` ≥ 1 of the file at `key`. */
export function segmentKey(key: string, segmentId: string, n: number): string {
  return `${key}~${segmentId}-${n}`;
}

/** Whether a listed name is a hidden segment key (driver paths never hold `~`). */
export function isHiddenName(name: string): boolean {
  return name.includes('~');
}

/**
 * Removes what a pending state holds besides the object at the key: segment 0's multipart upload,
 * the open segment's upload (both best effort) and the completed segment objects.
 */
export async function releasePending(t: S3Target, key: string, state: PendingState, signal?: AbortSignal): Promise<void> {
  const abort = (k: string, id: string): Promise<unknown> =>
    t.client.send(new AbortMultipartUploadCommand({ Bucket: t.options.bucket, Key: k, UploadId: id })).catch(() => {});
  await abort(key, state.uploadId);
  const plan = segmentPlan(state.partSize, t.options, state.segmentParts);
  if (state.segmentId === undefined || state.parts <= plan.segmentParts) return;
  if (state.segmentUploadId !== undefined) {
    await abort(segmentKey(key, state.segmentId, Math.floor(state.parts / plan.segmentParts)), state.segmentUploadId);
  }
  await deleteSegments(t, key, state.segmentId, signal);
}

/** Deletes every segment object of one writing (`segmentId`) of the file at `key`. */
export async function deleteSegments(t: S3Target, key: string, segmentId: string, signal?: AbortSignal): Promise<void> {
  for await (const page of listPages(t, `${key}~${segmentId}-`, false, signal)) {
    if (page.files.length === 0) continue;
    const out = await t.client.send(
      new DeleteObjectsCommand({ Bucket: t.options.bucket, Delete: { Objects: page.files.map((Key) => ({ Key })), Quiet: true } }),
      signal ? { abortSignal: signal } : {},
    );
    const failed = out.Errors?.[0];
    if (failed) throw new Error(`delete ${failed.Key ?? ''}: ${failed.Code ?? ''} ${failed.Message ?? ''}`);
  }
}

/**
 * The commit of a file of several segments: segment 0 is the multipart upload `headUploadId` on the
 * key (its parts listed in `headParts`), segments 1..n-1 are complete objects. Makes the file one
 * multipart upload on the key of n parts copied from the segments, then deletes the segments.
 *
 * Segments 1..n-1 are copied before segment 0 is completed, so a store without UploadPartCopy fails
 * the commit with the pending state still intact; from completing segment 0 to completing the file,
 * the key holds segment 0 alone (a crash there leaves an upload the client starts again).
 */
export async function assembleSegments(
  t: S3Target,
  key: string,
  head: { readonly uploadId: string; readonly etags: readonly string[] },
  segmentId: string,
  sizes: readonly number[],
): Promise<void> {
  const o = t.options;
  const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: key, ...writeOptions(o) }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`no upload id for ${key}`);
  const etags = new Array<string>(sizes.length).fill('');
  const copy = async (n: number, source: string): Promise<void> => {
    const out = await t.client.send(
      new UploadPartCopyCommand({
        Bucket: o.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: n + 1,
        CopySource: `${o.bucket}/${source}`,
        CopySourceRange: `bytes=0-${sizes[n]! - 1}`,
      }),
    );
    const etag = out.CopyPartResult?.ETag;
    if (!etag) throw new Error(`part ${n + 1} of ${key} has no ETag`);
    etags[n] = etag;
  };
  try {
    let next = 1;
    const worker = async (): Promise<void> => {
      for (let n = next++; n < sizes.length; n = next++) await copy(n, segmentKey(key, segmentId, n));
    };
    await Promise.all(Array.from({ length: Math.min(o.multipartCopyMaxConcurrency, sizes.length - 1) }, worker));
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: o.bucket,
        Key: key,
        UploadId: head.uploadId,
        MultipartUpload: { Parts: head.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    await copy(0, key);
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: o.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
  } catch (err) {
    await t.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: key, UploadId: uploadId })).catch(() => {});
    throw err;
  }
  await deleteSegments(t, key, segmentId);
}
