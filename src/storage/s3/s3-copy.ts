/**
 * Server-side copy for `move`: CopyObject up to `multipartcopythresholdsize`, above it a multipart
 * copy of `multipartcopychunksize` ranges with `multipartcopymaxconcurrency` at once (as distribution
 * does: faster for large blobs, and needed past CopyObject's 5 GiB limit).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { MAX_PARTS, writeOptions } from './s3-config.js';
import type { S3Target } from './s3-writer.js';

function copySource(t: S3Target, key: string): string {
  return `${t.options.bucket}/${key}`;
}

/**
 * The range size of a multipart copy of `size` bytes: `multipartcopychunksize`, raised (to whole
 * MiB) where it would take more than S3's 10,000 parts (above 312 GiB at the default 32 MiB).
 */
export function copyPartSize(size: number, chunkSize: number): number {
  const MiB = 1024 * 1024;
  return Math.ceil(size / chunkSize) <= MAX_PARTS ? chunkSize : Math.ceil(size / MAX_PARTS / MiB) * MiB;
}

export async function copyObject(t: S3Target, from: string, to: string, size: number, signal?: AbortSignal): Promise<void> {
  const o = t.options;
  const send = signal ? { abortSignal: signal } : {};
  if (size <= o.multipartCopyThresholdSize) {
    await t.client.send(new CopyObjectCommand({ Bucket: o.bucket, Key: to, CopySource: copySource(t, from), ...writeOptions(o) }), send);
    return;
  }
  const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: to, ...writeOptions(o) }), send);
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`no upload id for a multipart copy to ${to}`);
  try {
    const chunk = copyPartSize(size, o.multipartCopyChunkSize);
    const count = Math.ceil(size / chunk);
    const etags = new Array<string>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        const start = i * chunk;
        const end = Math.min(size, start + chunk) - 1;
        const out = await t.client.send(
          new UploadPartCopyCommand({
            Bucket: o.bucket,
            Key: to,
            UploadId: uploadId,
            PartNumber: i + 1,
            CopySource: copySource(t, from),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
          send,
        );
        const etag = out.CopyPartResult?.ETag;
        if (!etag) throw new Error(`part ${i + 1} of a multipart copy has no ETag`);
        etags[i] = etag;
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.multipartCopyMaxConcurrency, count) }, worker));
    await t.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: o.bucket,
        Key: to,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      send,
    );
  } catch (err) {
    await t.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: to, UploadId: uploadId })).catch(() => {});
    throw err;
  }
}
