/**
 * Blob uploads: POST (start, single-request push, mount), GET status, PATCH (streamed or chunked),
 * PUT (complete), DELETE (cancel).
 */
import { parseDigest } from '../../registry/digest.js';
import { RegistryError } from '../../registry/errors.js';
import { isValidName } from '../../registry/reference.js';
import { isUploadId } from '../../registry/uploads/upload-store.js';
import type { BlobInfo, UploadBody, UploadStatus } from '../../registry/registry.js';
import { contentLength, hasBody, repositoryName, type HttpContext } from '../context.js';
import { parseContentRange } from '../ranges.js';
import { sendEmpty, type HandlerDeps, type Handlers } from './deps.js';

function uploadId(ctx: HttpContext): string {
  const id = ctx.params.uuid ?? '';
  if (!isUploadId(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid: id.slice(0, 100) });
  return id;
}

function uploadBody(ctx: HttpContext): UploadBody {
  const range = parseContentRange(ctx.req.headers['content-range']);
  if (range === 'invalid') {
    throw new RegistryError('RANGE_INVALID', { contentRange: String(ctx.req.headers['content-range']).slice(0, 100) }, {
      message: 'Content-Range must be <start>-<end> with start <= end',
    });
  }
  return { stream: ctx.req, range, contentLength: contentLength(ctx), chunksHandedOver: true };
}

/** `Range: 0-<last byte>` as distribution writes it (`0-0` for an empty upload). */
function rangeHeader(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

/** A required digest query parameter. */
function digestParam(ctx: HttpContext, key: string) {
  const raw = ctx.query.get(key);
  if (raw === null || raw === '') {
    throw new RegistryError('DIGEST_INVALID', { parameter: key }, { message: `the \`${key}\` query parameter is required` });
  }
  return parseDigest(raw);
}

export function uploadHandlers({ registry, urls, limits }: HandlerDeps): Handlers {
  const chunkHint: Record<string, number> = limits.chunkMinLength ? { 'OCI-Chunk-Min-Length': limits.chunkMinLength } : {};
  const uploadLocation = (ctx: HttpContext, status: UploadStatus): string =>
    urls.api(ctx.req, `/${status.name}/blobs/uploads/${status.id}`);

  const sendProgress = (ctx: HttpContext, code: number, status: UploadStatus): void =>
    sendEmpty(ctx, code, { Location: uploadLocation(ctx, status), Range: rangeHeader(status.size), 'Docker-Upload-UUID': status.id, ...chunkHint });

  const sendCreated = (ctx: HttpContext, name: string, blob: BlobInfo): void =>
    sendEmpty(ctx, 201, { Location: urls.api(ctx.req, `/${name}/blobs/${blob.digest.value}`), 'Docker-Content-Digest': blob.digest.value });

  return {
    startUpload: async (ctx) => {
      const name = repositoryName(ctx);
      if (ctx.query.has('mount')) {
        const digest = digestParam(ctx, 'mount');
        const from = ctx.query.get('from') ?? undefined;
        // Without `from`, under auth, only a repository the caller may pull can give the blob.
        const caller = ctx.caller;
        const source = from ?? (caller === undefined ? undefined : (repository: string) => caller.may(repository, 'pull'));
        const mounted = from === undefined || isValidName(from) ? await registry.mountBlob(name, digest, source, ctx) : undefined;
        if (mounted !== undefined) {
          sendCreated(ctx, name, mounted);
          return;
        }
      } else if (ctx.query.has('digest')) {
        const digest = digestParam(ctx, 'digest');
        const upload = await registry.startUpload(name, ctx);
        sendCreated(ctx, name, await registry.completeUpload(name, upload.id, digest, uploadBody(ctx), ctx));
        return;
      }
      sendProgress(ctx, 202, await registry.startUpload(name, ctx));
    },

    uploadStatus: async (ctx) => {
      sendProgress(ctx, 204, await registry.uploadStatus(repositoryName(ctx), uploadId(ctx), ctx));
    },

    appendUpload: async (ctx) => {
      const name = repositoryName(ctx);
      sendProgress(ctx, 202, await registry.appendUpload(name, uploadId(ctx), uploadBody(ctx), ctx));
    },

    completeUpload: async (ctx) => {
      const name = repositoryName(ctx);
      const id = uploadId(ctx);
      const digest = digestParam(ctx, 'digest');
      const body = hasBody(ctx) || ctx.req.headers['content-range'] !== undefined ? uploadBody(ctx) : undefined;
      sendCreated(ctx, name, await registry.completeUpload(name, id, digest, body, ctx));
    },

    cancelUpload: async (ctx) => {
      const id = uploadId(ctx);
      await registry.cancelUpload(repositoryName(ctx), id, ctx);
      sendEmpty(ctx, 204, { 'Docker-Upload-UUID': id });
    },
  };
}
