/**
 * An htpasswd file of bcrypt entries (`user:$2y$…`, `$2a$`, `$2b$`), as distribution reads it.
 * The file is re-read when its modification time or size changes (checked at most once a second),
 * so users are added and removed without a restart. Verified passwords are remembered (by a hash
 * of user and password, never the password itself) until the file changes, because bcrypt costs
 * tens of milliseconds and clients send Basic credentials with every request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { createSecretFile, fileExists } from './secret-file.js';

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const STAT_INTERVAL_MS = 1000;
const MAX_REMEMBERED = 10_000;

export interface HtpasswdEntries {
  readonly users: ReadonlyMap<string, string>;
  /** Lines that are not `user:bcrypt-hash`, by line number, for a warning. */
  readonly invalidLines: readonly number[];
}

export function parseHtpasswd(text: string): HtpasswdEntries {
  const users = new Map<string, string>();
  const invalidLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !BCRYPT.test(hash)) invalidLines.push(index + 1);
    else users.set(user, hash);
  });
  return { users, invalidLines };
}

/** The user a missing `auth.htpasswd.path` is created with, as distribution names it. */
export const PROVISIONED_USER = 'docker';

/**
 * Creates a missing htpasswd file (and its directory, 0700) holding one user, `docker`, with a
 * random password, as distribution does at start-up. Returns that password, to be logged once, or
 * undefined when the file exists.
 */
export function provisionHtpasswd(path: string, cost = 10): string | undefined {
  if (fileExists(path)) return undefined;
  const password = randomBytes(32).toString('base64url');
  // Another instance may make it first: then its password, not this one, is the one to log.
  return createSecretFile(path, `${entry(PROVISIONED_USER, bcrypt.hashSync(password, cost))}\n`) ? password : undefined;
}

/** A bcrypt htpasswd line for `user` (`$2y$`, as `htpasswd -B` writes). */
export async function htpasswdLine(user: string, password: string, cost = 10): Promise<string> {
  if (user === '' || user.includes(':') || /\s/.test(user)) throw new Error(`invalid user name ${JSON.stringify(user)}: no colon, no spaces, not empty`);
  return entry(user, await bcrypt.hash(password, cost));
}

/** `user:hash`, the hash spelled `$2y$` as `htpasswd -B` writes it. */
function entry(user: string, hash: string): string {
  return `${user}:${hash.replace(/^\$2[ab]\$/, '$2y$')}`;
}

export class HtpasswdFile {
  private entries: HtpasswdEntries;
  private version: string;
  private checkedAt = Date.now();
  private checking: Promise<void> | undefined;
  /** sha256(version, user, password) of credentials verified against the current version. */
  private readonly verified = new Set<string>();

  /** Reads the file now: a missing or unreadable file, or a directory, is a start-up error. */
  constructor(readonly path: string, private readonly onWarning: (message: string) => void = () => {}) {
    const info = statSync(path);
    if (info.isDirectory()) throw new Error(`htpasswd file ${path} is a directory: name the file of user:bcrypt-hash lines in it`);
    this.version = `${info.mtimeMs}:${info.size}`;
    this.entries = parseHtpasswd(readFileSync(path, 'utf8'));
    this.warnInvalid();
  }

  has(user: string): boolean {
    return this.entries.users.has(user);
  }

  async verify(user: string, password: string): Promise<boolean> {
    await this.refresh();
    const hash = this.entries.users.get(user);
    if (hash === undefined) return false;
    const key = createHash('sha256').update(this.version).update('\0').update(user).update('\0').update(password).digest('base64');
    if (this.verified.has(key)) return true;
    const ok = await bcrypt.compare(password, hash);
    if (ok) {
      if (this.verified.size >= MAX_REMEMBERED) this.verified.clear();
      this.verified.add(key);
    }
    return ok;
  }

  /** Re-reads the file when it changed; at most one stat a second, one at a time. */
  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.checkedAt < STAT_INTERVAL_MS) return;
    this.checking ??= this.reload().finally(() => {
      this.checking = undefined;
    });
    await this.checking;
  }

  private async reload(): Promise<void> {
    this.checkedAt = Date.now();
    try {
      const info = await stat(this.path);
      const version = `${info.mtimeMs}:${info.size}`;
      if (version === this.version) return;
      this.entries = parseHtpasswd(await readFile(this.path, 'utf8'));
      this.version = version;
      this.verified.clear();
      this.warnInvalid();
    } catch (err) {
      // Keep the users we know rather than locking everyone out while the file is being replaced.
      this.onWarning(`htpasswd file ${this.path} could not be read (${(err as Error).message}); keeping the previous users`);
    }
  }

  private warnInvalid(): void {
    if (this.entries.invalidLines.length > 0) {
      this.onWarning(`htpasswd file ${this.path}: lines ${this.entries.invalidLines.join(', ')} are not user:bcrypt-hash entries and are ignored`);
    }
  }
}
