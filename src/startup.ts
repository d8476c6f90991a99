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
import type { ReferencePolicy } from './registry/manifests/references.js';
import { createAuth, type AuthOptions } from './auth/compose.js';
import type { TlsSettings } from './http/tls.js';

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
  /** Authentication and access rules; anyone may do anything when undefined. */
  readonly auth?: AuthOptions | undefined;
  /** HTTPS (`http.tls`); plain HTTP when undefined. */
  readonly tls?: TlsSettings | undefined;
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

/** The registry with its decorators: disabled deletes inside read-only mode. */
export function composeRegistry(options: Pick<WharfOptions, 'driver' | 'deleteEnabled' | 'readOnly' | 'referrersPageSize' | 'referencePolicy' | 'cache'>): Registry {
  let registry: Registry = new StorageRegistry(options.driver, {
    referrersPageSize: options.referrersPageSize,
    tagListTtlMs: options.cache?.ttlMs ?? 0,
    ...(options.referencePolicy !== undefined && { referencePolicy: options.referencePolicy }),
  });
  if (!options.deleteEnabled) registry = new NoDeleteRegistry(registry);
  if (options.readOnly) registry = new ReadOnlyRegistry(registry);
  return registry;
}

export interface RunningWharf {
  readonly registry: Registry;
  readonly server: RunningServer;
  /** The base URL clients reach this instance at (`http://127.0.0.1:<port>`, https with TLS), when on TCP. */
  readonly url: string | undefined;
  stop(drainMs?: number): Promise<void>;
}

export async function startWharf(options: WharfOptions): Promise<RunningWharf> {
  const registry = composeRegistry({ ...options, driver: cachedDriver(options.driver, options.cache) });
  const urls = new UrlBuilder({ prefix: options.prefix, host: options.host, relative: options.relativeUrls });
  const auth = options.auth === undefined ? undefined : createAuth(options.auth, options.log);
  const listener = createApp({ registry, urls, limits: options.limits, auth: auth?.authorizer, tokenService: auth?.tokenService }, {
    log: options.log,
    prefix: options.prefix,
    headers: options.headers,
    accessLog: options.accessLog,
  });
  const server = await startServer(listener, options.address, options.timeouts, options.tls);
  const stopPurger = options.uploadPurging !== undefined && !options.readOnly
    ? startUploadPurger(options.driver, options.uploadPurging, options.log)
    : undefined;
  const host = options.address.host === undefined || options.address.host === '' || options.address.host === '0.0.0.0' ? '127.0.0.1' : options.address.host;
  const url = server.port === undefined ? undefined : `${options.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  return {
    registry,
    server,
    url,
    stop: async (drainMs) => {
      stopPurger?.();
      await server.close(drainMs);
    },
  };
}
