/** `wharf htpasswd add USER -f FILE`: writes a bcrypt entry the registry accepts, replacing an old one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HtpasswdFile } from '../../src/auth/htpasswd.js';
import { withEntry } from '../../src/cli/htpasswd-command.js';
import { MAIN } from '../helpers/process.js';

function add(file: string, user: string, password: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, 'htpasswd', 'add', user, '-f', file, '--cost', '4'], { input: `${password}\n`, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stderr: result.stderr };
}

test('wharf htpasswd add writes $2y$ entries, replaces a user, and the file verifies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-htpasswd-cli-'));
  try {
    const file = join(dir, 'htpasswd');
    assert.equal(add(file, 'alice', 'first').status, 0);
    assert.equal(add(file, 'bob', 'bobs').status, 0);
    assert.equal(add(file, 'alice', 'second').status, 0);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^alice:\$2y\$04\$[./A-Za-z0-9]{53}\nbob:\$2y\$04\$[./A-Za-z0-9]{53}\n$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const users = new HtpasswdFile(file);
    assert.equal(await users.verify('alice', 'second'), true);
    assert.equal(await users.verify('alice', 'first'), false);
    assert.equal(await users.verify('bob', 'bobs'), true);
    const bad = add(file, 'no:colons', 'x');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid user name/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('withEntry keeps other lines and ends with a newline', () => {
  assert.equal(withEntry('# users\na:1\nb:2\n', 'a', 'a:3'), '# users\na:3\nb:2\n');
  assert.equal(withEntry('', 'c', 'c:1'), 'c:1\n');
});
