/**
 * `wharf serve [config.yml]`: loads the configuration (or the embedded default), maps it onto
 * WharfOptions, starts the registry and stops it gracefully on SIGTERM or SIGINT.
 */
import type { LoadedConfig } from '../config/load.js';
import { compileUrlPattern, type WharfConfig } from '../config/schema.js';
import type { ReferencePolicy } from '../registry/manifests/references.js';
import { createLogger, type Logger } from '../log/logger.js';
import { createStorageDriver, preferredChunkSize } from '../storage/drivers.js';
import { wrapDriver } from '../storage/base.js';
import { RedirectMiddleware } from '../storage/middleware/redirect-middleware.js';
import { startGarbageRelief } from '../runtime/garbage-relief.js';
import type { StorageDriver } from '../storage/driver.js';
import type { ListenAddress } from '../http/server.js';
import { startWharf, type RunningWharf, type WharfOptions } from '../startup.js';
import { VERSION } from '../version.js';
import { banner, enabledFeatures, operationsOptions } from './operations-config.js';
import { authOptions, tlsSettings } from './auth-options.js';
import { upstreamsFromConfig } from '../proxy/setup.js';

/** `http.addr` (`host:port`, `:port`, `[v6]:port`, or a socket path with `http.net: unix`). */
export function listenAddress(http: WharfConfig['http']): ListenAddress {
  if (http.net === 'unix') return { path: http.addr };
  const colon = http.addr.lastIndexOf(':');
  const host = http.addr.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(http.addr.slice(colon + 1)) };
}

export function driverParameters(storage: WharfConfig['storage'], s3Settings: WharfConfig['wharf']['s3']): Record<string, unknown> {
  if (storage.driver === 's3') return { ...storage.s3, delimiterlisting: s3Settings.delimiterlisting };
  if (storage.driver === 'azure') return { ...storage.azure };
  return storage.driver === 'filesystem' ? { ...storage.filesystem } : {};
}

/** distribution's `validation` section as the manifest store applies it (a URL matching any allow pattern passes, as in distribution). */
export function referencePolicy(validation: WharfConfig['validation']): ReferencePolicy {
  return {
    verify: !validation.disabled,
    urlAllow: validation.manifests.urls.allow.map(compileUrlPattern),
    urlDeny: validation.manifests.urls.deny.map(compileUrlPattern),
    indexPlatforms: validation.manifests.indexes.platforms,
    platformList: validation.manifests.indexes.platformlist,
  };
}

export function wharfOptions(config: Readonly<WharfConfig>, driver: StorageDriver, log: Logger): WharfOptions {
  const purging = config.storage.maintenance.uploadpurging;
  return {
    driver,
    log,
    address: listenAddress(config.http),
    deleteEnabled: config.storage.delete.enabled,
    readOnly: config.storage.maintenance.readonly.enabled,
    prefix: config.http.prefix,
    host: config.http.host,
    relativeUrls: config.http.relativeurls,
    headers: config.http.headers,
    accessLog: !config.log.accesslog.disabled,
    limits: {
      manifestMaxSize: config.wharf.manifests.maxsize,
      catalogMaxEntries: config.catalog.maxentries,
      tagsMaxTags: config.tags.maxtags,
      redirect: !config.storage.redirect.disable,
      chunkMinLength: preferredChunkSize(config.storage.driver, driverParameters(config.storage, config.wharf.s3)),
    },
    timeouts: {
      headerMs: config.wharf.http.timeouts.header,
      idleMs: config.wharf.http.timeouts.idle,
      requestMs: config.wharf.http.timeouts.request,
    },
    referrersPageSize: config.wharf.referrers.pagesize,
    referencePolicy: referencePolicy(config.validation),
    cache: config.wharf.cache.ttl > 0 && config.wharf.cache.maxbytes > 0 ? { ttlMs: config.wharf.cache.ttl, maxBytes: config.wharf.cache.maxbytes } : undefined,
    uploadPurging: purging.enabled ? { ageMs: purging.age, intervalMs: purging.interval, dryRun: purging.dryrun } : undefined,
    gc: config.gc.enabled
      ? { intervalMs: config.gc.interval, deleteUntagged: config.gc.deleteuntagged, dryRun: config.gc.dryrun, drainTimeoutMs: config.gc.draintimeout }
      : undefined,
    ...operationsOptions(config),
    auth: authOptions(config),
    tls: tlsSettings(config.http),
    upstreams: upstreamsFromConfig(config.proxy, config.upstreams ?? []),
  };
}

export async function serve(loaded: LoadedConfig): Promise<RunningWharf> {
  const { config } = loaded;
  const log = createLogger({ level: config.log.level, formatter: config.log.formatter, fields: config.log.fields });
  for (const warning of loaded.warnings) log.warn({ source: loaded.source }, warning);
  const baseDriver = await createStorageDriver(config.storage.driver, driverParameters(config.storage, config.wharf.s3));
  const redirectBase = config.middleware.redirectBaseURL;
  const driver = redirectBase === undefined ? baseDriver : wrapDriver(new RedirectMiddleware(baseDriver, redirectBase));
  const options = wharfOptions(config, driver, log);
  const running = await startWharf(options);
  const stopRelief = startGarbageRelief();
  const address = options.address.path ?? `${options.address.host ?? '0.0.0.0'}:${running.server.port ?? ''}`;
  const startup = {
    version: VERSION,
    address: options.address.path ?? (running.url ?? address).replace(/^https?:\/\//, ''),
    config: loaded.source,
    storage: config.storage.driver === 'filesystem' ? `filesystem ${config.storage.filesystem.rootdirectory}` : config.storage.driver,
    deletes: options.deleteEnabled,
    readOnly: options.readOnly,
    ...enabledFeatures(config, options, running),
  };
  log.info(startup, 'listening');
  if (process.stderr.isTTY) process.stderr.write(banner(startup));

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, drainMs: config.http.draintimeout }, 'shutting down');
    stopRelief();
    void running.stop(config.http.draintimeout).then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return running;
}
