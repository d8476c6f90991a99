/**
 * Interoperability with distribution's own registry (Debian package docker-registry, 2.8.2) on ONE
 * storage root: Wharf and `docker-registry serve` run side by side on the same directory, started
 * from the same config.yml. Images pushed to either are pulled intact through the other (skopeo,
 * every digest compared and re-hashed, index included), and distribution's `garbage-collect` run
 * on a root Wharf wrote removes only what nothing reaches, after which Wharf serves everything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, buildIndex, imageBlobs, writeLayout, type BuiltImage, type LayoutBlob } from '../helpers/oci-layout.js';
import { requireProgram, run, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { assertSameFiles, expectedFiles, fileHashes, makeClients, sha256Hex, unpackImage, verifyLayout, type Clients } from '../helpers/clients.js';
import { TestClient } from '../helpers/client.js';
import { distributionConfig, freePort, startDistribution, type RunningDistribution } from '../helpers/distribution.js';

type Files = Readonly<Record<string, Buffer | string>>;

const digestsOf = (blobs: readonly LayoutBlob[]) => new Set(blobs.map((b) => b.digest));

describe('distribution and Wharf on one storage root', () => {
  let work: string;
  let root: string;
  let configFile: string;
  let clients: Clients;
  let wharf: WharfProcess | undefined;
  let distribution: RunningDistribution | undefined;
  let distributionHost: string;

  const image = (tag: string): { files: Files[]; built: BuiltImage } => {
    const files: Files[] = [{ [`etc/${tag}.txt`]: `${tag}\n`, 'bin/tool': randomBytes(30_000) }, { 'var/data.bin': randomBytes(20_000) }];
    return { files, built: buildImage(files) };
  };
  const platforms = () => {
    const amd = buildImage([{ 'etc/arch': 'amd64\n', 'lib/a.so': randomBytes(8_000) }], { architecture: 'amd64', os: 'linux' });
    const arm = buildImage([{ 'etc/arch': 'arm64\n', 'lib/b.so': randomBytes(8_000) }], { architecture: 'arm64', os: 'linux' });
    return { amd, arm, index: buildIndex([amd, arm]) };
  };
  /** What was pushed, by `<repo>:<tag>`: the top digest and every blob reachable from it. */
  const pushed = new Map<string, { top: string; digests: Set<string>; raw: string; files?: Files[]; image?: BuiltImage }>();

  /** Manifests pushed in the gc test that no tag reaches, by digest → description. */
  const untaggedManifests = new Map<string, string>();
  let referrerSubject = '';

  const wharfImage = image('wharf');
  const wharfMulti = platforms();
  const distImage = image('dist');
  const distMulti = platforms();

  async function startWharf(): Promise<WharfProcess> {
    // The very config.yml distribution runs with; only the listen address and log level differ.
    return startWharfProcess({ REGISTRY_LOG_LEVEL: 'info' }, configFile);
  }

  /** Pushes a layout with skopeo to `host`, recording what must be there afterwards. */
  async function push(host: string, layout: string, repoTag: string, top: LayoutBlob, blobs: LayoutBlob[], extra: { all?: boolean; v2s2?: boolean; files?: Files[]; image?: BuiltImage } = {}): Promise<void> {
    await clients.skopeo(['copy', '--dest-tls-verify=false', ...(extra.all === true ? ['--all'] : []), ...(extra.v2s2 === true ? ['--format', 'v2s2'] : ['--preserve-digests']), `oci:${layout}:v1`, `docker://${host}/${repoTag}`]);
    const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/${repoTag}`]);
    if (extra.v2s2 === true) {
      const digests = new Set([...digestsOf(blobs)].filter((d) => d !== top.digest));
      digests.add(`sha256:${sha256Hex(raw)}`);
      pushed.set(repoTag, { top: `sha256:${sha256Hex(raw)}`, digests, raw, ...extra });
    } else {
      assert.equal(raw, top.content.toString(), `${repoTag} is stored as pushed`);
      pushed.set(repoTag, { top: top.digest, digests: digestsOf([top, ...blobs]), raw, ...extra });
    }
  }

  /** Pulls `repoTag` from `host` (all platforms), re-hashes everything, compares digests and files. */
  async function pullAndVerify(host: string, repoTag: string): Promise<void> {
    const expected = pushed.get(repoTag)!;
    const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/${repoTag}`]);
    assert.equal(raw, expected.raw, `${repoTag} via ${host}: the manifest is byte-identical`);
    const name = `${repoTag.replace(/[/:]/g, '_')}-${Math.random().toString(36).slice(2, 8)}`;
    const out = join(work, 'pulls', name);
    await mkdir(join(work, 'pulls'), { recursive: true });
    await clients.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/${repoTag}`, `oci:${out}:v1`]);
    const pulled = await verifyLayout(out, 'v1');
    assert.equal(pulled.top, expected.top, `${repoTag} via ${host}: top digest`);
    assert.deepEqual([...pulled.digests].sort(), [...expected.digests].sort(), `${repoTag} via ${host}: every blob`);
    if (expected.files !== undefined) {
      const rootfs = join(work, 'rootfs', name);
      await unpackImage(out, pulled.manifests.get(pulled.top)!, rootfs);
      assertSameFiles(await fileHashes(rootfs), expectedFiles(expected.files), `${repoTag} via ${host}`);
    }
  }

  const blobPath = (digest: string) => join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data');
  const exists = (path: string) => access(path).then(() => true, () => false);

  async function stopBoth(): Promise<void> {
    await wharf?.stop();
    wharf = undefined;
    await distribution?.stop();
    distribution = undefined;
  }

  before(async () => {
    requireProgram('docker-registry');
    requireProgram('skopeo');
    work = await mkdtemp(join(tmpdir(), 'wharf-interop-'));
    root = join(work, 'root');
    await mkdir(root);
    distributionHost = `127.0.0.1:${await freePort()}`;
    configFile = join(work, 'config.yml');
    await writeFile(configFile, distributionConfig(root, distributionHost, { accessLog: true }));
    wharf = await startWharf();
    distribution = await startDistribution(configFile, distributionHost);
    clients = await makeClients(join(work, 'clients'), [wharf.host, distributionHost]);
    for (const [dir, built] of [['wharf-image', wharfImage.built], ['dist-image', distImage.built]] as const) await writeLayout(join(work, dir), 'v1', built.manifest, imageBlobs(built));
    for (const [dir, m] of [['wharf-multi', wharfMulti], ['dist-multi', distMulti]] as const) await writeLayout(join(work, dir), 'v1', m.index, [...imageBlobs(m.amd), ...imageBlobs(m.arm)]);
  });

  after(async () => {
    await stopBoth();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('images pushed to Wharf are pulled intact through distribution', async () => {
    const w = wharf!;
    await push(w.host, join(work, 'wharf-image'), 'wharf/app:v1', wharfImage.built.manifest, imageBlobs(wharfImage.built).slice(1), { files: wharfImage.files, image: wharfImage.built });
    await push(w.host, join(work, 'wharf-multi'), 'wharf/multi:v1', wharfMulti.index, [...imageBlobs(wharfMulti.amd), ...imageBlobs(wharfMulti.arm)], { all: true });
    await push(w.host, join(work, 'wharf-image'), 'wharf/docker:v1', wharfImage.built.manifest, imageBlobs(wharfImage.built).slice(1), { v2s2: true, files: wharfImage.files });
    for (const repoTag of ['wharf/app:v1', 'wharf/multi:v1', 'wharf/docker:v1']) await pullAndVerify(distributionHost, repoTag);
    for (const child of [wharfMulti.amd, wharfMulti.arm]) {
      const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${distributionHost}/wharf/multi@${child.manifest.digest}`]);
      assert.equal(raw, child.manifest.content.toString(), 'an index child by digest, through distribution');
    }
    const tags = JSON.parse(await clients.skopeo(['list-tags', '--tls-verify=false', `docker://${distributionHost}/wharf/app`])) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
    const catalog = (await (await fetch(`http://${distributionHost}/v2/_catalog`)).json()) as { repositories: string[] };
    for (const repo of ['wharf/app', 'wharf/multi', 'wharf/docker']) assert.ok(catalog.repositories.includes(repo), `distribution's catalog lists ${repo}`);
  });

  it('images pushed to distribution are pulled intact through Wharf', async () => {
    await push(distributionHost, join(work, 'dist-image'), 'dist/app:v1', distImage.built.manifest, imageBlobs(distImage.built).slice(1), { files: distImage.files, image: distImage.built });
    await push(distributionHost, join(work, 'dist-multi'), 'dist/multi:v1', distMulti.index, [...imageBlobs(distMulti.amd), ...imageBlobs(distMulti.arm)], { all: true });
    await push(distributionHost, join(work, 'dist-image'), 'dist/docker:v1', distImage.built.manifest, imageBlobs(distImage.built).slice(1), { v2s2: true, files: distImage.files });
    const w = wharf!;
    for (const repoTag of ['dist/app:v1', 'dist/multi:v1', 'dist/docker:v1']) await pullAndVerify(w.host, repoTag);
    for (const child of [distMulti.amd, distMulti.arm]) {
      const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${w.host}/dist/multi@${child.manifest.digest}`]);
      assert.equal(raw, child.manifest.content.toString(), 'an index child by digest, through Wharf');
    }
    const tags = JSON.parse(await clients.skopeo(['list-tags', '--tls-verify=false', `docker://${w.host}/dist/app`])) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
    // And Wharf can add to what distribution wrote: a new tag in a distribution repository.
    await push(w.host, join(work, 'wharf-image'), 'dist/app:from-wharf', wharfImage.built.manifest, imageBlobs(wharfImage.built).slice(1), { files: wharfImage.files });
    await pullAndVerify(distributionHost, 'dist/app:from-wharf');
    const both = JSON.parse(await clients.skopeo(['list-tags', '--tls-verify=false', `docker://${distributionHost}/dist/app`])) as { Tags: string[] };
    assert.deepEqual([...both.Tags].sort(), ['from-wharf', 'v1']);
  });

  it('distribution\'s garbage-collect on a root Wharf wrote keeps everything a tag or an index reaches', { timeout: 180_000 }, async () => {
    const client = new TestClient(wharf!.url);
    // Through Wharf: an untagged manifest (pushed by digest), an artifact referring to wharf/app:v1,
    // a deleted manifest whose layer nothing else uses, and a blob no manifest references.
    const untagged = await client.pushImage('wharf/untagged', 'moving', { layerSize: 3000 });
    // Moving the tag to another image leaves the first one untagged (but still a revision).
    const other = await client.pushImage('wharf/untagged', 'moving', { layerSize: 3000 });
    const subject = wharfImage.built.manifest;
    // An artifact referring to wharf/app:v1, pushed by digest only (as referrers usually are).
    const artifactConfig = await client.pushBlob('wharf/app', Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
    const artifactLayer = await client.pushBlob('wharf/app', randomBytes(500), 'application/octet-stream');
    const artifactManifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.example.sbom.v1+json',
      config: artifactConfig,
      layers: [artifactLayer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    });
    const artifactPushed = await client.pushManifest('wharf/app', `sha256:${sha256Hex(artifactManifest)}`, artifactManifest);
    const artifact = { digest: artifactPushed.digest, config: artifactConfig, layers: [artifactLayer] };
    untaggedManifests.set(untagged.digest, 'wharf/untagged (tag moved away)');
    untaggedManifests.set(artifact.digest, 'wharf/app referrer artifact (pushed by digest)');
    referrerSubject = subject.digest;
    const gone = await client.pushImage('wharf/gone', 'v1', { layerSize: 5000 });
    const deleted = await client.request(`/v2/wharf/gone/manifests/${gone.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const orphan = await client.pushBlob('wharf/orphan', randomBytes(4000));

    const reachable = new Set<string>();
    for (const entry of pushed.values()) for (const d of entry.digests) reachable.add(d);
    for (const part of [untagged, other, artifact]) {
      reachable.add(part.digest);
      reachable.add(part.config.digest);
      for (const l of part.layers) reachable.add(l.digest);
    }
    // wharf/app:from-wharf in the distribution repo points at wharfImage: already in `reachable`.
    const unreachable = [orphan.digest, ...gone.layers.map((l) => l.digest)];
    for (const d of [...reachable, ...unreachable]) assert.ok(await exists(blobPath(d)), `${d} is stored before gc`);

    await stopBoth();
    const gc = await run('docker-registry', ['garbage-collect', configFile], { timeoutMs: 120_000 });
    assert.equal(gc.code, 0, `garbage-collect failed:\n${gc.stderr}${gc.stdout}`);

    const lost = [];
    for (const d of reachable) if (!(await exists(blobPath(d)))) lost.push(d);
    assert.deepEqual(lost, [], 'garbage-collect deleted nothing a tag, an index or a revision reaches');
    for (const d of unreachable) assert.equal(await exists(blobPath(d)), false, `${d} (unreferenced) was collected: gc did run`);

    wharf = await startWharf();
    for (const repoTag of pushed.keys()) await pullAndVerify(wharf.host, repoTag);
    const untaggedRaw = await client.request(`${wharf.url}/v2/wharf/untagged/manifests/${untagged.digest}`, { headers: { Accept: untagged.mediaType } });
    assert.equal(untaggedRaw.status, 200, 'the untagged manifest is still served by digest');
    assert.equal(`sha256:${sha256Hex(Buffer.from(await untaggedRaw.arrayBuffer()))}`, untagged.digest);
    const referrers = (await (await fetch(`${wharf.url}/v2/wharf/app/referrers/${subject.digest}`)).json()) as { manifests: { digest: string }[] };
    assert.deepEqual(referrers.manifests.map((m) => m.digest), [artifact.digest], 'the referrer survives');
    // Blobs gc removed answer 404 through Wharf (their repository links remain), never a 500.
    const orphanBlob = await fetch(`${wharf.url}/v2/wharf/orphan/blobs/${orphan.digest}`, { method: 'HEAD' });
    assert.equal(orphanBlob.status, 404);
    const goneLayer = await fetch(`${wharf.url}/v2/wharf/gone/blobs/${gone.layers[0]!.digest}`);
    assert.equal(goneLayer.status, 404);
    // Wharf can push again where gc swept: the collected blob is uploaded anew and served.
    const again = await new TestClient(wharf.url).pushBlob('wharf/orphan', randomBytes(10));
    assert.equal((await fetch(`${wharf.url}/v2/wharf/orphan/blobs/${again.digest}`)).status, 200);
  });

  it('documents garbage-collect --delete-untagged on a root holding OCI indexes', { timeout: 120_000 }, async (t) => {
    // distribution 2.8.2 is known to treat the children of an index as untagged and delete them;
    // this records what it does on this root and checks that Wharf copes (404s, no 5xx).
    await stopBoth();
    const names = new Map(untaggedManifests);
    for (const [repo, m] of [['wharf/multi', wharfMulti], ['dist/multi', distMulti]] as const) {
      for (const child of [m.amd, m.arm]) names.set(child.manifest.digest, `${repo} index child ${child.platform.architecture}`);
    }
    const gc = await run('docker-registry', ['garbage-collect', '--delete-untagged', configFile], { timeoutMs: 120_000 });
    t.diagnostic(`garbage-collect --delete-untagged exited ${gc.code}`);
    const output = gc.stdout + gc.stderr;
    for (const line of output.split('\n')) {
      const m = /manifest eligible for deletion: (sha256:[0-9a-f]{64})/.exec(line);
      if (m !== null) t.diagnostic(`deleted manifest ${m[1]}: ${names.get(m[1]!) ?? 'unexpected'}`);
      if (/blobs marked/.test(line)) t.diagnostic(line.trim());
    }
    assert.equal(gc.code, 0);

    wharf = await startWharf();
    await mkdir(join(work, 'after-untagged'), { recursive: true });
    const outcome: Record<string, string> = {};
    for (const [repoTag, entry] of pushed) {
      const r = await run('skopeo', ['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${wharf.host}/${repoTag}`, `oci:${join(work, 'after-untagged', repoTag.replace(/[/:]/g, '_'))}:v1`], { env: clients.env, timeoutMs: 60_000 });
      outcome[repoTag] = r.code === 0 ? 'pulls intact' : `fails: ${/manifest unknown[^"]*/.exec(r.stderr)?.[0] ?? r.stderr.trim().split('\n').pop() ?? ''}`;
      t.diagnostic(`${repoTag} (${entry.top}) after --delete-untagged: ${outcome[repoTag]}`);
    }
    // Tagged single-platform images survive, in either format, whoever wrote them.
    for (const repoTag of ['wharf/app:v1', 'wharf/docker:v1', 'dist/app:v1', 'dist/app:from-wharf', 'dist/docker:v1']) assert.equal(outcome[repoTag], 'pulls intact', repoTag);
    // Whatever distribution removed, Wharf answers 404 for it, never a 5xx.
    for (const [digest, name] of names) {
      const repo = name.split(' ')[0]!;
      const r = await fetch(`${wharf.url}/v2/${repo}/manifests/${digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      t.diagnostic(`${name} ${digest} through Wharf → ${r.status}`);
      assert.ok(r.status === 200 || r.status === 404, `${name}: ${r.status}`);
    }
    const referrers = await fetch(`${wharf.url}/v2/wharf/app/referrers/${referrerSubject}`);
    const listed = (await referrers.json()) as { manifests: { digest: string }[] };
    t.diagnostic(`referrers of wharf/app:v1 after --delete-untagged → ${referrers.status}, ${JSON.stringify(listed.manifests.map((m) => m.digest))}`);
    assert.equal(referrers.status, 200);
  });
});
