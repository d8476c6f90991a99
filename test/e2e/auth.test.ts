/**
 * End to end with real clients (skopeo, podman from Debian's packages) against the real server with
 * auth on: htpasswd, the built-in token service, and podman login over HTTPS with a test CA.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, imageBlobs, writeLayout } from '../helpers/oci-layout.js';
import { requireProgram, startWharfProcess, type WharfProcess } from '../helpers/process.js';
import { makeClients, verifyLayout, type Clients } from '../helpers/clients.js';
import { issue, makeCA } from '../helpers/certs.js';
import { USERS, tokenServiceYaml, writeHtpasswd } from '../auth/helpers.js';

const image = buildImage([{ 'etc/hello.txt': 'hello through auth\n' }, { 'bin/tool': Buffer.alloc(30_000, 3) }]);

const RULES_YAML = `
access:
  groups:
    admins: [alice]
  rules:
    - repository: "**"
      pull: [authenticated]
      push: [admins]
      delete: [admins]
    - repository: "public/*"
      pull: [anonymous]
      push: [admins]
`;

/** Runs a client command that must fail; returns its output for assertions. */
async function fails(clients: Clients, program: string, args: readonly string[]): Promise<string> {
  const result = await clients.raw(program, args);
  assert.notEqual(result.code, 0, `${program} ${args.join(' ')} should fail`);
  return `${result.stdout}\n${result.stderr}`;
}

interface Setup {
  readonly work: string;
  readonly wharf: WharfProcess;
  readonly clients: Clients;
  readonly layout: string;
}

async function setUp(name: string, config: (work: string) => Promise<string>, insecure: boolean): Promise<Setup> {
  requireProgram('skopeo');
  requireProgram('podman');
  // Lower case: podman names an image pulled from an OCI layout after its path.
  const work = join(tmpdir(), `wharf-e2e-${name}-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { recursive: true });
  const file = join(work, 'config.yml');
  await writeFile(file, await config(work));
  const wharf = await startWharfProcess({}, file);
  const clients = await makeClients(join(work, 'clients'), insecure ? [wharf.host] : []);
  const layout = join(work, 'layout');
  await writeLayout(layout, 'v1', image.manifest, imageBlobs(image));
  return { work, wharf, clients, layout };
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  await setup?.wharf.stop();
  if (setup !== undefined) await rm(setup.work, { recursive: true, force: true });
}

/** The shared skopeo scenario: pushes and pulls with credentials, anonymous pulls, refused pushes. */
function skopeoScenario(get: () => Setup): void {
  const ref = (repo: string) => `docker://${get().wharf.host}/${repo}`;
  const skopeo = (args: readonly string[]) => get().clients.skopeo(args);

  it('skopeo --creds pushes and pulls', async () => {
    const { layout, work } = get();
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${USERS.alice}`, `oci:${layout}:v1`, ref('private/app:v1')]);
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${USERS.alice}`, `oci:${layout}:v1`, ref('public/app:v1')]);
    const out = join(work, `pulled-${Date.now()}`);
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', `bob:${USERS.bob}`, ref('private/app:v1'), `oci:${out}:v1`]);
    assert.equal((await verifyLayout(out, 'v1')).top, image.manifest.digest);
  });

  it('anonymous pull works on the public glob and is refused elsewhere', async () => {
    const { work, clients } = get();
    const out = join(work, `anon-${Date.now()}`);
    await skopeo(['copy', '--src-tls-verify=false', '--src-no-creds', ref('public/app:v1'), `oci:${out}:v1`]);
    assert.equal((await verifyLayout(out, 'v1')).top, image.manifest.digest);
    const refused = await fails(clients, 'skopeo', ['--policy', join(clients.dir, 'policy.json'), 'inspect', '--tls-verify=false', '--no-creds', ref('private/app:v1')]);
    assert.match(refused, /unauthorized|authentication required|401/i);
  });

  it('a push without the right is refused', async () => {
    const { layout, clients } = get();
    const policy = ['--policy', join(clients.dir, 'policy.json')];
    const asBob = await fails(clients, 'skopeo', [...policy, 'copy', '--dest-tls-verify=false', '--dest-creds', `bob:${USERS.bob}`, `oci:${layout}:v1`, ref('private/bob:v1')]);
    assert.match(asBob, /denied|unauthorized|insufficient|401|403/i);
    const anonymous = await fails(clients, 'skopeo', [...policy, 'copy', '--dest-tls-verify=false', '--dest-no-creds', `oci:${layout}:v1`, ref('public/anon:v1')]);
    assert.match(anonymous, /unauthorized|authentication required|401/i);
    const wrongPassword = await fails(clients, 'skopeo', [...policy, 'copy', '--dest-tls-verify=false', '--dest-creds', 'alice:wrong', `oci:${layout}:v1`, ref('private/x:v1')]);
    assert.match(wrongPassword, /unauthorized|authentication required|401|invalid username/i);
  });
}

describe('e2e: htpasswd', () => {
  let setup: Setup | undefined;
  before(async () => {
    setup = await setUp('htpasswd', async (work) => `version: 0.1
storage:
  filesystem:
    rootdirectory: ${join(work, 'root')}
auth:
  htpasswd:
    realm: Wharf e2e
    path: ${await writeHtpasswd(work)}
${RULES_YAML}`, true);
  });
  after(async () => tearDown(setup));
  skopeoScenario(() => setup!);
});

describe('e2e: the built-in token service', () => {
  let setup: Setup | undefined;
  before(async () => {
    setup = await setUp('token', async (work) => tokenServiceYaml(join(work, 'root'), 'wharf-e2e', await writeHtpasswd(work), RULES_YAML), true);
  });
  after(async () => tearDown(setup));
  skopeoScenario(() => setup!);

  it('logs neither passwords nor tokens', () => {
    const logs = JSON.stringify(setup!.wharf.logs);
    assert.ok(logs.includes('"route":"token"'), 'the token requests were logged');
    for (const secret of [USERS.alice, USERS.bob, 'Bearer', 'eyJ']) assert.ok(!logs.includes(secret), `no ${secret} in the logs`);
  });
});

describe('e2e: podman login, push and pull over HTTPS with a test CA', () => {
  let setup: Setup | undefined;
  let certDir: string;
  before(async () => {
    setup = await setUp('tls', async (work) => {
      const ca = await makeCA(work, 'ca');
      const server = await issue(work, ca, 'server', { cn: '127.0.0.1', server: true });
      certDir = join(work, 'certs.d');
      await mkdir(certDir);
      await copyFile(ca.cert, join(certDir, 'ca.crt'));
      const tls = `http:
  tls:
    certificate: ${server.cert}
    key: ${server.key}
`;
      return tokenServiceYaml(join(work, 'root'), 'wharf-tls', await writeHtpasswd(work), `${tls}${RULES_YAML}`, 'https');
    }, false);
  });
  after(async () => tearDown(setup));

  it('logs in, pushes and pulls, trusting the CA through --cert-dir', async () => {
    const { wharf, clients, layout } = setup!;
    const host = wharf.host;
    const podman = (args: readonly string[]) => clients.podman(args);
    await podman(['pull', `oci:${layout}:v1`]);
    const local = (await podman(['images', '--format', '{{.ID}}', '--noheading'])).trim().split('\n')[0]!;
    await podman(['tag', local, `${host}/private/podman:v1`]);
    const untrusted = await fails(clients, 'podman', ['--root', join(clients.dir, 'graph'), '--runroot', join(clients.dir, 'run'), '--storage-driver', 'vfs', 'login', '-u', 'alice', '-p', USERS.alice, host]);
    assert.match(untrusted, /certificate|x509|tls/i, 'without the CA the server is not trusted');
    await assert.rejects(podman(['login', '--cert-dir', certDir, '-u', 'alice', '-p', 'wrong', host]));
    await podman(['login', '--cert-dir', certDir, '-u', 'alice', '-p', USERS.alice, host]);
    const digestFile = join(setup!.work, 'pushed-digest');
    await podman(['push', '--cert-dir', certDir, '--digestfile', digestFile, `${host}/private/podman:v1`]);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    await podman(['rmi', `${host}/private/podman:v1`]);
    await podman(['pull', '--cert-dir', certDir, `${host}/private/podman:v1`]);
    assert.match(await podman(['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(`${host}/private/podman:v1`));
    const out = join(setup!.work, 'pulled');
    await clients.skopeo(['copy', '--src-cert-dir', certDir, '--src-creds', `bob:${USERS.bob}`, `docker://${host}/private/podman:v1`, `oci:${out}:v1`]);
    assert.equal((await verifyLayout(out, 'v1')).top, digest);
    await podman(['logout', host]);
  });
});
