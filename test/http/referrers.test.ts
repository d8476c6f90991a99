/**
 * Referrers API (end-12): always 200 with an OCI index, descriptor fields, artifactType filtering
 * with OCI-Filters-Applied, paging via Link, deletes, an index as a referrer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, TestClient, errorCode, sha256, type Descriptor } from '../helpers/client.js';

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }[];
}

let wharf: TestWharf;
let client: TestClient;
const NAME = 'referrers/app';
let subject: Descriptor & { response: Response };
let emptyConfig: Descriptor;

before(async () => {
  wharf = await startTestWharf({ referrersPageSize: 2 });
  client = new TestClient(wharf.url);
  subject = await client.pushImage(NAME, 'subject');
  emptyConfig = await client.pushBlob(NAME, Buffer.from('{}'), OCI_EMPTY);
});
after(() => wharf.stop(0));

async function referrers(name: string, digest: string, query = ''): Promise<{ res: Response; index: Index }> {
  const res = await client.request(`/v2/${name}/referrers/${digest}${query}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), OCI_INDEX);
  return { res, index: (await res.json()) as Index };
}

/** Pushes an artifact manifest referring to `subj`; returns its descriptor. */
async function pushReferrer(subj: Descriptor, fields: Record<string, unknown>, name = NAME): Promise<Descriptor & { response: Response }> {
  const layer = await client.pushBlob(name, randomBytes(16), 'application/vnd.example.payload');
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: emptyConfig,
    layers: [layer],
    subject: { mediaType: subj.mediaType, digest: subj.digest, size: subj.size },
    ...fields,
  };
  return client.pushManifest(name, sha256(JSON.stringify(manifest)), manifest);
}

async function allPages(first: string): Promise<{ pages: number; digests: string[] }> {
  const digests: string[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next !== undefined) {
    const res = await client.request(next);
    assert.equal(res.status, 200);
    digests.push(...((await res.json()) as Index).manifests.map((m) => m.digest));
    const link = res.headers.get('link');
    next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    pages++;
    assert.ok(pages < 20);
  }
  return { pages, digests };
}

describe('referrers', () => {
  it('an unknown subject → 200 with an empty OCI index', async () => {
    const { res, index } = await referrers(NAME, sha256('nobody refers to me'));
    assert.deepEqual(index, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    assert.equal(res.headers.get('link'), null);
    assert.equal(res.headers.get('oci-filters-applied'), null);
  });

  it('an unknown repository → 200 with an empty index', async () => {
    const { index } = await referrers('referrers/none', sha256('x'));
    assert.deepEqual(index.manifests, []);
  });

  it('a malformed subject digest → 400 DIGEST_INVALID', async () => {
    for (const bad of ['sha256:abc', 'latest', `md5:${'a'.repeat(32)}`]) {
      const res = await client.request(`/v2/${NAME}/referrers/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(await errorCode(res), 'DIGEST_INVALID');
    }
  });

  it('descriptors carry mediaType, digest, size, artifactType and annotations', async () => {
    const subj = await client.pushImage(NAME, 'fields');
    const annotations = { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'com.example.key': 'value' };
    const sig = await pushReferrer(subj, { artifactType: 'application/vnd.example.sig', annotations });
    assert.equal(sig.response.headers.get('oci-subject'), subj.digest);
    const { index } = await referrers(NAME, subj.digest);
    assert.deepEqual(index.manifests, [{ mediaType: OCI_MANIFEST, digest: sig.digest, size: sig.size, artifactType: 'application/vnd.example.sig', annotations }]);
  });

  it('without artifactType, the config’s media type is the artifactType', async () => {
    const subj = await client.pushImage(NAME, 'cfg');
    const config = await client.pushBlob(NAME, Buffer.from('{"sbom":true}'), 'application/vnd.example.sbom.config+json');
    const layer = await client.pushBlob(NAME, randomBytes(8));
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer], subject: { mediaType: subj.mediaType, digest: subj.digest, size: subj.size } };
    const pushed = await client.pushManifest(NAME, 'sbom', manifest);
    const { index } = await referrers(NAME, subj.digest);
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]?.digest, pushed.digest);
    assert.equal(index.manifests[0]?.artifactType, 'application/vnd.example.sbom.config+json');
    assert.equal(index.manifests[0]?.annotations, undefined);
  });

  it('a referrer pushed before its subject is listed once the subject arrives', async () => {
    const future: Descriptor = { mediaType: OCI_MANIFEST, digest: sha256('pending subject'), size: 15 };
    const early = await pushReferrer(future, { artifactType: 'application/vnd.example.early' });
    assert.equal(early.response.headers.get('oci-subject'), future.digest);
    const { index } = await referrers(NAME, future.digest);
    assert.deepEqual(index.manifests.map((m) => m.digest), [early.digest]);
  });

  it('?artifactType= filters and answers OCI-Filters-Applied: artifactType', async () => {
    const subj = await client.pushImage(NAME, 'filter');
    const sig = await pushReferrer(subj, { artifactType: 'application/vnd.example.sig' });
    await pushReferrer(subj, { artifactType: 'application/vnd.example.sbom' });
    const { res, index } = await referrers(NAME, subj.digest, `?artifactType=${encodeURIComponent('application/vnd.example.sig')}`);
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(index.manifests.map((m) => m.digest), [sig.digest]);
    const none = await referrers(NAME, subj.digest, '?artifactType=application/vnd.example.none');
    assert.deepEqual(none.index.manifests, []);
    assert.equal(none.res.headers.get('oci-filters-applied'), 'artifactType');
    const unfiltered = await referrers(NAME, subj.digest);
    assert.equal(unfiltered.res.headers.get('oci-filters-applied'), null);
  });

  it('pages beyond one response via Link (page size 2)', async () => {
    const subj = await client.pushImage(NAME, 'paged');
    const pushed: string[] = [];
    for (let i = 0; i < 5; i++) pushed.push((await pushReferrer(subj, { artifactType: 'application/vnd.example.many', annotations: { i: String(i) } })).digest);
    const first = await referrers(NAME, subj.digest);
    assert.equal(first.index.manifests.length, 2);
    const link = first.res.headers.get('link') ?? '';
    assert.match(link, new RegExp(`^</v2/${NAME}/referrers/${subj.digest}\\?[^>]*last=[^>]+>; rel="next"$`));
    const { pages, digests } = await allPages(`/v2/${NAME}/referrers/${subj.digest}`);
    assert.equal(pages, 3);
    assert.deepEqual([...digests].sort(), [...pushed].sort());
    assert.equal(new Set(digests).size, 5, 'no descriptor twice');
  });

  it('paging keeps the artifactType filter in the Link', async () => {
    const subj = await client.pushImage(NAME, 'paged-filter');
    const wanted: string[] = [];
    for (let i = 0; i < 3; i++) wanted.push((await pushReferrer(subj, { artifactType: 'application/vnd.example.keep', annotations: { i: String(i) } })).digest);
    await pushReferrer(subj, { artifactType: 'application/vnd.example.drop' });
    const first = await referrers(NAME, subj.digest, '?artifactType=application/vnd.example.keep');
    const link = first.res.headers.get('link');
    if (link !== null) assert.match(link, /artifactType=application%2Fvnd\.example\.keep/);
    const { digests } = await allPages(`/v2/${NAME}/referrers/${subj.digest}?artifactType=application/vnd.example.keep`);
    assert.deepEqual([...digests].sort(), [...wanted].sort());
  });

  it('deleting a referrer removes it from the list', async () => {
    const subj = await client.pushImage(NAME, 'deleting');
    const keep = await pushReferrer(subj, { artifactType: 'application/vnd.example.keep' });
    const gone = await pushReferrer(subj, { artifactType: 'application/vnd.example.gone' });
    assert.equal((await referrers(NAME, subj.digest)).index.manifests.length, 2);
    const del = await client.request(`/v2/${NAME}/manifests/${gone.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const { index } = await referrers(NAME, subj.digest);
    assert.deepEqual(index.manifests.map((m) => m.digest), [keep.digest]);
  });

  it('an index with a subject is a referrer; without artifactType it has none', async () => {
    const subj = await client.pushImage(NAME, 'by-index');
    const child = await pushReferrer(subj, { artifactType: 'application/vnd.example.child' });
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.size }],
      subject: { mediaType: subj.mediaType, digest: subj.digest, size: subj.size },
      annotations: { kind: 'bundle' },
    };
    const pushed = await client.pushManifest(NAME, 'bundle', index, OCI_INDEX);
    assert.equal(pushed.response.headers.get('oci-subject'), subj.digest);
    const list = (await referrers(NAME, subj.digest)).index.manifests;
    const entry = list.find((m) => m.digest === pushed.digest);
    assert.deepEqual(entry, { mediaType: OCI_INDEX, digest: pushed.digest, size: pushed.size, annotations: { kind: 'bundle' } });
    assert.ok(!('artifactType' in (entry ?? {})));
  });

  it('an index with artifactType lists it', async () => {
    const subj = await client.pushImage(NAME, 'by-index-typed');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.example.bundle', manifests: [], subject: { mediaType: subj.mediaType, digest: subj.digest, size: subj.size } };
    const pushed = await client.pushManifest(NAME, 'bundle-typed', index, OCI_INDEX);
    const { index: listed } = await referrers(NAME, subj.digest);
    assert.deepEqual(listed.manifests, [{ mediaType: OCI_INDEX, digest: pushed.digest, size: pushed.size, artifactType: 'application/vnd.example.bundle' }]);
  });

  it('referrers are per repository', async () => {
    const subj = await client.pushImage(NAME, 'scoped');
    await pushReferrer(subj, { artifactType: 'application/vnd.example.sig' });
    const { index } = await referrers('referrers/other', subj.digest);
    assert.deepEqual(index.manifests, []);
  });
});

describe('referrers of the shared subject', () => {
  it('the subject pushed at start has no referrers', async () => {
    const { index } = await referrers(NAME, subject.digest);
    assert.deepEqual(index.manifests, []);
  });
});
