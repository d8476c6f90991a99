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
import { writeOptions } from './s3-config.js';
import type { S3Target } from './s3-writer.js';

function copySource(t: S3Target, key: string): string {
  return `${t.options.bucket}/${key}`;
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
    const count = Math.ceil(size / o.multipartCopyChunkSize);
    const etags = new Array<string>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        const start = i * o.multipartCopyChunkSize;
        const end = Math.min(size, start + o.multipartCopyChunkSize) - 1;
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
