/**
 * Where an upstream's credentials come from: fixed in the configuration, a docker `config.json`
 * (`auths`, `credHelpers`, `credsStore`), or a credential helper program run as
 * `docker-credential-<name> get` (docker's protocol: the server URL on stdin, `{"Username",
 * "Secret"}` on stdout). Credentials are never logged; errors name the source, not the secret.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface CredentialSource {
  /** The credentials to offer, or undefined to stay anonymous. */
  get(): Promise<Credentials | undefined>;
}

export const anonymous: CredentialSource = { get: async () => undefined };

export function staticCredentials(username: string, password: string): CredentialSource {
  const credentials = { username, password };
  return { get: async () => credentials };
}

/** Docker Hub's hosts all answer to the index's legacy key in config.json and helpers. */
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HUB_KEY = 'https://index.docker.io/v1/';

/** The name a helper or config.json knows a registry by. */
export function serverUrlFor(host: string): string {
  return HUB_HOSTS.has(host) ? HUB_KEY : host;
}

/** Keys of `auths` compared by host: `host`, `https://host`, `https://host/v1/`. */
function hostOfKey(key: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(key) ? key : `https://${key}`;
  try {
    const host = new URL(withScheme).host.toLowerCase();
    return HUB_HOSTS.has(host) ? 'docker.io' : host;
  } catch {
    return key.toLowerCase();
  }
}

interface DockerConfigFile {
  readonly auths?: Record<string, { auth?: string; username?: string; password?: string } | undefined>;
  readonly credHelpers?: Record<string, string | undefined>;
  readonly credsStore?: string;
}

/** Runs a credential helper program (`<program> get`). Undefined when it has nothing for the host. */
export function runHelper(program: string, serverUrl: string, timeoutMs = 30_000): Promise<Credentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`credential helper ${program} could not run: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        if (/credentials not found/i.test(out + err)) resolve(undefined);
        else reject(new Error(`credential helper ${program} exited with ${code}`));
        return;
      }
      try {
        const parsed = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
        if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string') throw new Error('no Username/Secret');
        resolve({ username: parsed.Username, password: parsed.Secret });
      } catch {
        reject(new Error(`credential helper ${program} answered something other than {"Username","Secret"}`));
      }
    });
    child.stdin.end(serverUrl);
  });
}

/** Caches what a source answers for `lifetimeMs` (helpers are programs; config files change rarely). */
export function cached(source: CredentialSource, lifetimeMs: number): CredentialSource {
  let value: { credentials: Credentials | undefined; until: number } | undefined;
  let pending: Promise<Credentials | undefined> | undefined;
  return {
    get: async () => {
      if (value !== undefined && value.until > Date.now()) return value.credentials;
      pending ??= source.get().then((credentials) => {
        value = { credentials, until: Date.now() + lifetimeMs };
        return credentials;
      }).finally(() => (pending = undefined));
      return pending;
    },
  };
}

export function helperCredentials(program: string, host: string): CredentialSource {
  return { get: () => runHelper(program, serverUrlFor(host)) };
}

/** Credentials for `host` from a docker config.json, read at each call (wrap it in `cached`). */
export function dockerConfigCredentials(path: string, host: string, helper?: string): CredentialSource {
  const wanted = hostOfKey(host);
  return {
    get: async () => {
      if (helper !== undefined) return runHelper(helperProgram(helper), serverUrlFor(host));
      let config: DockerConfigFile;
      try {
        config = JSON.parse(await readFile(path, 'utf8')) as DockerConfigFile;
      } catch (err) {
        throw new Error(`cannot read docker config ${path}: ${(err as Error).message}`);
      }
      // docker's order: a per-host helper, then the auths entry, then the default store.
      const hostHelper = Object.entries(config.credHelpers ?? {}).find(([key]) => hostOfKey(key) === wanted)?.[1];
      if (hostHelper !== undefined && hostHelper !== '') return runHelper(helperProgram(hostHelper), serverUrlFor(host));
      const helperName = config.credsStore;
      const entry = Object.entries(config.auths ?? {}).find(([key]) => hostOfKey(key) === wanted)?.[1];
      if (entry?.auth !== undefined && entry.auth !== '') {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
      if (entry?.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
      if (helperName !== undefined && helperName !== '') return runHelper(helperProgram(helperName), serverUrlFor(host));
      return undefined;
    },
  };
}

/** `pass` → `docker-credential-pass`; a path or a full program name is used as it is. */
export function helperProgram(helper: string): string {
  return helper.includes('/') || helper.startsWith('docker-credential-') ? helper : `docker-credential-${helper}`;
}
