/**
 * Environment overrides, the distribution way (configuration/parser.go):
 *
 * - `REGISTRY_` + the upper-cased key path joined with `_` sets that key:
 *   `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv` sets `storage.filesystem.rootdirectory`;
 *   a numeric segment indexes a list (`REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW_0`).
 * - The value is parsed as YAML, so `true`, `42`, `[a, b]` and `{k: v}` have their YAML types.
 * - Variables apply in lexical order of their names, so `REGISTRY_STORAGE` comes before
 *   `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`.
 * - `REGISTRY_STORAGE=<driver>` selects the driver: it replaces the driver section (and its
 *   parameters) with an empty one of that name; the other storage settings stay.
 * - `REGISTRY_AUTH=<provider>` makes the auth section that provider with no parameters, which
 *   `REGISTRY_AUTH_<PROVIDER>_*` then set (Docker's documented `REGISTRY_AUTH=htpasswd` setup).
 *
 * Unlike distribution, which logs and skips a variable that names no key, Wharf reports it as a
 * configuration problem (validation does that, as an unknown key set by the variable). Variables
 * that Kubernetes and Docker links define for a service or container called "registry"
 * (`REGISTRY_PORT`, `REGISTRY_SERVICE_HOST`, `REGISTRY_PORT_5000_TCP_ADDR`, …) are skipped silently
 * when they name no key.
 */
import type * as z from 'zod';
import { parseYamlValue } from './yaml.js';
import { describeValue } from './duration.js';
import { formatPath, type KeyPath, type Problem } from './problems.js';
import { isKnownEnvPath } from './schema-walk.js';
import { STORAGE_SETTINGS } from './schema-storage.js';

export const ENV_PREFIX = 'REGISTRY_';

/** Service-link variables of a Kubernetes Service or Docker link whose name starts with "registry". */
const SERVICE_LINK =
  /^REGISTRY(?:_[A-Z0-9]+)*_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT|PORT_\d+_(?:TCP|UDP|SCTP)(?:_(?:ADDR|PORT|PROTO))?|NAME|ENV_[A-Za-z0-9_]+)$/;

export interface EnvOverlay {
  /** The document with the overrides applied (a copy; the input is not modified). */
  readonly document: Record<string, unknown>;
  /** Which variable set which key: formatted key path → variable name. */
  readonly origins: ReadonlyMap<string, string>;
  /** Variables that could not be applied (bad YAML, a path through a scalar, a bad index). */
  readonly problems: readonly Problem[];
}

type Container = Record<string, unknown> | unknown[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The key in `node` matching an upper-cased segment, or the segment lower-cased for a new key. */
function keyFor(node: Record<string, unknown>, segment: string): string {
  return Object.keys(node).find((key) => key.toUpperCase() === segment.toUpperCase()) ?? segment.toLowerCase();
}

/** Applies the `REGISTRY_*` variables of `env` to `document`. */
export function applyEnv(document: unknown, env: NodeJS.ProcessEnv, schema: z.core.$ZodType): EnvOverlay {
  const root: Record<string, unknown> = isRecord(document) ? structuredClone(document) : {};
  // A bare name stands for a section with no parameters, as distribution's Storage and Auth read it.
  for (const section of ['storage', 'auth']) if (typeof root[section] === 'string') root[section] = { [root[section]]: null };
  const origins = new Map<string, string>();
  const problems: Problem[] = [];

  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && env[name] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  for (const name of names) {
    const segments = name.slice(ENV_PREFIX.length).split('_');
    const fail = (path: KeyPath, message: string) => problems.push({ path, message: `environment variable ${name}: ${message}` });
    if (segments.some((segment) => segment === '')) {
      fail([], 'malformed name (empty segment between underscores)');
      continue;
    }
    if (SERVICE_LINK.test(name) && !isKnownEnvPath(schema, segments)) continue;

    const parsed = parseYamlValue(env[name] ?? '');
    if (!parsed.ok) {
      fail([], `value is not valid YAML: ${parsed.message}`);
      continue;
    }
    const value = parsed.value;

    // REGISTRY_STORAGE=<driver>: select the driver, keeping the driver-independent settings.
    if (segments.length === 1 && segments[0]?.toUpperCase() === 'STORAGE' && typeof value === 'string') {
      const storageKey = keyFor(root, 'STORAGE');
      const storage = isRecord(root[storageKey]) ? (root[storageKey] as Record<string, unknown>) : {};
      for (const key of Object.keys(storage)) {
        if (!(STORAGE_SETTINGS as readonly string[]).includes(key)) delete storage[key];
      }
      storage[value] = null;
      root[storageKey] = storage;
      origins.set(formatPath([storageKey, value]), name);
      continue;
    }

    // REGISTRY_AUTH=<provider>: that provider, whose parameters later variables set.
    if (segments.length === 1 && segments[0]?.toUpperCase() === 'AUTH' && typeof value === 'string') {
      const authKey = keyFor(root, 'AUTH');
      root[authKey] = { [value]: null };
      origins.set(formatPath([authKey, value]), name);
      continue;
    }

    const path: (string | number)[] = [];
    let node: Container = root;
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const segment = segments[i] ?? '';
      const last = i === segments.length - 1;
      let key: string | number;
      if (Array.isArray(node)) {
        if (!/^\d+$/.test(segment) || Number(segment) > node.length) {
          fail(path, `${JSON.stringify(segment)} is not an index of ${formatPath(path)} (a list of ${node.length})`);
          ok = false;
          break;
        }
        key = Number(segment);
      } else {
        key = keyFor(node, segment);
      }
      path.push(key);
      const holder = node as Record<string | number, unknown>;
      if (last) {
        holder[key] = value;
        break;
      }
      const child = holder[key];
      if (child === undefined || child === null) {
        const created: Container = /^\d+$/.test(segments[i + 1] ?? '') ? [] : {};
        holder[key] = created;
        node = created;
      } else if (typeof child === 'object') {
        node = child as Container;
      } else {
        fail(path, `cannot set a key below ${formatPath(path)}, which holds ${describeValue(child)}`);
        ok = false;
      }
    }
    if (ok) origins.set(formatPath(path), name);
  }
  return { document: root, origins, problems };
}

/** The variable that set `path` or the nearest key above it, else one that set a key below it. */
export function originOf(origins: ReadonlyMap<string, string>, path: KeyPath): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(formatPath(path.slice(0, length)));
    if (origin) return origin;
  }
  if (path.length === 0) return undefined;
  const here = formatPath(path);
  for (const [key, origin] of origins) {
    if (key.startsWith(`${here}.`) || key.startsWith(`${here}[`)) return origin;
  }
  return undefined;
}

/** The environment variable that would set `path` (`["http", "addr"]` → `REGISTRY_HTTP_ADDR`). */
export function envNameFor(path: KeyPath): string {
  return ENV_PREFIX + path.map((part) => String(part).toUpperCase()).join('_');
}
