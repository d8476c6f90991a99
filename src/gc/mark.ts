/**
 * The mark phase. For each repository: its manifests (`_manifests/revisions` links), the tags that
 * point at them, and what each manifest references (read from the manifest itself, so that a root
 * distribution wrote, which has no referrers index, is marked the same way as one Wharf wrote).
 *
 * A repository's reached manifests start from every revision, or with `deleteUntagged` from those a
 * tag's `current` link points at, and grow by two edges until nothing changes:
 * - an index reaches its children that the repository holds (a multi-arch image's platform
 *   manifests are kept with their index even though no tag names them: distribution 2.8's
 *   `--delete-untagged` deletes them and breaks the image);
 * - a manifest reaches its referrers in the repository (manifests whose `subject` names it:
 *   signatures, SBOMs, attestations), so they stay while their subject stays and go with it.
 * Every reached manifest is marked with its config, layers and children (the digests, in the global
 * mark set, as distribution marks them). Manifests not reached are planned for removal.
 */
import type { StorageDriver } from '../storage/driver.js';
import { paths } from '../registry/paths.js';
import { tryParseDigest, type Digest } from '../registry/digest.js';
import { listNames, readLink } from '../registry/links.js';
import type { WalkedRepository } from '../registry/repository-walker.js';
import { isPathNotFound } from '../storage/driver.js';
import { forEachLimit, mapLimit } from './concurrency.js';
import { manifestReferences, type ManifestReferences } from './references.js';
import type { GcListener } from './events.js';

export interface MarkOptions {
  readonly deleteUntagged: boolean;
  readonly concurrency: number;
  readonly signal?: AbortSignal | undefined;
  readonly emit: GcListener;
}

/** What the sweep needs to know about one repository. */
export interface RepositoryPlan {
  readonly name: string;
  /** The `_`-prefixed children of the repository directory (`_layers`, `_referrers`, ...). */
  readonly special: readonly string[];
  /** How many manifests (revisions) the repository holds. */
  readonly revisions: number;
  /** Manifests to remove: revision link, tag index entries, referrers index entries. */
  readonly unreached: readonly Digest[];
  /** Manifests that stay (for pruning the referrers index). */
  readonly kept: ReadonlySet<string>;
  /** The repository's tag names (each may hold tag index entries of removed manifests). */
  readonly tags: readonly string[];
}

export interface MarkResult {
  /** Every digest (manifest or blob) something reached references: never swept. */
  readonly marked: Set<string>;
  readonly plans: readonly RepositoryPlan[];
  readonly manifestsExamined: number;
}

/** A digest named by a directory (`<alg>/<hex>`), undefined for what is not one Wharf knows. */
export function digestFromNames(algorithm: string, hex: string): Digest | undefined {
  const parsed = tryParseDigest(`${algorithm}:${hex}`);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** The digests below `<dir>/<alg>/<hex>` (revisions, `_layers`), by directory name. */
export async function listDigestDirs(driver: StorageDriver, dirOf: (algorithm?: string) => string, signal?: AbortSignal): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const algorithm of (await listNames(driver, dirOf(), { signal })) ?? []) {
    for (const hex of (await listNames(driver, dirOf(algorithm), { signal })) ?? []) {
      const digest = digestFromNames(algorithm, hex);
      if (digest !== undefined) out.push(digest);
    }
  }
  return out;
}

/** The repository's manifests: revision directories whose link holds their digest. */
async function listRevisions(driver: StorageDriver, name: string, options: MarkOptions): Promise<Digest[]> {
  const candidates = await listDigestDirs(driver, (alg) => paths.revisionsDir(name, alg), options.signal);
  const held = await mapLimit(candidates, options.concurrency, async (d) => {
    const target = await readLink(driver, paths.revisionLink(name, d), { signal: options.signal });
    return target?.value === d.value;
  }, options.signal);
  return candidates.filter((_, i) => held[i]);
}

/** What a manifest references; undefined (with a warning) when its blob is gone. */
async function readReferences(driver: StorageDriver, name: string, digest: Digest, options: MarkOptions): Promise<ManifestReferences | undefined> {
  let bytes: Buffer;
  try {
    bytes = await driver.getContent(paths.blobData(digest), { signal: options.signal });
  } catch (err) {
    if (!isPathNotFound(err)) throw err;
    options.emit({ type: 'warning', message: `${name}@${digest.value}: the manifest's blob is missing; it references nothing that can be marked` });
    return undefined;
  }
  return manifestReferences(bytes, `${name}@${digest.value}`);
}

/** Tag name → the digest its `current` link holds. */
async function readTags(driver: StorageDriver, name: string, options: MarkOptions): Promise<Map<string, string | undefined>> {
  const tags = (await listNames(driver, paths.tagsDir(name), { signal: options.signal })) ?? [];
  const targets = await mapLimit(tags, options.concurrency, (tag) => readLink(driver, paths.tagCurrentLink(name, tag), { signal: options.signal }), options.signal);
  return new Map(tags.map((tag, i) => [tag, targets[i]?.value]));
}

export async function markRepository(driver: StorageDriver, repo: WalkedRepository, marked: Set<string>, options: MarkOptions): Promise<RepositoryPlan> {
  const { name } = repo;
  const revisions = repo.special.includes('_manifests') ? await listRevisions(driver, name, options) : [];
  const byValue = new Map(revisions.map((d) => [d.value, d]));
  const references = new Map<string, ManifestReferences | undefined>();
  const parsed = await mapLimit(revisions, options.concurrency, (d) => readReferences(driver, name, d, options), options.signal);
  revisions.forEach((d, i) => references.set(d.value, parsed[i]));

  // Tags matter only to decide what is untagged (and whose tag index entries go with it).
  const tags = options.deleteUntagged && repo.special.includes('_manifests') ? await readTags(driver, name, options) : new Map<string, string | undefined>();
  const tagged = new Set([...tags.values()].filter((d): d is string => d !== undefined));

  const referrers = new Map<string, string[]>();
  for (const [digest, refs] of references) {
    if (refs?.subject === undefined) continue;
    const list = referrers.get(refs.subject) ?? [];
    list.push(digest);
    referrers.set(refs.subject, list);
  }

  const reached = new Set<string>();
  const queue = revisions.map((d) => d.value).filter((d) => !options.deleteUntagged || tagged.has(d));
  while (queue.length > 0) {
    const digest = queue.pop() as string;
    if (reached.has(digest)) continue;
    reached.add(digest);
    marked.add(digest);
    const refs = references.get(digest);
    for (const blob of refs?.blobs ?? []) marked.add(blob);
    for (const child of refs?.children ?? []) {
      marked.add(child);
      if (byValue.has(child)) queue.push(child);
    }
    for (const referrer of referrers.get(digest) ?? []) queue.push(referrer);
  }
  return {
    name,
    special: repo.special,
    revisions: revisions.length,
    unreached: revisions.filter((d) => !reached.has(d.value)),
    kept: reached,
    tags: [...tags.keys()],
  };
}

/** Marks every repository (bounded concurrency), reporting progress. */
export async function mark(driver: StorageDriver, repositories: readonly WalkedRepository[], options: MarkOptions): Promise<MarkResult> {
  const marked = new Set<string>();
  const plans = new Array<RepositoryPlan>(repositories.length);
  let done = 0;
  let manifestsExamined = 0;
  options.emit({ type: 'phase', phase: 'mark', total: repositories.length });
  await forEachLimit(repositories, options.concurrency, async (repo, i) => {
    const plan = await markRepository(driver, repo, marked, options);
    plans[i] = plan;
    manifestsExamined += plan.revisions;
    options.emit({ type: 'progress', phase: 'mark', done: ++done, total: repositories.length });
  }, options.signal);
  options.emit({ type: 'phase-end', phase: 'mark', done });
  return { marked, plans, manifestsExamined };
}
