/**
 * The one place where Wharf is composed: the storage registry, its decorators in order, the HTTP
 * app and server, and the background jobs. The CLI maps the configuration onto WharfOptions; tests
 * build WharfOptions directly.
 */
import type { Logger } from './log/logger.js';
import type { StorageDriver } from './storage/driver.js';
import type { Registry } from './registry/registry.js';
import { StorageRegistry } from './registry/storage-registry.js';
import { NoDeleteRegistry, ReadOnlyRegistry } from './registry/guards.js';
import { startUploadPurger, type PurgeSchedule } from './registry/uploads/purge.js';
import { createApp } from './http/app.js';
import { UrlBuilder } from './http/urls.js';
import { startServer, type ListenAddress, type RunningServer, type ServerTimeouts } from './http/server.js';
import { CachingDriver } from './storage/cache/caching-driver.js';
import { BLOBS_ROOT } from './registry/paths.js';
import type { HandlerLimits } from './http/handlers/deps.js';
import { GatedRegistry, WriteGate } from './gc/write-gate.js';
import { startGcSchedule, type GcSchedule, type GcScheduler } from './gc/schedule.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { WharfMetrics } from './metrics/metrics.js';
import { MetricsDriver } from './metrics/metrics-driver.js';
import { HttpMetrics } from './metrics/http-metrics.js';
import { cacheObserver } from './metrics/cache-metrics.js';
import { NO_NOTIFICATION_METRICS, notificationMetrics } from './metrics/notification-metrics.js';
import type { HealthConfig } from './config/schema-ops.js';
import { healthChecks } from './health/checks.js';
import { HealthMonitor, Readiness } from './health/monitor.js';
import { createDebugApp } from './http/debug.js';
import { httpOrigin } from './http/event-origin.js';
import { loggingObserver, Notifier, type EndpointSettings } from './notifications/notifier.js';
import { NotifyingRegistry } from './notifications/notifying-registry.js';
import { pullThroughEvents } from './notifications/pull-through-events.js';
import type { CacheObserver } from './storage/cache/observer.js';
import { createAuth, type AuthOptions } from './auth/compose.js';
import type { TlsSettings } from './http/tls.js';
import { DEFAULT_REFERENCE_POLICY, type ReferencePolicy } from './registry/manifests/references.js';
import { withPullThroughCache, type ProxyListener, type Upstream } from './proxy/setup.js';

export interface WharfOptions {
  readonly driver: StorageDriver;
  readonly log: Logger;
  readonly address: ListenAddress;
  readonly deleteEnabled: boolean;
  readonly readOnly: boolean;
  readonly prefix: string;
  readonly host?: string | undefined;
  readonly relativeUrls: boolean;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly accessLog: boolean;
  readonly limits: HandlerLimits;
  readonly timeouts: ServerTimeouts;
  readonly referrersPageSize: number;
  /** distribution's `validation` section; everything is checked when undefined. */
  readonly referencePolicy?: ReferencePolicy | undefined;
  /** The in-memory read cache of links, manifests and blob sizes; off when undefined. */
  readonly cache?: { readonly ttlMs: number; readonly maxBytes: number } | undefined;
  /** Upload purging; off when undefined. */
  readonly uploadPurging?: PurgeSchedule | undefined;
  /** Garbage collection in the server (the `gc` section); off when undefined. */
  readonly gc?: GcSchedule | undefined;
  /** Prometheus metrics, collected when given (and served on the debug listener's `metricsPath`). */
  readonly metrics?: WharfMetrics | undefined;
  /** The debug listener (`http.debug.addr`): /debug/health, /readyz and the metrics; none when undefined. */
  readonly debug?: { readonly address: ListenAddress; readonly metricsPath?: string | undefined } | undefined;
  /** distribution's `health` section: the checks behind /debug/health and /readyz. */
  readonly health?: HealthConfig | undefined;
  /** Notification endpoints and their durable queue; no events when undefined or without endpoints. */
  readonly notifications?: NotificationOptions | undefined;
  /** Authentication and access rules; anyone may do anything when undefined. */
  readonly auth?: AuthOptions | undefined;
  /** HTTPS (`http.tls`); plain HTTP when undefined. */
  readonly tls?: TlsSettings | undefined;
  /** The pull-through cache's upstreams (distribution's `proxy`, Wharf's `upstreams`); no cache when empty. */
  readonly upstreams?: readonly Upstream[] | undefined;
  /** Told of every blob and manifest the cache fetched from an upstream (for notifications). */
  readonly proxyListener?: ProxyListener | undefined;
}

export interface NotificationOptions {
  /** The directory of the per-endpoint journals (`wharf.notifications.queuedir`). */
  readonly queueDir: string;
  readonly endpoints: readonly EndpointSettings[];
  readonly includeReferences: boolean;
}

export const DEFAULT_LIMITS: HandlerLimits = { manifestMaxSize: 4 * 1024 * 1024, catalogMaxEntries: 1000, tagsMaxTags: 0, redirect: true };
export const DEFAULT_CACHE = { ttlMs: 2_000, maxBytes: 16 * 1024 * 1024 };
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headerMs: 30_000, idleMs: 120_000, requestMs: 0 };

/** Blob data never changes once it exists: its stat may be cached. */
const isBlobData = (path: string): boolean => path.startsWith(`${BLOBS_ROOT}/`) && path.endsWith('/data');

/** The driver behind the read cache, when one is configured. */
export function cachedDriver(driver: StorageDriver, cache: WharfOptions['cache'], observer?: CacheObserver): StorageDriver {
  return cache === undefined ? driver : new CachingDriver(driver, { ...cache, cacheStat: isBlobData, observer });
}

type ComposeOptions = Pick<WharfOptions, 'driver' | 'deleteEnabled' | 'readOnly' | 'referrersPageSize' | 'referencePolicy' | 'cache'>
  & Partial<Pick<WharfOptions, 'upstreams' | 'proxyListener' | 'log' | 'limits'>>
  & {
    /** The in-server collector's read-only switch (outermost). */
    readonly gcGate?: WriteGate | undefined;
    readonly tagCacheObserver?: CacheObserver | undefined;
    /** Told of the storage registry at the core (the collector clears its caches). */
    readonly onStorage?: ((storage: StorageRegistry) => void) | undefined;
  };

/**
 * The registry with its decorators: the pull-through cache, then disabled deletes, inside
 * read-only mode, inside the collector's write gate. What must be closed at shutdown (upstream
 * connections) is added to `closers`.
 */
export function composeRegistry(options: ComposeOptions, closers: (() => Promise<void>)[] = []): Registry {
  const storage = new StorageRegistry(options.driver, {
    referrersPageSize: options.referrersPageSize,
    tagListTtlMs: options.cache?.ttlMs ?? 0,
    catalogTtlMs: options.cache?.ttlMs ?? 0,
    tagCacheObserver: options.tagCacheObserver,
    ...(options.referencePolicy !== undefined && { referencePolicy: options.referencePolicy }),
  });
  options.onStorage?.(storage);
  let registry: Registry = storage;
  if (options.upstreams !== undefined && options.upstreams.length > 0) {
    const cache = withPullThroughCache(registry, {
      upstreams: options.upstreams,
      driver: options.driver,
      // Fetched manifests arrive before their blobs: the cache's own writes check no references.
      store: new StorageRegistry(options.driver, { referrersPageSize: options.referrersPageSize, referencePolicy: { ...DEFAULT_REFERENCE_POLICY, verify: false } }),
      manifestMaxSize: options.limits?.manifestMaxSize,
      listener: options.proxyListener,
      log: options.log,
      sweep: !options.readOnly,
    });
    closers.push(cache.close);
    registry = cache.registry;
  }
  if (!options.deleteEnabled) registry = new NoDeleteRegistry(registry);
  if (options.readOnly) registry = new ReadOnlyRegistry(registry);
  // Outermost: the in-server collector's read-only switch counts every write under way.
  if (options.gcGate !== undefined) registry = new GatedRegistry(registry, options.gcGate);
  return registry;
}

export interface RunningWharf {
  readonly registry: Registry;
  readonly server: RunningServer;
  /** The base URL clients reach this instance at (`http://127.0.0.1:<port>`, https with TLS), when on TCP. */
  readonly url: string | undefined;
  /** The in-server garbage collector, when the `gc` section enables it. */
  readonly gc?: GcScheduler | undefined;
  /** The debug listener, when `debug` was given, and its base URL. */
  readonly debugServer?: RunningServer | undefined;
  readonly debugUrl?: string | undefined;
  readonly readiness: Readiness;
  /** The notification hub, when endpoints are configured. */
  readonly notifier?: Notifier | undefined;
  stop(drainMs?: number): Promise<void>;
}

/** `http(s)://host:port` of a TCP listener (loopback for a wildcard host). */
function baseUrl(address: ListenAddress, port: number | undefined, scheme: 'http' | 'https' = 'http'): string | undefined {
  const host = address.host === undefined || address.host === '' || address.host === '0.0.0.0' ? '127.0.0.1' : address.host;
  return port === undefined ? undefined : `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startWharf(options: WharfOptions): Promise<RunningWharf> {
  const { metrics } = options;
  const measured = metrics === undefined ? options.driver : new MetricsDriver(options.driver, metrics);
  const driver = cachedDriver(measured, options.cache, metrics && cacheObserver(metrics, 'storage'));
  const closers: (() => Promise<void>)[] = [];
  const gcGate = options.gc !== undefined && !options.gc.dryRun ? new WriteGate() : undefined;
  let storage: StorageRegistry | undefined;
  const source = { addr: hostname(), instanceID: randomUUID() };
  const notifier = await openNotifier(options);
  let registry = composeRegistry({
    ...options,
    proxyListener: options.proxyListener ?? (notifier && pullThroughEvents(notifier, source, options.log)),
    driver,
    gcGate,
    tagCacheObserver: metrics && cacheObserver(metrics, 'tags'),
    onStorage: (s) => (storage = s),
  }, closers);
  const urls = new UrlBuilder({ prefix: options.prefix, host: options.host, relative: options.relativeUrls });
  const auth = options.auth === undefined ? undefined : createAuth(options.auth, options.log);
  if (notifier !== undefined) {
    registry = new NotifyingRegistry(registry, {
      notifier, originOf: httpOrigin(urls), source, includeReferences: options.notifications?.includeReferences ?? false, log: options.log,
    });
  }
  const monitor = options.health === undefined ? undefined : new HealthMonitor(healthChecks(options.health, measured));
  const readiness = new Readiness(monitor);
  const listener = createApp({ registry, urls, limits: options.limits, readiness: () => readiness.status(), auth: auth?.authorizer, tokenService: auth?.tokenService }, {
    log: options.log,
    prefix: options.prefix,
    headers: options.headers,
    accessLog: options.accessLog,
    observer: metrics && new HttpMetrics(metrics),
  });
  const server = await startServer(listener, options.address, options.timeouts, options.tls);
  source.addr = `${hostname()}:${server.port ?? options.address.path ?? ''}`;
  const debugServer = options.debug === undefined ? undefined : await startServer(createDebugApp({
    metrics: metrics && { path: options.debug.metricsPath ?? '/metrics', exposition: () => metrics.exposition() },
    health: () => monitor?.failing() ?? {},
    readiness: () => readiness.status(),
  }), options.debug.address, options.timeouts);
  monitor?.start();
  notifier?.start();
  const stopPurger = options.uploadPurging !== undefined && !options.readOnly
    ? startUploadPurger(options.driver, options.uploadPurging, options.log)
    : undefined;
  const gc = options.gc === undefined ? undefined : startGcSchedule({
    driver: options.driver,
    sweepDriver: driver,
    gate: gcGate,
    clearCaches: () => {
      if (driver instanceof CachingDriver) driver.clear();
      storage?.clearCaches();
    },
    log: options.log,
  }, options.gc);
  return {
    registry,
    server,
    url: baseUrl(options.address, server.port, options.tls === undefined ? 'http' : 'https'),
    gc,
    debugServer,
    debugUrl: debugServer && options.debug && baseUrl(options.debug.address, debugServer.port),
    readiness,
    notifier,
    stop: async (drainMs) => {
      readiness.drain();
      stopPurger?.();
      gc?.stop();
      await server.close(drainMs);
      monitor?.stop();
      await debugServer?.close(0);
      await notifier?.close();
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** The notification hub over its durable queue, when endpoints are configured. */
async function openNotifier(options: WharfOptions): Promise<Notifier | undefined> {
  const config = options.notifications;
  if (config === undefined || config.endpoints.length === 0) return undefined;
  const observer = loggingObserver(options.log, options.metrics === undefined ? NO_NOTIFICATION_METRICS : notificationMetrics(options.metrics));
  return Notifier.open(config.queueDir, config.endpoints, observer);
}
