/**
 * The operational sections of the configuration: distribution's `http.debug`, `health` and
 * `notifications` (names and defaults as distribution has them), and Wharf's own
 * `wharf.notifications` (where the durable event queue lives).
 */
import * as z from 'zod';
import { duration, HEADER_NAME, int, nonEmptyStr, str, strList } from './schema-helpers.js';

export const EVENT_ACTIONS = ['push', 'pull', 'mount', 'delete'] as const;

/** `http.debug`: a second listener for /metrics (when prometheus.enabled) and /debug/health. */
export const debugSchema = z
  .strictObject({
    addr: str().optional(),
    prometheus: z
      .strictObject({
        enabled: z.boolean().default(false),
        path: str().default('/metrics'),
      })
      .prefault({}),
  })
  .prefault({});

const headerMap = z.record(z.string(), z.array(str())).superRefine((headers, ctx) => {
  for (const name of Object.keys(headers)) {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid HTTP header name' });
  }
});

const absoluteUrl = str().superRefine((value, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', message: `expected an absolute http:// or https:// URL, got ${JSON.stringify(value)}` });
  }
});

const endpointSchema = z.strictObject({
  name: nonEmptyStr(),
  disabled: z.boolean().default(false),
  url: absoluteUrl,
  headers: headerMap.default({}),
  timeout: duration('nanoseconds').prefault('1s'),
  /** Consecutive failures after which the endpoint backs off (distribution's default: 10). */
  threshold: int().min(0).default(10),
  backoff: duration('nanoseconds').prefault('1s'),
  /** distribution 2.x spelling of `ignore.mediatypes`; both apply. */
  ignoredmediatypes: strList().default([]),
  ignore: z
    .strictObject({
      mediatypes: strList().default([]),
      actions: z.array(z.enum(EVENT_ACTIONS)).default([]),
    })
    .prefault({}),
});

export const notificationsSchema = z
  .strictObject({
    events: z.strictObject({ includereferences: z.boolean().default(false) }).prefault({}),
    endpoints: z.array(endpointSchema).default([]),
  })
  .superRefine((notifications, ctx) => {
    const seen = new Set<string>();
    notifications.endpoints.forEach((endpoint, index) => {
      if (seen.has(endpoint.name)) ctx.addIssue({ code: 'custom', path: ['endpoints', index, 'name'], message: `duplicate endpoint name ${JSON.stringify(endpoint.name)}` });
      seen.add(endpoint.name);
    });
  })
  .prefault({});

export type EndpointConfig = z.output<typeof endpointSchema>;

export const healthSchema = z
  .strictObject({
    storagedriver: z
      .strictObject({
        enabled: z.boolean().default(false),
        interval: duration('nanoseconds').prefault('10s'),
        threshold: int().min(0).default(0),
      })
      .prefault({}),
    file: z.array(z.strictObject({ file: nonEmptyStr(), interval: duration('nanoseconds').prefault('10s') })).default([]),
    http: z
      .array(
        z.strictObject({
          uri: absoluteUrl,
          headers: headerMap.default({}),
          statuscode: int().min(100).max(599).default(200),
          timeout: duration('nanoseconds').prefault('1s'),
          interval: duration('nanoseconds').prefault('10s'),
          threshold: int().min(0).default(0),
        }),
      )
      .default([]),
    tcp: z
      .array(
        z.strictObject({
          addr: nonEmptyStr(),
          timeout: duration('nanoseconds').prefault('1s'),
          interval: duration('nanoseconds').prefault('10s'),
          threshold: int().min(0).default(0),
        }),
      )
      .default([]),
  })
  .prefault({});

export type HealthConfig = z.output<typeof healthSchema>;

/** `wharf.notifications`: the directory of the durable event journals (default beside the storage). */
export const wharfNotificationsSchema = z.strictObject({ queuedir: str().optional() }).prefault({});

/** Duration paths of these sections, for `DURATION_PATHS` (arrays use `*`). */
export const OPS_DURATION_PATHS: readonly string[] = [
  'notifications.endpoints.*.timeout',
  'notifications.endpoints.*.backoff',
  'health.storagedriver.interval',
  'health.file.*.interval',
  'health.http.*.timeout',
  'health.http.*.interval',
  'health.tcp.*.timeout',
  'health.tcp.*.interval',
];
