/**
 * The stored state of a file being written in parts (an upload's `data` between requests), so that
 * any instance can take the next chunk with no shared memory and no ListParts/ListMultipartUploads.
 *
 * While parts exist, the object at the file's own key is a small "pending" object:
 *   body     = the tail (bytes after the last full part, fewer than one part) + JSON array of the
 *              ETags of segment 0's parts, then of the open segment's parts (s3-segments.ts)
 *   metadata = wharf-upload-id (segment 0's multipart upload, on the file's key), wharf-part-size,
 *              wharf-parts (full parts sent, over all segments), wharf-tail (tail length),
 *              wharf-segment-parts (parts per segment), wharf-segment-id (names the hidden
 *              segment keys), wharf-segment-upload-id (the open segment's upload, when one is open),
 *              wharf-sealed (a commit of several segments has begun: no tail in the body)
 * Its logical size is parts × part size + tail. CompleteMultipartUpload on the same key replaces it
 * with the whole file, so a committed file is a plain object, laid out as distribution lays it out.
 * A file with no full part yet is a plain object holding its bytes.
 */
export interface PendingState {
  readonly uploadId: string;
  readonly partSize: number;
  readonly parts: number;
  readonly tail: number;
  /** Parts per segment; absent in a state written before segments (then planned from partSize). */
  readonly segmentParts: number | undefined;
  readonly segmentId: string | undefined;
  readonly segmentUploadId: string | undefined;
  /**
   * The commit of a file of several segments has begun: every segment is a complete object (the
   * last one holds the tail, so the body holds no tail bytes); only joining them remains.
   */
  readonly sealed: boolean;
}

const META = {
  uploadId: 'wharf-upload-id',
  partSize: 'wharf-part-size',
  parts: 'wharf-parts',
  tail: 'wharf-tail',
  segmentParts: 'wharf-segment-parts',
  segmentId: 'wharf-segment-id',
  segmentUploadId: 'wharf-segment-upload-id',
  sealed: 'wharf-sealed',
} as const;

export function pendingMetadata(state: PendingState): Record<string, string> {
  return {
    [META.uploadId]: state.uploadId,
    [META.partSize]: String(state.partSize),
    [META.parts]: String(state.parts),
    [META.tail]: String(state.tail),
    ...(state.segmentParts !== undefined ? { [META.segmentParts]: String(state.segmentParts) } : {}),
    ...(state.segmentId !== undefined ? { [META.segmentId]: state.segmentId } : {}),
    ...(state.segmentUploadId !== undefined ? { [META.segmentUploadId]: state.segmentUploadId } : {}),
    ...(state.sealed ? { [META.sealed]: 'true' } : {}),
  };
}

function count(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** The pending state an object's metadata describes, or undefined for a plain object. */
export function pendingState(metadata: Record<string, string> | undefined): PendingState | undefined {
  const uploadId = metadata?.[META.uploadId];
  if (!metadata || !uploadId) return undefined;
  const partSize = count(metadata[META.partSize]);
  const parts = count(metadata[META.parts]);
  const tail = count(metadata[META.tail]);
  if (partSize === undefined || parts === undefined || tail === undefined) return undefined;
  const segmentParts = count(metadata[META.segmentParts]);
  const segmentId = metadata[META.segmentId];
  const segmentUploadId = metadata[META.segmentUploadId];
  return {
    uploadId,
    partSize,
    parts,
    tail,
    segmentParts: segmentParts !== undefined && segmentParts > 0 ? segmentParts : undefined,
    segmentId: segmentId !== undefined && /^[0-9a-f]+$/.test(segmentId) ? segmentId : undefined,
    segmentUploadId: segmentUploadId || undefined,
    sealed: metadata[META.sealed] === 'true',
  };
}

/** The logical size of a file: a plain object's length, or what a pending object stands for. */
export function logicalSize(contentLength: number, state: PendingState | undefined): number {
  return state === undefined ? contentLength : state.parts * state.partSize + state.tail;
}

export function encodeEtags(etags: readonly string[]): Buffer {
  return Buffer.from(JSON.stringify(etags));
}

export function decodeEtags(bytes: Buffer, expected: number): string[] {
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  if (!Array.isArray(parsed) || parsed.length !== expected || !parsed.every((e) => typeof e === 'string')) {
    throw new Error(`the pending upload lists ${Array.isArray(parsed) ? parsed.length : 'no'} part ETags where ${expected} were expected`);
  }
  return parsed as string[];
}
