/** The `_catalog`: repositories in component order, paginated with `n` and `last`. */
import type { StorageDriver } from '../storage/driver.js';
import { REPOSITORY_MARKERS } from './paths.js';
import { walkRepositories } from './repository-walker.js';
import { firstAfter, type CatalogCache } from './catalog-cache.js';
import type { CatalogPage, OpContext, Page } from './registry.js';

export async function listRepositories(driver: StorageDriver, page: Page, ctx: OpContext, cache?: CatalogCache): Promise<CatalogPage> {
  const limit = page.n ?? Number.POSITIVE_INFINITY;
  if (limit === 0) return { repositories: [], more: false };
  const all = await cache?.all((max) => walkAll(driver, max, ctx));
  if (all !== undefined) {
    const from = firstAfter(all, page.last);
    if (page.accept === undefined) {
      const repositories = all.slice(from, from + Math.min(limit, all.length));
      return { repositories, more: from + repositories.length < all.length };
    }
    return pageOf(all.slice(from), page.accept, limit);
  }
  const repositories: string[] = [];
  for await (const name of repositoryNames(driver, page.last, ctx)) {
    if (page.accept !== undefined && !page.accept(name)) continue;
    if (repositories.length === limit) return { repositories, more: true };
    repositories.push(name);
  }
  return { repositories, more: false };
}

/** Up to `limit` accepted names of `names`, and whether an accepted one follows. */
function pageOf(names: readonly string[], accept: (name: string) => boolean, limit: number): CatalogPage {
  const repositories: string[] = [];
  for (const name of names) {
    if (!accept(name)) continue;
    if (repositories.length === limit) return { repositories, more: true };
    repositories.push(name);
  }
  return { repositories, more: false };
}

async function* repositoryNames(driver: StorageDriver, after: string | undefined, ctx: OpContext): AsyncGenerator<string> {
  for await (const repo of walkRepositories(driver, { after, signal: ctx.signal })) {
    if (repo.special.some((s) => REPOSITORY_MARKERS.includes(s))) yield repo.name;
  }
}

/** Every repository name, or undefined as soon as there are more than `max`. */
async function walkAll(driver: StorageDriver, max: number, ctx: OpContext): Promise<string[] | undefined> {
  const names: string[] = [];
  for await (const name of repositoryNames(driver, undefined, ctx)) {
    if (names.length === max) return undefined;
    names.push(name);
  }
  return names;
}
