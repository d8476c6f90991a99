/**
 * Content discovery: tags/list (end-8) and _catalog — ordering, n, last, n=0, the exact Link
 * header, bad n, catalog.maxentries, unknown repositories.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, errorCode } from '../helpers/client.js';
import { DEFAULT_LIMITS } from '../../src/startup.js';

let wharf: TestWharf;
let client: TestClient;
const NAME = 'discovery/app';
// Pushed out of order; byte order is 1.0, A, B, a, b, c, latest, v_2.
const TAGS = ['latest', 'b', 'A', 'c', 'a', '1.0', 'v_2', 'B'];
const SORTED = [...TAGS].sort();

before(async () => {
  wharf = await startTestWharf();
  client = new TestClient(wharf.url);
  const config = await client.pushBlob(NAME, Buffer.from('{}'), OCI_CONFIG);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] };
  for (const tag of TAGS) await client.pushManifest(NAME, tag, manifest);
});
after(() => wharf.stop(0));

async function tags(query = '', name = NAME): Promise<{ res: Response; body: { name: string; tags: string[] } }> {
  const res = await client.request(`/v2/${name}/tags/list${query}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return { res, body: (await res.json()) as { name: string; tags: string[] } };
}

describe('tags/list', () => {
  it('lists every tag, sorted, with the name', async () => {
    const { res, body } = await tags();
    assert.deepEqual(body, { name: NAME, tags: SORTED });
    assert.equal(res.headers.get('link'), null);
  });

  it('n limits and Link points at the next page in distribution’s exact format', async () => {
    const { res, body } = await tags('?n=3');
    assert.deepEqual(body.tags, SORTED.slice(0, 3));
    assert.equal(res.headers.get('link'), `</v2/${NAME}/tags/list?last=${SORTED[2]}&n=3>; rel="next"`);
  });

  it('following Link pages through every tag exactly once', async () => {
    const seen: string[] = [];
    let next: string | undefined = `/v2/${NAME}/tags/list?n=3`;
    let pages = 0;
    while (next !== undefined) {
      const res = await client.request(next);
      assert.equal(res.status, 200);
      seen.push(...((await res.json()) as { tags: string[] }).tags);
      const link = res.headers.get('link');
      next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
      pages++;
      assert.ok(pages < 10);
    }
    assert.deepEqual(seen, SORTED);
    assert.equal(pages, 3);
  });

  it('last starts strictly after the given tag', async () => {
    const { body } = await tags('?last=a');
    assert.deepEqual(body.tags, SORTED.filter((t) => t > 'a'));
    const between = await tags('?last=ab');
    assert.deepEqual(between.body.tags, SORTED.filter((t) => t > 'ab'));
  });

  it('n and last together', async () => {
    const { res, body } = await tags('?n=2&last=B');
    assert.deepEqual(body.tags, ['a', 'b']);
    assert.equal(res.headers.get('link'), `</v2/${NAME}/tags/list?last=b&n=2>; rel="next"`);
  });

  it('the last page has no Link', async () => {
    const { res, body } = await tags(`?n=2&last=${SORTED[SORTED.length - 3]}`);
    assert.deepEqual(body.tags, SORTED.slice(-2));
    assert.equal(res.headers.get('link'), null);
  });

  it('n larger than the list → everything, no Link', async () => {
    const { res, body } = await tags('?n=100');
    assert.deepEqual(body.tags, SORTED);
    assert.equal(res.headers.get('link'), null);
  });

  it('n=0 → an empty list and no Link', async () => {
    const { res, body } = await tags('?n=0');
    assert.deepEqual(body, { name: NAME, tags: [] });
    assert.equal(res.headers.get('link'), null);
  });

  it('last past every tag → an empty list', async () => {
    const { body } = await tags('?last=zzz');
    assert.deepEqual(body.tags, []);
  });

  for (const bad of ['-1', 'abc', '1.5', '1e3', '0x10', ' 2', '99999999999999999999']) {
    it(`n=${JSON.stringify(bad)} → 400 PAGINATION_NUMBER_INVALID`, async () => {
      const res = await client.request(`/v2/${NAME}/tags/list?n=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'PAGINATION_NUMBER_INVALID');
    });
  }

  it('an unknown repository → 404 NAME_UNKNOWN', async () => {
    const res = await client.request('/v2/discovery/nothing/tags/list');
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'NAME_UNKNOWN');
  });

  it('a tag deleted disappears from the list', async () => {
    await client.pushManifest(NAME, 'temp', { schemaVersion: 2, mediaType: OCI_MANIFEST, config: await client.pushBlob(NAME, randomBytes(8), OCI_CONFIG), layers: [] });
    assert.ok((await tags()).body.tags.includes('temp'));
    const del = await client.request(`/v2/${NAME}/manifests/temp`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.deepEqual((await tags()).body.tags, SORTED);
  });
});

describe('_catalog', () => {
  // Component order, as distribution walks: `a` < `a/b` < `a-c` (a directory's children come first).
  const REPOS = ['cat/b', 'cat/a-c', 'cat/a/b', 'cat/a', 'cat/c/d', 'cat/a/b/c', 'cat/a.b'];
  const ORDERED = ['cat/a', 'cat/a/b', 'cat/a/b/c', 'cat/a-c', 'cat/a.b', 'cat/b', 'cat/c/d'];
  let catWharf: TestWharf;
  let cat: TestClient;

  before(async () => {
    catWharf = await startTestWharf({ limits: { ...DEFAULT_LIMITS, catalogMaxEntries: 5 } });
    cat = new TestClient(catWharf.url);
    for (const repo of REPOS) await cat.pushImage(repo, 'latest');
    // An upload alone does not make a repository.
    const upload = await cat.request('/v2/cat/uploads-only/blobs/uploads/', { method: 'POST' });
    assert.equal(upload.status, 202);
  });
  after(() => catWharf.stop(0));

  async function catalog(query = ''): Promise<{ res: Response; repositories: string[] }> {
    const res = await cat.request(`/v2/_catalog${query}`);
    assert.equal(res.status, 200);
    return { res, repositories: ((await res.json()) as { repositories: string[] }).repositories };
  }

  it('lists repositories in component order; the default page is capped by catalog.maxentries', async () => {
    const { res, repositories } = await catalog();
    assert.deepEqual(repositories, ORDERED.slice(0, 5));
    assert.equal(res.headers.get('link'), `</v2/_catalog?last=${encodeURIComponent(ORDERED[4] ?? '')}&n=5>; rel="next"`);
  });

  it('n and Link in distribution’s exact format', async () => {
    const { res, repositories } = await catalog('?n=2');
    assert.deepEqual(repositories, ORDERED.slice(0, 2));
    assert.equal(res.headers.get('link'), '</v2/_catalog?last=cat%2Fa%2Fb&n=2>; rel="next"');
  });

  it('following Link walks every repository once', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v2/_catalog?n=3';
    while (next !== undefined) {
      const res = await cat.request(next);
      seen.push(...((await res.json()) as { repositories: string[] }).repositories);
      const link = res.headers.get('link');
      next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    }
    assert.deepEqual(seen, ORDERED);
  });

  it('last starts strictly after, in component order', async () => {
    assert.deepEqual((await catalog('?last=cat/a/b')).repositories, ORDERED.slice(2, 7));
    assert.deepEqual((await catalog('?last=cat/a-c&n=5')).repositories, ['cat/a.b', 'cat/b', 'cat/c/d']);
    assert.deepEqual((await catalog('?last=cat/a/b/c&n=1')).repositories, ['cat/a-c']);
  });

  it('the last page has no Link', async () => {
    const { res, repositories } = await catalog('?n=5&last=cat/a-c');
    assert.equal(repositories.length, 3);
    assert.equal(res.headers.get('link'), null);
  });

  it('n=0 → an empty list, no Link', async () => {
    const { res, repositories } = await catalog('?n=0');
    assert.deepEqual(repositories, []);
    assert.equal(res.headers.get('link'), null);
  });

  for (const bad of ['-1', 'x', '2.5']) {
    it(`n=${bad} → 400 PAGINATION_NUMBER_INVALID`, async () => {
      const res = await cat.request(`/v2/_catalog?n=${bad}`);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'PAGINATION_NUMBER_INVALID');
    });
  }

  it('n above catalog.maxentries → 400 PAGINATION_NUMBER_INVALID; n equal to it is fine', async () => {
    const over = await cat.request('/v2/_catalog?n=6');
    assert.equal(over.status, 400);
    assert.equal(await errorCode(over), 'PAGINATION_NUMBER_INVALID');
    assert.equal((await catalog('?n=5')).repositories.length, 5);
  });

  it('a repository holding only blobs is listed; an empty registry lists nothing', async () => {
    const fresh = await startTestWharf();
    try {
      const c = new TestClient(fresh.url);
      const empty = await c.request('/v2/_catalog');
      assert.deepEqual(await empty.json(), { repositories: [] });
      await c.pushBlob('only/blobs', randomBytes(10));
      const res = await c.request('/v2/_catalog');
      assert.deepEqual(await res.json(), { repositories: ['only/blobs'] });
    } finally {
      await fresh.stop(0);
    }
  });
});
