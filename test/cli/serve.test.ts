/** The `wharf` command: serve with a file or the embedded default, refusal of bad configs, --version. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN, run, startWharfProcess } from '../helpers/process.js';

describe('wharf CLI', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'wharf-cli-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await run(process.execPath, [MAIN, '--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), version);
  });

  it('serves a distribution-style config.yml, with REGISTRY_* overrides applied over it', async () => {
    const root = join(work, 'from-file');
    const file = join(work, 'config.yml');
    await writeFile(file, `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /nonexistent/overridden
  delete:
    enabled: true
http:
  addr: 127.0.0.1:1
  prefix: /reg/
  headers:
    X-Served-By: [wharf-test]
`);
    const wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root }, file);
    try {
      const base = await fetch(`${wharf.url}/reg/v2/`);
      assert.equal(base.status, 200);
      assert.equal(base.headers.get('x-served-by'), 'wharf-test');
      assert.equal(base.headers.get('x-content-type-options'), 'nosniff');
      assert.equal((await fetch(`${wharf.url}/v2/`)).status, 404, 'only the prefix is served');
      const upload = await fetch(`${wharf.url}/reg/v2/cli/repo/blobs/uploads/`, { method: 'POST' });
      assert.equal(upload.status, 202);
      assert.match(upload.headers.get('location') ?? '', /\/reg\/v2\/cli\/repo\/blobs\/uploads\//);
      assert.ok((await stat(join(root, 'docker', 'registry', 'v2', 'repositories', 'cli', 'repo', '_uploads'))).isDirectory(), 'the env override chose the root');
      const listening = wharf.logs.find((l) => l['msg'] === 'listening');
      assert.equal(listening?.['deletes'], true);
      assert.equal(wharf.logs.filter((l) => l['msg'] === 'request').length, 0, 'log.accesslog.disabled');
    } finally {
      assert.equal(await wharf.stop('SIGTERM'), 0, 'SIGTERM stops it cleanly');
    }
  });

  it('starts on the embedded default without a file, logging JSON lines', async () => {
    const wharf = await startWharfProcess({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work, 'embedded') });
    try {
      assert.equal((await fetch(`${wharf.url}/v2/`)).status, 200);
      const listening = wharf.logs.find((l) => l['msg'] === 'listening');
      assert.equal(listening?.['config'], 'embedded default');
      assert.equal(listening?.['deletes'], false, 'deletes are off by default, as in distribution');
    } finally {
      await wharf.stop();
    }
  });

  it('refuses to start on a bad configuration, naming each bad key and the file', async () => {
    const file = join(work, 'bad.yml');
    await writeFile(file, `version: 0.1
storage:
  filesystem:
    rootdirectry: /tmp/x
http:
  adr: :5000
auth:
  htpasswd:
    path: /etc/htpasswd
`);
    const result = await run(process.execPath, [MAIN, 'serve', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /storage\.filesystem\.rootdirectry: unknown key \(did you mean rootdirectory\?\)/);
    assert.match(result.stderr, /http\.adr: unknown key/);
    assert.match(result.stderr, /auth\.htpasswd\.realm: required/);
    assert.ok(result.stderr.includes(file));
  });
});
