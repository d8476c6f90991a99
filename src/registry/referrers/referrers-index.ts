/**
 * The referrers index: for each subject digest, a small JSON descriptor of every manifest in the
 * repository whose `subject` names it (`_referrers/<alg>/<hex>/<alg>-<hex>.json`, see paths.ts).
 * It is written when such a manifest is pushed and removed when it is deleted; entries whose
 * manifest is gone (deleted by another tool) are skipped when listing. Rebuildable from manifests.
 */
import type { StorageDriver } from '../../storage/driver.js';
import { paths } from '../paths.js';
import { tryParseDigest, type Digest } from '../digest.js';
import { deleteIfPresent, linkHolds, listNames } from '../links.js';
import type { OpContext, ReferrerDescriptor, ReferrersPage, ReferrersQuery } from '../registry.js';

const ENTRY = /^([a-z0-9]+)-([a-f0-9]+)\.json$/;

/** The referrer an entry's file name (`<alg>-<hex>.json`) stands for; undefined for another file. */
export function referrerOfEntry(entry: string): Digest | undefined {
  const m = ENTRY.exec(entry);
  const parsed = m === null ? undefined : tryParseDigest(`${m[1]}:${m[2]}`);
  return parsed === undefined || typeof parsed === 'string' ? undefined : parsed;
}

export class ReferrersIndex {
  constructor(
    private readonly driver: StorageDriver,
    private readonly pageSize: number,
  ) {}

  async record(name: string, subject: Digest, descriptor: ReferrerDescriptor, referrer: Digest, ctx: OpContext): Promise<void> {
    await this.driver.putContent(paths.referrerEntry(name, subject, referrer), Buffer.from(JSON.stringify(descriptor)), ctx);
  }

  async remove(name: string, subject: Digest, referrer: Digest, ctx: OpContext): Promise<void> {
    await deleteIfPresent(this.driver, paths.referrerEntry(name, subject, referrer), ctx);
  }

  async list(name: string, subject: Digest, query: ReferrersQuery, ctx: OpContext): Promise<ReferrersPage> {
    const entries = (await listNames(this.driver, paths.referrersDir(name, subject), ctx)) ?? [];
    const digests = entries
      .map(referrerOfEntry)
      .filter((d): d is Digest => d !== undefined)
      .filter((d) => query.last === undefined || d.value > query.last)
      .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    const limit = Math.min(query.n ?? this.pageSize, this.pageSize);
    const descriptors: ReferrerDescriptor[] = [];
    for (const referrer of digests) {
      if (descriptors.length === limit) return { descriptors, more: true, filtersApplied: filters(query) };
      const descriptor = await this.read(name, subject, referrer, ctx);
      if (descriptor === undefined) continue;
      if (query.artifactType !== undefined && descriptor.artifactType !== query.artifactType) continue;
      descriptors.push(descriptor);
    }
    return { descriptors, more: false, filtersApplied: filters(query) };
  }

  private async read(name: string, subject: Digest, referrer: Digest, ctx: OpContext): Promise<ReferrerDescriptor | undefined> {
    // The manifest may have been deleted behind the index's back (another tool, an interrupted delete).
    if (!(await linkHolds(this.driver, paths.revisionLink(name, referrer), referrer, ctx))) return undefined;
    try {
      const parsed: unknown = JSON.parse((await this.driver.getContent(paths.referrerEntry(name, subject, referrer), ctx)).toString('utf8'));
      return isDescriptor(parsed) && parsed.digest === referrer.value ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
}

function filters(query: ReferrersQuery): string[] {
  return query.artifactType === undefined ? [] : ['artifactType'];
}

function isDescriptor(value: unknown): value is ReferrerDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['mediaType'] === 'string' && typeof v['digest'] === 'string' && typeof v['size'] === 'number';
}
