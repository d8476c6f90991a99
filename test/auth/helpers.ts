/** Shared pieces of the auth tests: htpasswd files, clients that send credentials, auth options. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { htpasswdLine } from '../../src/auth/htpasswd.js';
import type { AccessConfig } from '../../src/auth/access-rules.js';
import type { AuthOptions } from '../../src/auth/compose.js';
import { TestClient } from '../helpers/client.js';

export const USERS = { alice: 'alice-pw', bob: 'bob-pw' } as const;

/** Writes an htpasswd file with `users` (cheap bcrypt cost) and returns its path. */
export async function writeHtpasswd(dir: string, users: Readonly<Record<string, string>> = USERS, name = 'htpasswd'): Promise<string> {
  const path = join(dir, name);
  const lines = await Promise.all(Object.entries(users).map(([user, pw]) => htpasswdLine(user, pw, 4)));
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * A config.yml for the real server with filesystem storage under `root` and the built-in token
 * service over `htpasswd`, the realm taken from the host the client asked for; `more` is appended
 * (an `access` section, `http.tls`).
 */
export function tokenServiceYaml(root: string, service: string, htpasswd: string, more = '', scheme: 'http' | 'https' = 'http'): string {
  return `version: 0.1
storage:
  filesystem:
    rootdirectory: ${root}
auth:
  token:
    realm: ${scheme}://unused.invalid/auth/token
    autoredirect: true
    service: ${service}
    issuer: ${service}
tokenservice:
  htpasswd: ${htpasswd}
${more}`;
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A TestClient that sends an Authorization header with every request. */
export class AuthClient extends TestClient {
  constructor(base: string, readonly authorization: string | undefined) {
    super(base);
  }

  override request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string> | undefined), ...(this.authorization !== undefined && { Authorization: this.authorization }) };
    return super.request(path, { ...init, headers });
  }
}

/** The rules the tests share: a public glob, a hidden one, bob's own, and a default for everything. */
export const RULES: AccessConfig = {
  groups: { admins: ['alice'] },
  rules: [
    { repository: '**', pull: ['authenticated'], push: ['admins'], delete: ['admins'] },
    { repository: 'public/*', pull: ['anonymous'], push: ['admins'] },
    { repository: 'hidden/*', pull: ['alice'], push: ['alice'] },
    { repository: 'bobs/*', push: ['bob', 'admins'] },
  ],
};

export function htpasswdAuth(path: string, access: AccessConfig = RULES, failures = 100): AuthOptions {
  return { provider: { kind: 'htpasswd', realm: 'Wharf Test', path }, access, loginLimit: { failures, windowMs: 60_000 } };
}

export function tokenServiceAuth(htpasswd: string, signingKey: string, realm: string, access: AccessConfig = RULES, failures = 100): AuthOptions {
  return {
    provider: { kind: 'token', realm, service: 'wharf-test', issuer: 'wharf-test-issuer' },
    access,
    loginLimit: { failures, windowMs: 60_000 },
    tokenService: { htpasswd, signingKey, expirationMs: 300_000, refreshExpirationMs: 3_600_000 },
  };
}
