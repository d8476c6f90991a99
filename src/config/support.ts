/**
 * THE table of distribution configuration keys that Wharf does not implement (yet), and what it
 * does when a configuration uses them. One row per key; nothing else in `src/config/` decides this.
 *
 * - `refused`: starting without the feature would be unsafe or would silently do something else
 *   (serve without auth, plain HTTP instead of HTTPS, a local registry instead of a mirror, local
 *   disk instead of S3). Using the key is a configuration error.
 * - `ignored`: ignoring the key is safe (a side feature simply does not happen). Using it gives a
 *   warning at start-up and in `wharf config check`.
 * - `silent`: accepted and ignored without a warning, because Wharf does not need it.
 * - `deprecated`: an old spelling that still works, with a warning naming the new one.
 *
 * To implement a feature: give its key a real schema in `schema*.ts` (replacing the `refused(…)` or
 * `ignored(…)` placeholder there) and delete its row here. `docs/configuration.md` lists this table;
 * a test checks that every row is documented.
 */
import * as z from 'zod';

export type SupportStatus = 'refused' | 'ignored' | 'silent' | 'deprecated';

export interface SupportEntry {
  /** Dotted key path, as in the YAML file (`http.tls`, `storage.s3`). */
  readonly path: string;
  readonly status: SupportStatus;
  /** Why, in one sentence: printed after the key path in the error or warning. */
  readonly reason: string;
  /** When the entry applies; by default whenever the key holds something (see `inUse`). */
  readonly when?: (value: unknown) => boolean;
}

const notYet = (what: string, consequence: string, verb: 'is' | 'are' = 'is'): string =>
  `${what} ${verb} not supported yet; ${consequence}`;

export const SUPPORT_TABLE: readonly SupportEntry[] = [
  // refused: running without them would be unsafe or wrong
  {
    path: 'http.tls.letsencrypt',
    status: 'refused',
    reason: notYet("Let's Encrypt (http.tls.letsencrypt)", 'give certificate and key instead, or terminate TLS in a reverse proxy'),
  },
  {
    path: 'middleware',
    status: 'refused',
    reason: notYet('middleware other than the redirect storage middleware (registry and repository middleware, cloudfront, ...)', 'requests would bypass it'),
    when: (value) => inUse(value) && !onlyRedirectMiddleware(value),
  },
  {
    path: 'storage.azure.connectionstring',
    status: 'refused',
    reason: notYet('storage.azure.connectionstring', 'give accountname, accountkey and serviceurl instead'),
  },
  {
    path: 'storage.azure.skipverify',
    status: 'refused',
    reason: notYet('storage.azure.skipverify', 'TLS certificates of the Azure endpoint are always verified; trust its CA through NODE_EXTRA_CA_CERTS'),
    when: (value) => value === true || value === 'true',
  },
  ...['gcs', 'swift', 'oss'].map(
    (driver): SupportEntry => ({
      path: `storage.${driver}`,
      status: 'refused',
      reason: notYet(`the ${driver} storage driver`, 'supported drivers are filesystem, inmemory, s3 and azure'),
      when: () => true, // naming the driver selects it, even with no parameters
    }),
  ),
  // ignored with a warning: the feature simply does not happen
  { path: 'redis', status: 'ignored', reason: notYet('redis', 'Wharf will not connect to it and caches in-process instead') },
  {
    path: 'http.h2c',
    status: 'ignored',
    reason: notYet('HTTP/2 cleartext (http.h2c)', 'clients are served HTTP/1.1'),
    when: (value) => getPath(value, 'enabled') === true,
  },
  { path: 'reporting', status: 'ignored', reason: notYet('error reporting (bugsnag, newrelic)', 'nothing will be reported') },
  { path: 'log.hooks', status: 'ignored', reason: notYet('log hooks', 'no mail or other hook will be sent', 'are') },
  { path: 'log.reportcaller', status: 'ignored', reason: notYet('log.reportcaller', 'log lines will not name the calling function') },
  { path: 'compatibility', status: 'ignored', reason: notYet('compatibility (schema1)', 'schema 1 manifests are refused as distribution 3 does') },
  {
    path: 'policy',
    status: 'ignored',
    reason: notYet('policy.repository.classes', 'no repository class is enforced'),
    when: (value) => inUse(getPath(value, 'repository.classes')),
  },
  {
    path: 'storage.cache.blobdescriptor',
    status: 'ignored',
    reason: 'the redis blob descriptor cache is not used yet; Wharf caches blob descriptors in-process',
    when: (value) => value === 'redis',
  },
  { path: 'storage.tag.concurrencylimit', status: 'ignored', reason: 'Wharf does not limit tag lookup concurrency this way yet; the value has no effect' },
  // accepted without a warning
  { path: 'http.secret', status: 'silent', reason: 'Wharf keeps upload state in storage and needs no shared secret' },
  // deprecated spellings that still work
  { path: 'loglevel', status: 'deprecated', reason: 'deprecated; use log.level (log.level wins when both are set)' },
  { path: 'storage.cache.layerinfo', status: 'deprecated', reason: 'deprecated; use storage.cache.blobdescriptor' },
  { path: 'validation.enabled', status: 'deprecated', reason: 'deprecated and ignored; use validation.disabled' },
];

/** True when a key holds something: not absent, null, false, "", an empty list or an empty mapping. */
export function inUse(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** `{storage: [{name: redirect, options: ...}]}` and nothing else (the one middleware Wharf has). */
function onlyRedirectMiddleware(value: unknown): boolean {
  if (!isOnlyKey(value, 'storage')) return false;
  const storage = (value as { storage: unknown }).storage;
  return Array.isArray(storage) && storage.length === 1 && typeof storage[0] === 'object' && storage[0] !== null && (storage[0] as { name?: unknown }).name === 'redirect';
}

function isOnlyKey(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).join() === key;
}

export function supportEntry(path: string): SupportEntry {
  const entry = SUPPORT_TABLE.find((e) => e.path === path);
  if (!entry) throw new Error(`config support table has no row for ${path}`);
  return entry;
}

function applies(entry: SupportEntry, value: unknown): boolean {
  return entry.when ? entry.when(value) : inUse(value);
}

/**
 * The schema for a refused key: anything is accepted as input, and a configuration error is
 * raised when the key is in use. The path must have a `refused` row in the table.
 */
export function refused(path: string): z.ZodOptional<z.ZodUnknown> {
  const entry = supportEntry(path);
  if (entry.status !== 'refused') throw new Error(`config support table: ${path} is ${entry.status}, not refused`);
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (applies(entry, value)) ctx.addIssue({ code: 'custom', message: entry.reason });
    })
    .optional();
}

/**
 * The schema for a key Wharf ignores (with a warning from `supportWarnings`). The path must have
 * an `ignored` row in the table. `schema` still validates the value (default: anything).
 */
export function ignored<T extends z.ZodType>(path: string, schema: T): z.ZodOptional<T> {
  const entry = supportEntry(path);
  if (entry.status !== 'ignored') throw new Error(`config support table: ${path} is ${entry.status}, not ignored`);
  return schema.optional();
}

/**
 * The schema for a section Wharf ignores: its direct keys are checked against `keys` so that
 * typos are still caught; their values are not validated.
 */
export function ignoredSection(path: string, keys: readonly string[]) {
  const shape: Record<string, z.ZodOptional<z.ZodUnknown>> = {};
  for (const key of keys) shape[key] = z.unknown().optional();
  return ignored(path, z.strictObject(shape));
}

/** Reads a dotted path from a raw configuration tree (case-sensitive, as YAML keys are). */
export function getPath(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * The warnings for a raw configuration (after the environment overlay): one per `ignored` or
 * `deprecated` row whose key is in use, as `"<path>: <reason>"`.
 */
export function supportWarnings(raw: unknown): string[] {
  const warnings: string[] = [];
  for (const entry of SUPPORT_TABLE) {
    if (entry.status !== 'ignored' && entry.status !== 'deprecated') continue;
    const value = getPath(raw, entry.path);
    if (value !== undefined && applies(entry, value)) warnings.push(`${entry.path}: ${entry.reason}`);
  }
  return warnings;
}
