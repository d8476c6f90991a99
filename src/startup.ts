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
  /** The pull-through cache's upstreams (distribution's `proxy`, Wharf's `upstreams`); no cache when empty. */
  readonly upstreams?: readonly Upstream[] | undefined;
  /** Told of every blob and manifest the cache fetched from an upstream (for notifications). */
  readonly proxyListener?: ProxyListener | undefined;
}

export const DEFAULT_LIMITS: HandlerLimits = { manifestMaxSize: 4 * 1024 * 1024, catalogMaxEntries: 1000, tagsMaxTags: 0, redirect: true };
export const DEFAULT_CACHE = { ttlMs: 2_000, maxBytes: 16 * 1024 * 1024 };
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headerMs: 30_000, idleMs: 120_000, requestMs: 0 };

/** Blob data never changes once it exists: its stat may be cached. */
const isBlobData = (path: string): boolean => path.startsWith(`${BLOBS_ROOT}/`) && path.endsWith('/data');

/** The driver behind the read cache, when one is configured. */
export function cachedDriver(driver: StorageDriver, cache: WharfOptions['cache']): StorageDriver {
  return cache === undefined ? driver : new CachingDriver(driver, { ...cache, cacheStat: isBlobData });
}

type ComposeOptions = Pick<WharfOptions, 'driver' | 'deleteEnabled' | 'readOnly' | 'referrersPageSize' | 'referencePolicy' | 'cache'>
  & Partial<Pick<WharfOptions, 'upstreams' | 'proxyListener' | 'log' | 'limits'>>;

/**
 * The registry with its decorators: the pull-through cache, then disabled deletes, inside
 * read-only mode. What must be closed at shutdown (upstream connections) is added to `closers`.
 */
export function composeRegistry(options: ComposeOptions, closers: (() => Promise<void>)[] = []): Registry {
  let registry: Registry = new StorageRegistry(options.driver, {
    referrersPageSize: options.referrersPageSize,
    tagListTtlMs: options.cache?.ttlMs ?? 0,
    ...(options.referencePolicy !== undefined && { referencePolicy: options.referencePolicy }),
  });
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
  return registry;
}

export interface RunningWharf {
  readonly registry: Registry;
  readonly server: RunningServer;
  /** The base URL clients reach this instance at (`http://127.0.0.1:<port>`), when on TCP. */
  readonly url: string | undefined;
  stop(drainMs?: number): Promise<void>;
}

export async function startWharf(options: WharfOptions): Promise<RunningWharf> {
  const closers: (() => Promise<void>)[] = [];
  const registry = composeRegistry({ ...options, driver: cachedDriver(options.driver, options.cache) }, closers);
  const urls = new UrlBuilder({ prefix: options.prefix, host: options.host, relative: options.relativeUrls });
  const listener = createApp({ registry, urls, limits: options.limits }, {
    log: options.log,
    prefix: options.prefix,
    headers: options.headers,
    accessLog: options.accessLog,
  });
  const server = await startServer(listener, options.address, options.timeouts);
  const stopPurger = options.uploadPurging !== undefined && !options.readOnly
    ? startUploadPurger(options.driver, options.uploadPurging, options.log)
    : undefined;
  const host = options.address.host === undefined || options.address.host === '' || options.address.host === '0.0.0.0' ? '127.0.0.1' : options.address.host;
  const url = server.port === undefined ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  return {
    registry,
    server,
    url,
    stop: async (drainMs) => {
      stopPurger?.();
      await server.close(drainMs);
      await Promise.all(closers.map((close) => close()));
    },
  };
}
