/** Blob GET/HEAD (with ranges, ETags and redirects) and DELETE. */
import { parseDigest } from '../../registry/digest.js';
import { RegistryError } from '../../registry/errors.js';
import { repositoryName } from '../context.js';
import { parseRange } from '../ranges.js';
import { etagMatches } from '../conditional.js';
import { sendBody } from '../send-body.js';
import { sendEmpty, type HandlerDeps, type Handlers } from './deps.js';

export function blobHandlers({ registry, limits }: HandlerDeps): Handlers {
  return {
    getBlob: async (ctx) => {
      const digest = parseDigest(ctx.params.digest ?? '');
      const blob = await registry.blob(repositoryName(ctx), digest, ctx);
      const method = ctx.req.method === 'HEAD' ? 'HEAD' : 'GET';
      const { res } = ctx;
      if (limits.redirect) {
        const url = await blob.redirectURL(method, ctx);
        if (url !== undefined) {
          sendEmpty(ctx, 307, { Location: url, 'Docker-Content-Digest': digest.value });
          return;
        }
      }
      const etag = `"${digest.value}"`;
      res.setHeader('Docker-Content-Digest', digest.value);
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', 'max-age=31536000');
      res.setHeader('Accept-Ranges', 'bytes');
      if (etagMatches(ctx.req.headers['if-none-match'], etag)) {
        res.statusCode = 304;
        res.end();
        return;
      }
      const range = parseRange(ctx.req.headers.range, blob.size);
      if (range.kind === 'unsatisfiable') {
        throw new RegistryError('RANGE_INVALID', { size: blob.size }, {
          message: `the requested range is not satisfiable for a blob of ${blob.size} bytes`,
          headers: { 'Content-Range': `bytes */${blob.size}` },
        });
      }
      res.setHeader('Content-Type', 'application/octet-stream');
      if (range.kind === 'satisfiable') {
        res.statusCode = 206;
        res.setHeader('Content-Range', `bytes ${range.offset}-${range.offset + range.length - 1}/${blob.size}`);
        res.setHeader('Content-Length', range.length);
      } else {
        res.statusCode = 200;
        res.setHeader('Content-Length', blob.size);
      }
      if (method === 'HEAD') {
        res.end();
        return;
      }
      const stream = await blob.open(range.kind === 'satisfiable' ? { offset: range.offset, length: range.length } : undefined, ctx);
      await sendBody(stream, res, ctx.signal);
    },

    deleteBlob: async (ctx) => {
      await registry.deleteBlob(repositoryName(ctx), parseDigest(ctx.params.digest ?? ''), ctx);
      sendEmpty(ctx, 202);
    },
  };
}
