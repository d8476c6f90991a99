/**
 * The sweep phase, in an order that never leaves a link to something already gone:
 * 1. manifests no tag reaches (with `deleteUntagged`): the tag index entries that name them (in
 *    every tag of the repository, as distribution does), then the revision directory;
 * 2. referrers index entries (`_referrers/`) whose referrer is no longer a manifest of the
 *    repository: those of the manifests just removed and any left stale by other tools;
 * 3. `_layers` links to blobs nothing marked;
 * 4. blobs nothing marked (`blobs/<alg>/<xx>/<hex>`).
 *
 * Safety net: a blob or layer link modified at or after `protectFrom` (the start of the run) is
 * never swept, even when unmarked: it was written while the collector ran. With `dryRun` nothing is
 * deleted and every removal is reported as one that would happen.
 */
import type { StorageDriver } from '../storage/driver.js';
import { paths } from '../registry/paths.js';
import { deleteIfPresent, listNames, statIfPresent } from '../registry/links.js';
import { referrerOfEntry } from '../registry/referrers/referrers-index.js';
import type { Digest } from '../registry/digest.js';
import { forEachLimit } from './concurrency.js';
import { digestFromNames, listDigestDirs, type RepositoryPlan } from './mark.js';
import type { DeletedKind, GcListener } from './events.js';

export interface SweepOptions {
  readonly dryRun: boolean;
  /** Nothing modified at or after this time is swept. */
  readonly protectFrom: Date;
  readonly concurrency: number;
  readonly signal?: AbortSignal | undefined;
  readonly emit: GcListener;
}

export interface SweepResult {
  readonly blobsExamined: number;
  readonly blobsDeleted: number;
  readonly bytesFreed: number;
  readonly manifestsDeleted: number;
  readonly tagLinksDeleted: number;
  readonly layerLinksDeleted: number;
  readonly referrerEntriesDeleted: number;
  /** Unmarked blobs and links kept because they were written after the run started. */
  readonly keptAsNew: number;
}

type Counters = { -readonly [K in keyof SweepResult]: SweepResult[K] };

class Sweeper {
  readonly counts: Counters = {
    blobsExamined: 0, blobsDeleted: 0, bytesFreed: 0, manifestsDeleted: 0, tagLinksDeleted: 0, layerLinksDeleted: 0, referrerEntriesDeleted: 0, keptAsNew: 0,
  };

  constructor(
    private readonly reader: StorageDriver,
    private readonly deleter: StorageDriver,
    private readonly options: SweepOptions,
  ) {}

  private get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  private async remove(path: string, kind: DeletedKind, digest: string, repository?: string, bytes?: number): Promise<void> {
    this.options.emit({ type: 'delete', kind, digest, repository, bytes, dryRun: this.options.dryRun });
    if (!this.options.dryRun) await deleteIfPresent(this.deleter, path, { signal: this.signal });
  }

  /** Whether the file at `path` was written after the run began (then it stays). */
  private async isNew(path: string): Promise<{ fresh: boolean; size: number }> {
    const info = await statIfPresent(this.reader, path, { signal: this.signal });
    if (info !== undefined && info.modTime >= this.options.protectFrom) {
      this.counts.keptAsNew++;
      return { fresh: true, size: info.size };
    }
    return { fresh: false, size: info?.size ?? 0 };
  }

  async manifests(plan: RepositoryPlan): Promise<void> {
    if (plan.unreached.length === 0) return;
    const unreached = new Set(plan.unreached.map((d) => d.value));
    // One listing per tag rather than one look-up per tag and manifest.
    for (const tag of plan.tags) {
      for (const digest of await listDigestDirs(this.reader, (alg) => paths.tagIndexesDir(plan.name, tag, alg), this.signal)) {
        if (!unreached.has(digest.value)) continue;
        this.counts.tagLinksDeleted++;
        if (!this.options.dryRun) await deleteIfPresent(this.deleter, paths.tagIndexDir(plan.name, tag, digest), { signal: this.signal });
      }
    }
    for (const digest of plan.unreached) {
      this.counts.manifestsDeleted++;
      await this.remove(paths.revisionDir(plan.name, digest), 'manifest', digest.value, plan.name);
    }
  }

  async referrers(plan: RepositoryPlan): Promise<void> {
    if (!plan.special.includes('_referrers')) return;
    const subjects = await listDigestDirs(this.reader, (alg) => paths.referrersRoot(plan.name, alg), this.signal);
    for (const subject of subjects) {
      const entries = (await listNames(this.reader, paths.referrersDir(plan.name, subject), { signal: this.signal })) ?? [];
      const stale = entries.map(referrerOfEntry).filter((r): r is Digest => r !== undefined && !plan.kept.has(r.value));
      for (const referrer of stale) {
        this.counts.referrerEntriesDeleted++;
        await this.remove(paths.referrerEntry(plan.name, subject, referrer), 'referrer entry', referrer.value, plan.name);
      }
      if (stale.length > 0 && stale.length === entries.length && !this.options.dryRun) {
        await deleteIfPresent(this.deleter, paths.referrersDir(plan.name, subject), { signal: this.signal });
      }
    }
  }

  async layerLinks(plan: RepositoryPlan, marked: ReadonlySet<string>): Promise<void> {
    if (!plan.special.includes('_layers')) return;
    for (const digest of await listDigestDirs(this.reader, (alg) => paths.layersDir(plan.name, alg), this.signal)) {
      if (marked.has(digest.value)) continue;
      if ((await this.isNew(paths.layerLink(plan.name, digest))).fresh) continue;
      this.counts.layerLinksDeleted++;
      await this.remove(paths.layerLinkDir(plan.name, digest), 'layer link', digest.value, plan.name);
    }
  }

  /** Every blob under `blobs/`, by directory, with bounded concurrency over the `<xx>` prefixes. */
  async blobs(marked: ReadonlySet<string>): Promise<void> {
    const prefixes: { algorithm: string; prefix: string }[] = [];
    for (const algorithm of (await listNames(this.reader, paths.blobsDir(), { signal: this.signal })) ?? []) {
      for (const prefix of (await listNames(this.reader, paths.blobsDir(algorithm), { signal: this.signal })) ?? []) prefixes.push({ algorithm, prefix });
    }
    this.options.emit({ type: 'phase', phase: 'blobs', total: prefixes.length });
    let done = 0;
    await forEachLimit(prefixes, this.options.concurrency, async ({ algorithm, prefix }) => {
      for (const hex of (await listNames(this.reader, paths.blobsDir(algorithm, prefix), { signal: this.signal })) ?? []) {
        const digest = digestFromNames(algorithm, hex);
        // Only what is certainly a blob of a known algorithm is considered; anything else stays.
        if (digest === undefined || digest.hex.slice(0, 2) !== prefix) continue;
        this.counts.blobsExamined++;
        if (marked.has(digest.value)) continue;
        const { fresh, size } = await this.isNew(paths.blobData(digest));
        if (fresh) continue;
        this.counts.blobsDeleted++;
        this.counts.bytesFreed += size;
        await this.remove(paths.blobDir(digest), 'blob', digest.value, undefined, size);
      }
      this.options.emit({ type: 'progress', phase: 'blobs', done: ++done, total: prefixes.length });
    }, this.signal);
    this.options.emit({ type: 'phase-end', phase: 'blobs', done: this.counts.blobsExamined });
  }
}

/** Removes what the mark left unmarked (see the file comment for the order). */
export async function sweep(reader: StorageDriver, deleter: StorageDriver, plans: readonly RepositoryPlan[], marked: ReadonlySet<string>, options: SweepOptions): Promise<SweepResult> {
  const sweeper = new Sweeper(reader, deleter, options);
  let done = 0;
  options.emit({ type: 'phase', phase: 'sweep', total: plans.length });
  await forEachLimit(plans, options.concurrency, async (plan) => {
    await sweeper.manifests(plan);
    await sweeper.referrers(plan);
    await sweeper.layerLinks(plan, marked);
    options.emit({ type: 'progress', phase: 'sweep', done: ++done, total: plans.length });
  }, options.signal);
  options.emit({ type: 'phase-end', phase: 'sweep', done });
  await sweeper.blobs(marked);
  return sweeper.counts;
}
