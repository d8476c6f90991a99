/**
 * The multipart copy of `move` above multipartcopythresholdsize. s3rver has no UploadPartCopy, so
 * this part is tested against a recording stand-in for the S3 client: which calls, which ranges,
 * how many at once, and the abort on failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { copyObject } from '../../src/storage/s3/s3-copy.js';
import { s3Options } from '../../src/storage/s3/s3-config.js';
import type { S3Target } from '../../src/storage/s3/s3-writer.js';

const MiB = 1024 * 1024;

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

function recorder(failPart?: number): { target: S3Target; calls: Call[]; maxInFlight: () => number } {
  const calls: Call[] = [];
  let inFlight = 0;
  let max = 0;
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ command: command.constructor.name, input: command.input });
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      switch (command.constructor.name) {
        case 'CreateMultipartUploadCommand':
          return { UploadId: 'up-1' };
        case 'UploadPartCopyCommand':
          if (command.input['PartNumber'] === failPart) throw new Error('part copy failed');
          return { CopyPartResult: { ETag: `"etag-${String(command.input['PartNumber'])}"` } };
        default:
          return {};
      }
    },
  };
  const options = s3Options({ bucket: 'b', region: 'r', multipartcopychunksize: 5 * MiB, multipartcopymaxconcurrency: 3, multipartcopythresholdsize: 8 * MiB });
  return { target: { client: client as unknown as S3Client, options, name: 's3' }, calls, maxInFlight: () => max };
}

describe('S3 move: CopyObject or multipart copy', () => {
  it('copies at or below the threshold with one CopyObject', async () => {
    const { target, calls } = recorder();
    await copyObject(target, 'root/a', 'root/b', 8 * MiB);
    assert.deepEqual(calls.map((c) => c.command), ['CopyObjectCommand']);
    assert.equal(calls[0]!.input['CopySource'], 'b/root/a');
  });

  it('copies above it in ranges of multipartcopychunksize, at most multipartcopymaxconcurrency at once', async () => {
    const { target, calls, maxInFlight } = recorder();
    const size = 23 * MiB + 7;
    await copyObject(target, 'root/a', 'root/b', size);
    const parts = calls.filter((c) => c.command === 'UploadPartCopyCommand');
    assert.deepEqual(
      parts.map((c) => c.input['CopySourceRange']).sort(),
      [0, 1, 2, 3, 4].map((i) => `bytes=${i * 5 * MiB}-${Math.min(size, (i + 1) * 5 * MiB) - 1}`).sort(),
    );
    assert.ok(maxInFlight() <= 3, `at most 3 part copies at once, saw ${maxInFlight()}`);
    const complete = calls.at(-1)!;
    assert.equal(complete.command, 'CompleteMultipartUploadCommand');
    assert.deepEqual(complete.input['MultipartUpload'], { Parts: [1, 2, 3, 4, 5].map((n) => ({ ETag: `"etag-${n}"`, PartNumber: n })) });
  });

  it('aborts the multipart upload when a part fails', async () => {
    const { target, calls } = recorder(3);
    await assert.rejects(copyObject(target, 'root/a', 'root/b', 23 * MiB), /part copy failed/);
    assert.equal(calls.at(-1)!.command, 'AbortMultipartUploadCommand');
    assert.ok(!calls.some((c) => c.command === 'CompleteMultipartUploadCommand'));
  });
});
