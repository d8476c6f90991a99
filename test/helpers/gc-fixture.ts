/**
 * A registry content fixture for garbage-collection tests, pushed over HTTP to Wharf or to
 * distribution's registry: shared layers across repositories, untagged manifests (a tag moved away,
 * and with Wharf a tag deleted), a multi-arch index whose children no tag names, referrers
 * (a signature, an SBOM of the signature, a signature of the index, a signature of an untagged
 * manifest), a manifest deleted by digest and an orphan blob. It knows what each mode keeps.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, TestClient, sha256, type Descriptor } from './client.js';

export interface PushedManifest {
  readonly repo: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Config and layers. */
  readonly blobs: readonly string[];
}

export interface GcFixture {
  /** `repo:tag` → the manifest it names. */
  readonly tagged: ReadonlyMap<string, PushedManifest>;
  /** Manifests no tag names that every mode keeps (index children, referrers of kept subjects). */
  readonly untaggedKept: readonly PushedManifest[];
  /** Manifests no tag names and nothing kept reaches: only --delete-untagged removes them. */
  readonly untaggedGone: readonly PushedManifest[];
  /** Blobs of a manifest deleted by digest and an orphan blob: every mode removes them. */
  readonly unreachable: readonly string[];
  /** Referrers the referrers API must list after gc, by `repo@subject`. */
  readonly referrers: ReadonlyMap<string, readonly string[]>;
  /** Every blob (manifests included) that must remain after gc with/without --delete-untagged. */
  keptBlobs(deleteUntagged: boolean): Set<string>;
  /** Friendly names by digest, for test messages. */
  readonly names: ReadonlyMap<string, string>;
}

const ARTIFACT = 'application/vnd.example.signature.v1';
const SBOM = 'application/vnd.example.sbom.v1+json';

export async function pushGcFixture(client: TestClient, options: { readonly canDeleteTags: boolean }): Promise<GcFixture> {
  const names = new Map<string, string>();
  const tagged = new Map<string, PushedManifest>();
  const untaggedKept: PushedManifest[] = [];
  const untaggedGone: PushedManifest[] = [];
  const unreachable: string[] = [];
  const referrers = new Map<string, string[]>();
  const shared = randomBytes(2048);
  const empty = Buffer.from('{}');

  const image = async (repo: string, label: string, opts: { tag?: string; shared?: boolean; subject?: PushedManifest; artifactType?: string; platform?: string } = {}): Promise<PushedManifest> => {
    const config: Descriptor = opts.subject !== undefined
      ? await client.pushBlob(repo, empty, OCI_EMPTY)
      : await client.pushBlob(repo, Buffer.from(JSON.stringify({ architecture: opts.platform ?? 'amd64', os: 'linux', label, nonce: randomBytes(6).toString('hex') })), OCI_CONFIG);
    const layers: Descriptor[] = [];
    if (opts.shared === true) layers.push(await client.pushBlob(repo, shared));
    layers.push(await client.pushBlob(repo, randomBytes(700 + Math.floor(Math.random() * 300)), opts.subject !== undefined ? 'application/octet-stream' : undefined));
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(opts.artifactType !== undefined && { artifactType: opts.artifactType }),
      config,
      layers,
      ...(opts.subject !== undefined && { subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size } }),
    });
    const pushed = await client.pushManifest(repo, opts.tag ?? sha256(body), body);
    const m: PushedManifest = { repo, digest: pushed.digest, mediaType: OCI_MANIFEST, size: pushed.size, blobs: [config.digest, ...layers.map((l) => l.digest)] };
    names.set(m.digest, `${repo} ${label}`);
    names.set(config.digest, names.get(config.digest) ?? `${repo} ${label} config`);
    for (const l of layers) names.set(l.digest, l.digest === sha256(shared) ? 'shared layer' : `${repo} ${label} layer`);
    if (opts.subject !== undefined) {
      const key = `${repo}@${opts.subject.digest}`;
      referrers.set(key, [...(referrers.get(key) ?? []), m.digest]);
    }
    return m;
  };

  // app: a tagged image, its signature, an SBOM of the signature (a referrer of a referrer).
  const v1 = await image('app', 'v1', { tag: 'v1', shared: true });
  tagged.set('app:v1', v1);
  const sig = await image('app', 'signature of v1', { subject: v1, artifactType: ARTIFACT });
  const sbom = await image('app', 'sbom of the signature', { subject: sig, artifactType: SBOM });
  untaggedKept.push(sig, sbom);
  // app: a tag moved to another image leaves the first untagged; its signature goes with it.
  const old = await image('app', 'old (tag moved away)', { tag: 'moving', shared: true });
  const current = await image('app', 'current', { tag: 'moving' });
  tagged.set('app:moving', current);
  const oldSig = await image('app', 'signature of old', { subject: old, artifactType: ARTIFACT });
  untaggedGone.push(old, oldSig);
  referrers.delete(`app@${old.digest}`);
  if (options.canDeleteTags) {
    const dropped = await image('app', 'tag deleted', { tag: 'tmp' });
    const response = await client.request(`/v2/app/manifests/tmp`, { method: 'DELETE' });
    assert.equal(response.status, 202, 'DELETE tag');
    untaggedGone.push(dropped);
  }

  // other: the shared layer again, in another repository.
  tagged.set('other:v1', await image('other', 'v1', { tag: 'v1', shared: true }));

  // multi: an index whose platform manifests no tag names, and a signature of the index.
  const amd = await image('multi', 'amd64 child', { platform: 'amd64', shared: true });
  const arm = await image('multi', 'arm64 child', { platform: 'arm64' });
  const indexBody = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.size, platform: { architecture: 'arm64', os: 'linux' } },
    ],
  });
  const indexPushed = await client.pushManifest('multi', 'latest', indexBody, OCI_INDEX);
  const index: PushedManifest = { repo: 'multi', digest: indexPushed.digest, mediaType: OCI_INDEX, size: indexPushed.size, blobs: [] };
  names.set(index.digest, 'multi index');
  tagged.set('multi:latest', index);
  const indexSig = await image('multi', 'signature of the index', { subject: index, artifactType: ARTIFACT });
  untaggedKept.push(amd, arm, indexSig);

  // dead: a manifest deleted by digest; its own blobs are unreachable, the shared layer is not.
  const dead = await image('dead', 'deleted manifest', { tag: 'v1', shared: true });
  const deleted = await client.request(`/v2/dead/manifests/${dead.digest}`, { method: 'DELETE' });
  assert.equal(deleted.status, 202, 'DELETE manifest');
  unreachable.push(dead.digest, ...dead.blobs.filter((b) => b !== sha256(shared)));

  // orphan: a blob no manifest references.
  const orphan = await client.pushBlob('orphan', randomBytes(1500));
  names.set(orphan.digest, 'orphan blob');
  unreachable.push(orphan.digest);

  const blobsOf = (ms: Iterable<PushedManifest>): string[] => [...ms].flatMap((m) => [m.digest, ...m.blobs]);
  return {
    tagged,
    untaggedKept,
    untaggedGone,
    unreachable,
    referrers,
    names,
    keptBlobs: (deleteUntagged) => {
      const kept = new Set(blobsOf([...tagged.values(), ...untaggedKept]));
      // The empty config is shared by every artifact: it stays while any of them does.
      if (!deleteUntagged) for (const d of blobsOf(untaggedGone)) kept.add(d);
      return kept;
    },
  };
}

function hashOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Pulls a manifest by reference and everything it reaches, re-hashing every byte. */
export async function pullIntact(client: TestClient, repo: string, reference: string, expected?: string): Promise<void> {
  const response = await client.request(`/v2/${repo}/manifests/${reference}`, { headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
  assert.equal(response.status, 200, `${repo}:${reference} manifest`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (expected !== undefined) assert.equal(hashOf(bytes), expected, `${repo}:${reference} digest`);
  const doc = JSON.parse(bytes.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  for (const child of doc.manifests ?? []) await pullIntact(client, repo, child.digest, child.digest);
  for (const blob of [...(doc.config === undefined ? [] : [doc.config]), ...(doc.layers ?? [])]) {
    const got = await client.request(`/v2/${repo}/blobs/${blob.digest}`);
    assert.equal(got.status, 200, `${repo} blob ${blob.digest}`);
    assert.equal(hashOf(Buffer.from(await got.arrayBuffer())), blob.digest, `${repo} blob ${blob.digest} content`);
  }
}

/** Checks what gc left through the registry API: kept content pulls intact, removed manifests are unknown. */
export async function verifyAfterGc(client: TestClient, fixture: GcFixture, deleteUntagged: boolean, options: { readonly referrersApi?: boolean } = {}): Promise<void> {
  for (const [repoTag, m] of fixture.tagged) {
    const [repo, tag] = repoTag.split(':') as [string, string];
    await pullIntact(client, repo, tag, m.digest);
  }
  for (const m of fixture.untaggedKept) await pullIntact(client, m.repo, m.digest, m.digest);
  for (const m of fixture.untaggedGone) {
    const response = await client.request(`/v2/${m.repo}/manifests/${m.digest}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(response.status, deleteUntagged ? 404 : 200, `${fixture.names.get(m.digest)} after gc`);
  }
  // A root distribution wrote has no referrers index for Wharf's referrers API to list.
  for (const [key, expected] of options.referrersApi === false ? [] : fixture.referrers) {
    const [repo, subject] = key.split('@') as [string, string];
    const response = await client.request(`/v2/${repo}/referrers/${subject}`);
    assert.equal(response.status, 200);
    const listed = ((await response.json()) as { manifests: Descriptor[] }).manifests.map((d) => d.digest).sort();
    assert.deepEqual(listed, [...expected].sort(), `referrers of ${fixture.names.get(subject)}`);
  }
}
