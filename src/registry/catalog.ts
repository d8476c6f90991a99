/** The `_catalog`: repositories in component order, paginated with `n` and `last`. */
import type { StorageDriver } from '../storage/driver.js';
import { REPOSITORY_MARKERS } from './paths.js';
import { walkRepositories } from './repository-walker.js';
import type { CatalogPage, OpContext, Page } from './registry.js';

export async function listRepositories(driver: StorageDriver, page: Page, ctx: OpContext): Promise<CatalogPage> {
  const limit = page.n ?? Number.POSITIVE_INFINITY;
  const repositories: string[] = [];
  if (limit === 0) return { repositories, more: false };
  for await (const repo of walkRepositories(driver, { after: page.last, signal: ctx.signal })) {
    if (!repo.special.some((s) => REPOSITORY_MARKERS.includes(s))) continue;
    if (page.accept !== undefined && !page.accept(repo.name)) continue;
    if (repositories.length === limit) return { repositories, more: true };
    repositories.push(repo.name);
  }
  return { repositories, more: false };
}
