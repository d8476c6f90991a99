/**
 * THE configuration schema: distribution's `config.yml` (v2.8 and v3 keys) plus Wharf's own
 * `wharf:` section. Types, defaults and validation live here, in one place; the input side is the
 * YAML document as written (key names and defaults are distribution's), the output side is
 * `WharfConfig`, which keeps the YAML key names with three normalisations:
 *
 * - durations are milliseconds (numbers);
 * - `storage.driver` names the one configured driver, whose parameters stay under its own key;
 * - aliases are folded in (`loglevel` → `log.level`, `storage.cache.layerinfo` → `blobdescriptor`).
 *
 * Keys distribution knows but Wharf does not implement are classified in `support.ts`.
 * `load.ts` feeds this schema (file → environment → here); `docs/configuration.md` documents it.
 */
import * as z from 'zod';
import { duration, HEADER_NAME, compileUrlPattern, int, lowerEnum, nonEmptyStr, str, strList } from './schema-helpers.js';
import { STORAGE_SETTINGS, storageSchema } from './schema-storage.js';
import { wharfS3Schema } from './schema-storage-s3.js';
import { middlewareSchema } from './schema-middleware.js';
import { ignored, ignoredSection, refused } from './support.js';
import { gcSchema } from './schema-gc.js';
import { debugSchema, healthSchema, notificationsSchema, OPS_DURATION_PATHS, wharfNotificationsSchema } from './schema-ops.js';
import { accessSchema, authSchema, checkAuth, tlsSchema, tokenServiceSchema } from './schema-auth.js';
import { proxySchema, upstreamsSchema } from './schema-proxy.js';

export { compileUrlPattern } from './schema-helpers.js';
export type { StorageConfig, FilesystemParams } from './schema-storage.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const logSchema = z
  .strictObject({
    level: lowerEnum(LOG_LEVELS).optional(),
    /** JSON lines by default, for log pipelines (distribution defaults to logrus' text formatter) */
    formatter: z.enum(['text', 'json', 'logstash']).default('json'),
    fields: z.record(z.string(), z.unknown()).default({}),
    accesslog: z.strictObject({ disabled: z.boolean().default(false) }).prefault({}),
    hooks: ignored('log.hooks', z.array(z.unknown())),
    reportcaller: ignored('log.reportcaller', z.boolean()),
  })
  .prefault({});

const DEFAULT_HEADERS: Readonly<Record<string, readonly string[]>> = { 'X-Content-Type-Options': ['nosniff'] };

/**
 * Configured headers over the default ones, names compared without case; an empty list removes
 * a header (so `X-Content-Type-Options: []` turns the default off).
 */
function mergeHeaders(configured: Record<string, string[]> | undefined): Record<string, string[]> {
  const merged = new Map<string, [string, string[]]>();
  for (const [name, values] of Object.entries(DEFAULT_HEADERS)) merged.set(name.toLowerCase(), [name, [...values]]);
  for (const [name, values] of Object.entries(configured ?? {})) merged.set(name.toLowerCase(), [name, values]);
  const out: Record<string, string[]> = {};
  for (const [name, values] of merged.values()) if (values.length > 0) out[name] = values;
  return out;
}

/** `http.prefix` with exactly one leading and one trailing slash; "" means the root, "/". */
function normalisePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

const TCP_ADDR = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/;

const httpObject = z
  .strictObject({
    addr: str().optional(),
    net: z.enum(['tcp', 'unix']).default('tcp'),
    host: str().optional(),
    prefix: str().default('/'),
    secret: str().optional(),
    relativeurls: z.boolean().default(false),
    draintimeout: duration('nanoseconds').prefault(0),
    tls: tlsSchema,
    headers: z.record(z.string(), z.array(str())).optional(),
    debug: debugSchema,
    http2: z.strictObject({ disabled: z.boolean().default(false) }).prefault({}),
    h2c: ignoredSection('http.h2c', ['enabled']),
  })
  .superRefine(
    (http, ctx) => {
      if (typeof http !== 'object' || http === null) return; // reported as a type problem
      const { addr, net, host, prefix, headers } = http as Partial<typeof http>;
      if (net === 'unix' && (addr === undefined || addr.trim() === '')) {
        ctx.addIssue({ code: 'custom', path: ['addr'], message: 'required when http.net is unix: the path of the socket' });
      }
      if (net !== 'unix' && typeof addr === 'string') {
        const port = TCP_ADDR.exec(addr.trim())?.[2];
        if (port === undefined || Number(port) > 65535) {
          ctx.addIssue({ code: 'custom', path: ['addr'], message: `expected "host:port" or ":port" (port 0-65535), got ${JSON.stringify(addr)}` });
        }
      }
      if (typeof host === 'string') {
        let url: URL | undefined;
        try {
          url = new URL(host);
        } catch {
          url = undefined;
        }
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
          ctx.addIssue({ code: 'custom', path: ['host'], message: `expected an absolute http:// or https:// URL such as "https://registry.example.com", got ${JSON.stringify(host)}` });
        }
      }
      if (typeof prefix === 'string' && /[?#\s]/.test(prefix.trim())) {
        ctx.addIssue({ code: 'custom', path: ['prefix'], message: `expected a URL path such as "/registry/", got ${JSON.stringify(prefix)}` });
      }
      for (const name of Object.keys(headers ?? {})) {
        if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'not a valid HTTP header name' });
      }
    },
    { when: () => true },
  )
  .prefault({});

const urlPatterns = strList()
  .superRefine((patterns, ctx) => {
    patterns.forEach((pattern, index) => {
      try {
        compileUrlPattern(pattern);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [index], message: `invalid regular expression: ${(err as Error).message}` });
      }
    });
  })
  .default([]);

const validationSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    disabled: z.boolean().default(false),
    manifests: z
      .strictObject({
        urls: z.strictObject({ allow: urlPatterns, deny: urlPatterns }).prefault({}),
        indexes: z
          .strictObject({
            platforms: lowerEnum(['all', 'none', 'list']).prefault('all'),
            platformlist: z.array(z.strictObject({ architecture: nonEmptyStr(), os: nonEmptyStr() })).default([]),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .prefault({});

const wharfSchema = z
  .strictObject({
    manifests: z.strictObject({ maxsize: int().min(1).default(4 * 1024 * 1024) }).prefault({}),
    referrers: z.strictObject({ pagesize: int().min(1).default(500) }).prefault({}),
    s3: wharfS3Schema,
    cache: z
      .strictObject({
        ttl: duration('zero-only').prefault('2s'),
        maxbytes: int().min(0).default(16 * 1024 * 1024),
      })
      .prefault({}),
    http: z
      .strictObject({
        timeouts: z
          .strictObject({
            header: duration('zero-only').prefault('30s'),
            idle: duration('zero-only').prefault('120s'),
            request: duration('zero-only').prefault(0),
          })
          .prefault({}),
      })
      .prefault({}),
    notifications: wharfNotificationsSchema,
  })
  .prefault({});

const REDIS_KEYS = [
  // distribution 2.8
  'addr', 'password', 'db', 'dialtimeout', 'readtimeout', 'writetimeout', 'pool', 'tls',
  // distribution 3 (go-redis UniversalOptions)
  'addrs', 'clientname', 'protocol', 'username', 'sentinelusername', 'sentinelpassword', 'maxretries',
  'minretrybackoff', 'maxretrybackoff', 'contexttimeoutenabled', 'poolfifo', 'poolsize', 'pooltimeout',
  'minidleconns', 'maxidleconns', 'maxactiveconns', 'connmaxidletime', 'connmaxlifetime', 'maxredirects',
  'readonly', 'routebylatency', 'routerandomly', 'mastername', 'disableidentity', 'identitysuffix', 'unstableresp3',
] as const;

/** The YAML document's shape (input side); exported for the JSON Schema and for key look-ups. */
export const documentSchema = z.strictObject({
  version: str().refine((v) => v === '0.1', {
    error: (issue) =>
      `unsupported version ${JSON.stringify(String(issue.input))}; Wharf, like distribution, reads version 0.1 configurations`,
  }),
  log: logSchema,
  loglevel: lowerEnum(LOG_LEVELS).optional(),
  storage: storageSchema,
  auth: authSchema,
  middleware: middlewareSchema,
  reporting: ignoredSection('reporting', ['bugsnag', 'newrelic']),
  http: httpObject,
  notifications: notificationsSchema,
  redis: ignoredSection('redis', REDIS_KEYS),
  health: healthSchema,
  proxy: proxySchema,
  compatibility: ignoredSection('compatibility', ['schema1']),
  validation: validationSchema,
  policy: ignoredSection('policy', ['repository']),
  catalog: z.strictObject({ maxentries: int().default(1000) }).prefault({}),
  tags: z.strictObject({ maxtags: int().default(0) }).prefault({}),
  wharf: wharfSchema,
  gc: gcSchema,
  access: accessSchema,
  tokenservice: tokenServiceSchema,
  upstreams: upstreamsSchema,
});

type Document = z.output<typeof documentSchema>;

function toWharfConfig(doc: Document) {
  const { http } = doc;
  return {
    version: '0.1' as const,
    log: {
      level: doc.log.level ?? doc.loglevel ?? ('info' as LogLevel),
      formatter: doc.log.formatter,
      fields: doc.log.fields,
      accesslog: doc.log.accesslog,
    },
    storage: doc.storage,
    middleware: doc.middleware,
    http: {
      addr: http.addr?.trim() || ':5000',
      net: http.net,
      prefix: normalisePrefix(http.prefix),
      ...(http.host !== undefined ? { host: http.host } : {}),
      relativeurls: http.relativeurls,
      ...(http.secret !== undefined ? { secret: http.secret } : {}),
      headers: mergeHeaders(http.headers),
      /** milliseconds; 0 closes connections at once on shutdown */
      draintimeout: http.draintimeout,
      http2: http.http2,
      debug: http.debug,
      ...(http.tls?.certificate !== undefined ? { tls: http.tls } : {}),
    },
    notifications: doc.notifications,
    health: doc.health,
    ...(doc.auth !== undefined ? { auth: doc.auth } : {}),
    access: doc.access,
    ...(doc.tokenservice !== undefined ? { tokenservice: doc.tokenservice } : {}),
    validation: { disabled: doc.validation.disabled, manifests: doc.validation.manifests },
    /** values ≤ 0 mean distribution's default, 1000 */
    catalog: { maxentries: doc.catalog.maxentries > 0 ? doc.catalog.maxentries : 1000 },
    /** 0 (or less) means no limit on `n` for tag listing */
    tags: { maxtags: Math.max(doc.tags.maxtags, 0) },
    wharf: doc.wharf,
    /** durations in milliseconds */
    gc: doc.gc,
    ...(doc.proxy !== undefined && { proxy: doc.proxy }),
    ...(doc.upstreams.length > 0 && { upstreams: doc.upstreams }),
  };
}

/**
 * Prepares a parsed YAML tree the way distribution's decoder sees it: a key with an empty value
 * (`delete:`) is absent, except a storage driver key (`inmemory:`), whose presence selects the
 * driver, and an auth provider key (`htpasswd:`), whose presence selects the provider;
 * `storage: inmemory` is `storage: {inmemory: }`. `log.fields` is left as written.
 */
export function normaliseDocument(input: unknown): unknown {
  const doc = input === null || input === undefined ? {} : input;
  return stripNulls(doc, []);
}

function stripNulls(node: unknown, path: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((item) => stripNulls(item, [...path, '*']));
  if (typeof node !== 'object' || node === null) {
    if (path.join('.') === 'storage' && typeof node === 'string') return { [node]: null };
    return node;
  }
  if (path.join('.') === 'log.fields') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const section = path.join('.');
    const keepNull = (section === 'storage' && !(STORAGE_SETTINGS as readonly string[]).includes(key)) || section === 'auth';
    if (value === null && !keepNull) continue;
    out[key] = stripNulls(value, [...path, key]);
  }
  return out;
}

/** The configuration schema: a parsed YAML document in, a `WharfConfig` out. */
export const configSchema = z.preprocess(normaliseDocument, documentSchema.superRefine(checkAuth).transform(toWharfConfig));

/** The effective configuration Wharf runs with (see the file comment for its shape). */
export type WharfConfig = z.output<typeof configSchema>;

/** A JSON Schema (draft 2020-12) of the configuration file, for editors and linters. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(documentSchema, { io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    title: 'Wharf configuration (distribution config.yml)',
  };
}

/**
 * Paths (in `WharfConfig` and in the YAML) whose values are durations, in milliseconds in
 * `WharfConfig` and in Go syntax in YAML.
 */
export const DURATION_PATHS: readonly string[] = [
  'http.draintimeout',
  'storage.maintenance.uploadpurging.age',
  'storage.maintenance.uploadpurging.interval',
  'wharf.http.timeouts.header',
  'wharf.http.timeouts.idle',
  'wharf.http.timeouts.request',
  'wharf.cache.ttl',
  'gc.interval',
  'gc.draintimeout',
  ...OPS_DURATION_PATHS,
  'access.loginlimit.window',
  'tokenservice.expiration',
  'tokenservice.refreshexpiration',
  'proxy.ttl',
  'proxy.exec.lifetime',
  'upstreams.*.freshness',
  'upstreams.*.ttl',
];
