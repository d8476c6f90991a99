/** Tags: `_manifests/tags/<tag>/current/link` and the tag's `index/` of every digest it held. */
import type { StorageDriver } from '../../storage/driver.js';
import { paths } from '../paths.js';
import { RegistryError } from '../errors.js';
import type { Digest } from '../digest.js';
import { deleteIfPresent, listNames, readLink, statIfPresent, writeLink } from '../links.js';
import type { OpContext, Page, TagPage } from '../registry.js';

export class TagStore {
  constructor(private readonly driver: StorageDriver) {}

  /** The digest a tag points at; MANIFEST_UNKNOWN when the tag does not exist. */
  async resolve(name: string, tag: string, ctx: OpContext): Promise<Digest> {
    const digest = await readLink(this.driver, paths.tagCurrentLink(name, tag), ctx);
    if (digest === undefined) throw new RegistryError('MANIFEST_UNKNOWN', { name, tag }, { message: `manifest unknown: no tag ${JSON.stringify(tag)} in ${name}` });
    return digest;
  }

  /** Points a tag at a digest: first the index entry, then `current` (as distribution does). */
  async tag(name: string, tag: string, digest: Digest, ctx: OpContext): Promise<void> {
    await writeLink(this.driver, paths.tagIndexLink(name, tag, digest), digest, ctx);
    await writeLink(this.driver, paths.tagCurrentLink(name, tag), digest, ctx);
  }

  /** Removes a tag; MANIFEST_UNKNOWN when there was none. */
  async untag(name: string, tag: string, ctx: OpContext): Promise<void> {
    if (!(await deleteIfPresent(this.driver, paths.tagDir(name, tag), ctx))) {
      throw new RegistryError('MANIFEST_UNKNOWN', { name, tag }, { message: `manifest unknown: no tag ${JSON.stringify(tag)} in ${name}` });
    }
  }

  /** Every tag name of the repository in byte order, or undefined when it has no tags directory. */
  all(name: string, ctx: OpContext): Promise<string[] | undefined> {
    return listNames(this.driver, paths.tagsDir(name), ctx);
  }

  /** Removes every tag that points at `digest`. */
  async untagDigest(name: string, digest: Digest, ctx: OpContext): Promise<string[]> {
    const removed: string[] = [];
    for (const tag of (await this.all(name, ctx)) ?? []) {
      const current = await readLink(this.driver, paths.tagCurrentLink(name, tag), ctx);
      if (current?.value === digest.value) {
        await deleteIfPresent(this.driver, paths.tagDir(name, tag), ctx);
        removed.push(tag);
      }
    }
    return removed;
  }

  async list(name: string, page: Page, ctx: OpContext): Promise<TagPage> {
    const all = await this.all(name, ctx);
    if (all === undefined) {
      if (!(await repositoryExists(this.driver, name, ctx))) throw new RegistryError('NAME_UNKNOWN', { name });
      return { tags: [], more: false };
    }
    const last = page.last;
    const after = last === undefined || last === '' ? all : all.filter((t) => t > last);
    const n = page.n ?? after.length;
    return { tags: after.slice(0, n), more: after.length > n };
  }
}

/** A repository exists when its directory holds `_manifests` or `_layers`. */
export async function repositoryExists(driver: StorageDriver, name: string, ctx: OpContext): Promise<boolean> {
  const [manifests, layers] = await Promise.all([
    statIfPresent(driver, paths.manifestsDir(name), ctx),
    statIfPresent(driver, `${paths.repository(name)}/_layers`, ctx),
  ]);
  return manifests !== undefined || layers !== undefined;
}
