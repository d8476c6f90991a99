/** Listings: tags of a repository, the `_catalog`, and the referrers of a manifest. */
import { parseDigest } from '../../registry/digest.js';
import { OCI_INDEX } from '../../registry/manifests/media-types.js';
import { repositoryName } from '../context.js';
import { nextLink, parseLast, parseN } from './pagination.js';
import { sendJson, type HandlerDeps, type Handlers } from './deps.js';

/** distribution answers this many repositories when a catalog request has no `n`. */
const DEFAULT_CATALOG_ENTRIES = 100;

export function listingHandlers({ registry, urls, limits }: HandlerDeps): Handlers {
  return {
    listTags: async (ctx) => {
      const name = repositoryName(ctx);
      const n = parseN(ctx, limits.tagsMaxTags > 0 ? limits.tagsMaxTags : undefined);
      const page = await registry.listTags(name, { n, last: parseLast(ctx) }, ctx);
      const headers: Record<string, string> = {};
      const lastTag = page.tags.at(-1);
      if (page.more && lastTag !== undefined) headers['Link'] = nextLink(urls.relative(`/${name}/tags/list`), { n, last: lastTag });
      sendJson(ctx, 200, { name, tags: page.tags }, headers);
    },

    catalog: async (ctx) => {
      const n = parseN(ctx, limits.catalogMaxEntries) ?? Math.min(DEFAULT_CATALOG_ENTRIES, limits.catalogMaxEntries);
      const page = await registry.catalog({ n, last: parseLast(ctx), accept: ctx.caller?.listable }, ctx);
      const headers: Record<string, string> = {};
      const lastRepo = page.repositories.at(-1);
      if (page.more && lastRepo !== undefined) headers['Link'] = nextLink(urls.relative('/_catalog'), { n, last: lastRepo });
      sendJson(ctx, 200, { repositories: page.repositories }, headers);
    },

    listReferrers: async (ctx) => {
      const name = repositoryName(ctx);
      const subject = parseDigest(ctx.params.digest ?? '');
      const artifactType = ctx.query.get('artifactType') ?? undefined;
      const n = parseN(ctx, undefined);
      const page = await registry.listReferrers(name, subject, { artifactType, n, last: parseLast(ctx) }, ctx);
      const headers: Record<string, string> = {};
      if (page.filtersApplied.length > 0) headers['OCI-Filters-Applied'] = page.filtersApplied.join(',');
      const lastDescriptor = page.descriptors.at(-1);
      if (page.more && lastDescriptor !== undefined) {
        headers['Link'] = nextLink(urls.relative(`/${name}/referrers/${subject.value}`), { n, artifactType, last: lastDescriptor.digest });
      }
      sendJson(ctx, 200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: page.descriptors }, headers, OCI_INDEX);
    },
  };
}
