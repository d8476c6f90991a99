/** Manifest GET/HEAD, PUT and DELETE. */
import { RegistryError } from '../../registry/errors.js';
import { isValidTag, parseReference, validateTag } from '../../registry/reference.js';
import { readSmallBody } from '../body.js';
import { repositoryName, type HttpContext } from '../context.js';
import { etagMatches } from '../conditional.js';
import { sendEmpty, type HandlerDeps, type Handlers } from './deps.js';

function reference(ctx: HttpContext) {
  return parseReference(ctx.params.reference ?? '');
}

export function manifestHandlers({ registry, urls, limits }: HandlerDeps): Handlers {
  return {
    getManifest: async (ctx) => {
      const name = repositoryName(ctx);
      // A reference that can be no tag names no manifest: 404, as the conformance suite expects.
      const raw = ctx.params.reference ?? '';
      if (!raw.includes(':') && !isValidTag(raw)) throw new RegistryError('MANIFEST_UNKNOWN', { name, reference: raw.slice(0, 200) });
      const manifest = await registry.getManifest(name, reference(ctx), ctx);
      const etag = `"${manifest.digest.value}"`;
      const { res } = ctx;
      res.setHeader('Docker-Content-Digest', manifest.digest.value);
      res.setHeader('ETag', etag);
      if (etagMatches(ctx.req.headers['if-none-match'], etag)) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.statusCode = 200;
      res.setHeader('Content-Type', manifest.mediaType);
      res.setHeader('Content-Length', manifest.bytes.length);
      res.end(ctx.req.method === 'HEAD' ? undefined : manifest.bytes);
    },

    putManifest: async (ctx) => {
      const name = repositoryName(ctx);
      const ref = reference(ctx);
      const queryTags = ctx.query.getAll('tag').map(validateTag);
      const bytes = await readSmallBody(ctx, limits.manifestMaxSize);
      const result = await registry.putManifest({ name, reference: ref, bytes, contentType: ctx.req.headers['content-type'], tags: queryTags }, ctx);
      const headers: Record<string, string> = {
        Location: urls.api(ctx.req, `/${name}/manifests/${result.digest.value}`),
        'Docker-Content-Digest': result.digest.value,
      };
      if (result.subject !== undefined) headers['OCI-Subject'] = result.subject.value;
      if (queryTags.length > 0) headers['OCI-Tag'] = result.tags.join(', ');
      sendEmpty(ctx, 201, headers);
    },

    deleteManifest: async (ctx) => {
      await registry.deleteManifest(repositoryName(ctx), reference(ctx), ctx);
      sendEmpty(ctx, 202);
    },
  };
}
