/**
 * From configuration to a running cache: distribution's `proxy` section and Wharf's `upstreams`
 * become Upstreams (routing.ts) with their credential sources and one UpstreamClient each, and
 * `withPullThroughCache` wraps a registry in the ProxyRegistry decorator (composed in startup.ts).
 */
import type { ProxyConfig, UpstreamConfig } from '../config/schema-proxy.js';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../registry/registry.js';
import type { StorageDriver } from '../storage/driver.js';
import { anonymous, cached, dockerConfigCredentials, helperCredentials, helperProgram, staticCredentials, type CredentialSource } from './credentials.js';
import type { ProxyListener } from './events.js';
import { ProxyRegistry } from './proxy-registry.js';
import { defaultNamespaces, isDockerHub, UpstreamRouter, type Upstream } from './routing.js';
import { UpstreamClient } from './upstream-client.js';
import { startExpirySweeper, sweepInterval } from './expiry.js';

export type { Upstream } from './routing.js';
export type { ProxyListener, PullThrough as PullThroughEvent } from './events.js';

/** How long credentials from a config.json or a helper are reused before asking again. */
const CREDENTIALS_LIFETIME_MS = 60_000;

function baseUrl(raw: string): URL {
  const url = new URL(raw.trim());
  url.pathname = '/';
  return url;
}

/** distribution's `proxy` section: one upstream for every repository, read-only, checked on every tag pull. */
export function upstreamFromProxySection(proxy: ProxyConfig): Upstream {
  const url = baseUrl(proxy.remoteurl);
  let credentials: CredentialSource = anonymous;
  if (proxy.exec !== undefined) credentials = cached(helperCredentials(proxy.exec.command, url.host), proxy.exec.lifetime ?? CREDENTIALS_LIFETIME_MS);
  else if (proxy.username !== undefined && proxy.username !== '') credentials = staticCredentials(proxy.username, proxy.password ?? '');
  return {
    name: 'proxy',
    url,
    credentials,
    prefixes: [],
    patterns: [],
    namespaces: defaultNamespaces(url),
    freshnessMs: 0,
    ttlMs: proxy.ttl,
    writable: false,
    officialImages: false,
    catchAll: true,
  };
}

export function upstreamFromConfig(config: UpstreamConfig): Upstream {
  const url = baseUrl(config.url);
  let credentials: CredentialSource = anonymous;
  if (config.username !== undefined) credentials = staticCredentials(config.username, config.password ?? '');
  else if (config.dockerconfig !== undefined) credentials = cached(dockerConfigCredentials(config.dockerconfig, url.host, config.credentialhelper), CREDENTIALS_LIFETIME_MS);
  else if (config.credentialhelper !== undefined) credentials = cached(helperCredentials(helperProgram(config.credentialhelper), url.host), CREDENTIALS_LIFETIME_MS);
  return {
    name: config.name,
    url,
    credentials,
    prefixes: config.prefixes,
    patterns: config.patterns,
    stripPrefix: config.stripprefix,
    namespaces: (config.namespaces ?? defaultNamespaces(url)).map((ns) => ns.toLowerCase()),
    freshnessMs: config.freshness,
    ttlMs: config.ttl,
    writable: config.writable,
    officialImages: config.officialimages ?? isDockerHub(url),
  };
}

/** Every configured upstream: the `upstreams` list first, distribution's catch-all `proxy` last. */
export function upstreamsFromConfig(proxy: ProxyConfig | undefined, upstreams: readonly UpstreamConfig[]): Upstream[] {
  return [...upstreams.map(upstreamFromConfig), ...(proxy === undefined ? [] : [upstreamFromProxySection(proxy)])];
}

export interface PullThroughCacheOptions {
  readonly upstreams: readonly Upstream[];
  /** The driver the registry stores in (state files go there too). */
  readonly driver: StorageDriver;
  /** A storage registry over the same driver that checks no references (fetched manifests arrive before their blobs). */
  readonly store: Registry;
  readonly manifestMaxSize?: number | undefined;
  readonly listener?: ProxyListener | undefined;
  readonly log?: Logger | undefined;
  /** Remove expired content in the background (off in read-only mode). */
  readonly sweep?: boolean | undefined;
}

export interface PullThroughCache {
  readonly registry: Registry;
  close(): Promise<void>;
}

export function withPullThroughCache(registry: Registry, options: PullThroughCacheOptions): PullThroughCache {
  const clients = new Map(options.upstreams.map((u) => [u.name, new UpstreamClient({
    name: u.name,
    url: u.url,
    credentials: u.credentials,
    ...(options.manifestMaxSize !== undefined && { manifestMaxSize: options.manifestMaxSize }),
  })]));
  const proxied = new ProxyRegistry(registry, {
    router: new UpstreamRouter(options.upstreams),
    clients,
    store: options.store,
    driver: options.driver,
    listener: options.listener,
    log: options.log,
  });
  const interval = options.sweep === true ? sweepInterval(options.upstreams.map((u) => u.ttlMs)) : undefined;
  const stopSweeper = interval === undefined ? undefined : startExpirySweeper(options.driver, options.store, interval, options.log);
  return {
    registry: proxied,
    close: async () => {
      stopSweeper?.();
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}
