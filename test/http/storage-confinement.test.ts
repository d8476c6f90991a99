/**
 * Nothing is ever written outside the storage root: a filesystem-backed Wharf in a temp directory
 * takes every hostile input (traversal in names, tags, digests, upload ids, mount sources, paging
 * cursors; encoded and raw), then a sibling sentinel directory must be untouched and every file
 * under the root must lie in `docker/registry/v2` or the driver's `.wharf-staging`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import { OCI_CONFIG, OCI_MANIFEST, TestClient, sha256 } from '../helpers/client.js';
import { createStorageDriver } from '../../src/storage/drivers.js';

let dir: string;
let root: string;
let sentinel: string;
let wharf: TestWharf;
let client: TestClient;
const NAME = 'confine/app';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wharf-confine-'));
  root = join(dir, 'root');
  sentinel = join(dir, 'sentinel');
  await mkdir(join(sentinel, 'docker', 'registry', 'v2'), { recursive: true });
  await writeFile(join(sentinel, 'canary'), 'untouched');
  wharf = await startTestWharf({ driver: await createStorageDriver('filesystem', { rootdirectory: root }) });
  client = new TestClient(wharf.url);
});
after(async () => {
  await wharf.stop(0);
  await rm(dir, { recursive: true, force: true });
});

const raw = async (method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<number> =>
  (await rawRequest(wharf.url, method, path, headers, body)).status;

async function walk(base: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(base, { withFileTypes: true })) {
    const full = join(base, entry.name);
    out.push(full);
    if (entry.isDirectory()) out.push(...(await walk(full)));
  }
  return out;
}

const TRAVERSALS = [
  '..', '../..', '../../sentinel', '..%2f..%2fsentinel', '%2e%2e', '%2e%2e%2f%2e%2e%2fsentinel', '%2E%2E/%2E%2E/sentinel',
  '....//....//sentinel', '..%5c..%5csentinel', '.', '%2e', 'a/../../../sentinel', '%00', 'a%00/..',
];

describe('hostile input on a filesystem root', () => {
  it('answers every hostile request with 4xx', async () => {
    const config = await client.pushBlob(NAME, Buffer.from('{}'), OCI_CONFIG);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    await client.pushManifest(NAME, 'latest', manifest);
    const start = await client.request(`/v2/${NAME}/blobs/uploads/`, { method: 'POST' });
    const uploadPath = new URL(start.headers.get('location') ?? '').pathname;
    const content = randomBytes(64);
    const json = { 'Content-Type': OCI_MANIFEST };

    const requests: [string, string, (string | Buffer)?, Record<string, string>?][] = [];
    for (const t of TRAVERSALS) {
      // ... as the repository name
      requests.push(
        ['PUT', `/v2/${t}/manifests/latest`, manifest, json],
        ['PUT', `/v2/${t}/x/manifests/latest`, manifest, json],
        ['PUT', `/v2/${NAME}/${t}/manifests/latest`, manifest, json],
        ['POST', `/v2/${t}/blobs/uploads/`],
        ['POST', `/v2/${t}/blobs/uploads/?digest=${sha256(content)}`, content],
        ['POST', `/v2/${NAME}/${t}/blobs/uploads/?digest=${sha256(content)}`, content],
        ['POST', `/v2/${t}/blobs/uploads/?mount=${config.digest}&from=${NAME}`],
        ['GET', `/v2/${t}/tags/list`],
        ['DELETE', `/v2/${t}/manifests/latest`],
        // ... as the tag
        ['PUT', `/v2/${NAME}/manifests/${t}`, manifest, json],
        ['DELETE', `/v2/${NAME}/manifests/${t}`],
        ['PUT', `/v2/${NAME}/manifests/${sha256(manifest)}?tag=${t}`, manifest, json],
        // ... as the digest
        ['GET', `/v2/${NAME}/blobs/sha256:${t}`],
        ['DELETE', `/v2/${NAME}/blobs/sha256:${t}`],
        ['PUT', `/v2/${NAME}/manifests/sha256:${t}`, manifest, json],
        ['GET', `/v2/${NAME}/referrers/sha256:${t}`],
        ['POST', `/v2/${NAME}/blobs/uploads/?digest=sha256:${t}`, content],
        ['PUT', `${uploadPath}?digest=sha256:${t}`, content],
        // ... as the upload id
        ['GET', `/v2/${NAME}/blobs/uploads/${t}`],
        ['PATCH', `/v2/${NAME}/blobs/uploads/${t}`, content],
        ['PUT', `/v2/${NAME}/blobs/uploads/${t}?digest=${sha256(content)}`, content],
        ['DELETE', `/v2/${NAME}/blobs/uploads/${t}`],
        ['PATCH', `/v2/${NAME}/blobs/uploads/x${t}`, content],
        // ... as the mount source and paging cursors
        ['POST', `/v2/${NAME}/blobs/uploads/?mount=${config.digest}&from=${t}`],
        ['GET', `/v2/${NAME}/tags/list?last=${t}`],
        ['GET', `/v2/_catalog?last=${t}`],
        ['GET', `/v2/${NAME}/referrers/${sha256(manifest)}?last=${t}&artifactType=${t}`],
      );
    }
    for (const [method, path, body, headers] of requests) {
      const status = await raw(method, path, body, headers);
      assert.ok(status < 500, `${method} ${path} → ${status}`);
      // A mount from a bad source falls back to a session; listings with odd cursors succeed; the
      // rest is refused. None of them may reach storage outside the root.
      const mayPass = (method === 'POST' && path.includes('&from=') && path.startsWith(`/v2/${NAME}/`))
        || (method === 'GET' && path.includes('?last='));
      if (!mayPass) assert.ok(status >= 400, `${method} ${path} → ${status}`);
    }
  });

  it('left the sibling sentinel directory untouched', async () => {
    assert.deepEqual((await readdir(dir)).sort(), ['root', 'sentinel']);
    const files = (await walk(sentinel)).map((f) => relative(sentinel, f)).sort();
    assert.deepEqual(files, ['canary', 'docker', join('docker', 'registry'), join('docker', 'registry', 'v2')]);
    assert.equal(await readFile(join(sentinel, 'canary'), 'utf8'), 'untouched');
  });

  it('wrote nothing under the root outside docker/registry/v2 and .wharf-staging', async () => {
    const entries = await walk(root);
    assert.ok(entries.length > 0);
    for (const entry of entries) {
      const rel = relative(root, entry);
      assert.ok(!rel.startsWith('..'), entry);
      const top = rel.split(sep);
      const allowed = top[0] === '.wharf-staging'
        || (top[0] === 'docker' && (top.length === 1 || (top[1] === 'registry' && (top.length === 2 || top[2] === 'v2'))));
      assert.ok(allowed, `unexpected path under the root: ${rel}`);
    }
  });

  it('every repository directory written has a valid name', async () => {
    const repos = join(root, 'docker', 'registry', 'v2', 'repositories');
    const dirs = (await walk(repos)).filter((p) => !relative(repos, p).split(sep).some((c) => c.startsWith('_')));
    for (const d of dirs) {
      if (!(await stat(d)).isDirectory()) continue;
      for (const component of relative(repos, d).split(sep)) assert.match(component, /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/, d);
    }
    const res = await client.request('/v2/_catalog');
    assert.deepEqual(await res.json(), { repositories: [NAME] });
  });
});
