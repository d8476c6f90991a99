/**
 * What the data-driven conformance suite does with each data set (TestAll in run.go of its rewrite):
 * push every blob, every manifest by digest (in order, children first) and every tag; check the tag
 * list and its `last` parameter; HEAD and GET every tag, manifest and blob; list the referrers of each
 * subject, unfiltered and filtered by each artifactType; then delete the tags, the manifests (last
 * pushed first) and the blobs, each followed by a HEAD that must answer 404.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSubject, type TestData } from './suite-data.js';
import type { ReferrerEntry, SuiteApi } from './suite-api.js';

export const REPO1 = 'conformance/repo1';
export const REPO2 = 'conformance/repo2';

/** Tags to send as `?tag=` with the push of `digest` (for data sets pushed with tag parameters). */
function tagParams(td: TestData, digest: string): string[] {
  if (!td.tagParam.has(digest)) return [];
  return [...td.tags].filter(([, d]) => d === digest).map(([tag]) => tag);
}

export async function pushDataSet(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  for (const [digest, bytes] of td.blobs) await api.blobPostPut(repo, digest, bytes);
  for (const digest of td.manOrder) {
    const bytes = td.manifest(digest);
    const tags = tagParams(td, digest);
    const subject = detectSubject(bytes)?.digest;
    await api.manifestPut(repo, digest, digest, bytes, { tags, ...(subject !== undefined && { subject }), badDigest: td.badDigest.has(digest) });
    for (const tag of tags) td.tagPushed.add(tag);
  }
  for (const [tag, digest] of td.tags) {
    if (td.tagPushed.has(tag)) continue;
    const bytes = td.manifest(digest);
    const subject = detectSubject(bytes)?.digest;
    await api.manifestPut(repo, tag, digest, bytes, subject !== undefined ? { subject } : {});
    td.tagPushed.add(tag);
  }
}

export async function checkTagList(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  const { tags } = await api.tagList(repo);
  for (const tag of td.tags.keys()) assert.ok(tags.includes(tag), `tag ${tag} is listed in ${JSON.stringify(tags)}`);
  if (tags.length < 2) return;
  const sorted = [...tags].sort();
  const end = Math.floor(sorted.length / 2);
  const last = sorted[end - 1] ?? '';
  const partial = await api.tagList(repo, last);
  assert.equal(partial.status, 200);
  for (const tag of sorted.slice(0, end)) assert.ok(!partial.tags.includes(tag), `tag ${tag} is not listed after last=${last}`);
  for (const tag of sorted.slice(end)) assert.ok(partial.tags.includes(tag), `tag ${tag} is listed after last=${last}`);
}

export async function checkHead(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  for (const [tag, digest] of td.tags) {
    if (!td.badDigest.has(digest)) await api.manifestHeadExists(repo, tag, digest, td.manifests.get(digest));
  }
  for (const digest of td.manOrder) {
    if (!td.badDigest.has(digest)) await api.manifestHeadExists(repo, digest, digest, td.manifests.get(digest));
  }
  for (const [digest, bytes] of td.blobs) await api.blobHeadExists(repo, digest, bytes);
}

export async function checkPull(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  for (const [tag, digest] of td.tags) {
    if (!td.badDigest.has(digest)) await api.manifestGetExists(repo, tag, digest, td.manifests.get(digest));
  }
  for (const digest of td.manOrder) {
    if (!td.badDigest.has(digest)) await api.manifestGetExists(repo, digest, digest, td.manifests.get(digest));
  }
  for (const [digest, bytes] of td.blobs) await api.blobGetExists(repo, digest, bytes);
}

function matches(entry: ReferrerEntry, goal: ReferrerEntry): boolean {
  if (entry.digest !== goal.digest || entry.mediaType !== goal.mediaType || entry.size !== goal.size) return false;
  if ((entry.artifactType ?? '') !== (goal.artifactType ?? '')) return false;
  return Object.entries(goal.annotations ?? {}).every(([k, v]) => entry.annotations?.[k] === v);
}

export async function checkReferrers(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  for (const [subject, goals] of td.referrers) {
    const all = await api.referrers(repo, subject);
    for (const goal of goals) {
      assert.ok(all.manifests.some((m) => matches(m, goal)), `referrers of ${subject} list ${JSON.stringify(goal).slice(0, 300)}`);
    }
    const artifactTypes = new Set(goals.map((g) => g.artifactType ?? ''));
    for (const artifactType of artifactTypes) {
      const filtered = await api.referrers(repo, subject, artifactType);
      assert.ok(filtered.filters.includes('artifactType'), `OCI-Filters-Applied names artifactType (${JSON.stringify(filtered.filters)})`);
      for (const goal of goals.filter((g) => (g.artifactType ?? '') === artifactType)) {
        assert.ok(filtered.manifests.some((m) => matches(m, goal)), `filtered referrers of ${subject} list ${goal.digest}`);
      }
      for (const m of filtered.manifests) assert.equal(m.artifactType ?? '', artifactType, `filter ${artifactType} keeps only its own type`);
    }
  }
}

export async function deleteDataSet(api: SuiteApi, repo: string, td: TestData): Promise<void> {
  for (const tag of td.tags.keys()) {
    if (td.tagPushed.has(tag)) await api.manifestDelete(repo, tag);
  }
  for (const digest of [...td.manOrder].reverse()) await api.manifestDelete(repo, digest, td.badDigest.has(digest) ? 404 : 202);
  for (const digest of td.blobs.keys()) await api.blobDelete(repo, digest);
}

/** The suite's six steps for one data set, as one test each, run in order against `repo`. */
export function dataSetSteps(key: string, make: () => TestData, api: () => SuiteApi, repo = REPO1): void {
  describe(`data set ${key}`, () => {
    const td = make();
    it('push: blobs, manifests by digest, then tags', async () => pushDataSet(api(), repo, td));
    it('tag list, and `last`', async () => checkTagList(api(), repo, td));
    it('HEAD of each tag, manifest and blob', async () => checkHead(api(), repo, td));
    it('GET of each tag, manifest and blob', async () => checkPull(api(), repo, td));
    it('referrers of each subject, unfiltered and by artifactType', async () => checkReferrers(api(), repo, td));
    it('delete: tags, manifests, blobs, each then gone', async () => deleteDataSet(api(), repo, td));
  });
}
