/**
 * Maps the operational sections of the configuration (`http.debug`, `health`, `notifications`,
 * `wharf.notifications`) onto WharfOptions, and writes the start-up banner.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WharfConfig } from '../config/schema.js';
import type { ListenAddress } from '../http/server.js';
import { WharfMetrics } from '../metrics/metrics.js';
import type { EndpointSettings } from '../notifications/notifier.js';
import type { NotificationOptions, RunningWharf, WharfOptions } from '../startup.js';
import { VERSION } from '../version.js';

/** The queue directory: `wharf.notifications.queuedir`, else `.wharf-events` in the filesystem root (a temporary directory for inmemory storage). */
export function queueDir(config: Readonly<WharfConfig>): string {
  const configured = config.wharf.notifications.queuedir;
  if (configured !== undefined && configured.trim() !== '') return resolve(configured);
  if (config.storage.driver === 'filesystem') return join(resolve(config.storage.filesystem.rootdirectory), '.wharf-events');
  return join(tmpdir(), `wharf-events-${process.pid}`);
}

export function notificationOptions(config: Readonly<WharfConfig>): NotificationOptions | undefined {
  const endpoints: EndpointSettings[] = config.notifications.endpoints
    .filter((endpoint) => !endpoint.disabled)
    .map((endpoint) => ({
      name: endpoint.name,
      url: endpoint.url,
      headers: endpoint.headers,
      timeoutMs: endpoint.timeout,
      threshold: endpoint.threshold,
      backoffMs: endpoint.backoff,
      ignore: { mediaTypes: [...endpoint.ignoredmediatypes, ...endpoint.ignore.mediatypes], actions: endpoint.ignore.actions },
    }));
  if (endpoints.length === 0) return undefined;
  return { queueDir: queueDir(config), endpoints, includeReferences: config.notifications.events.includereferences };
}

function debugAddress(addr: string): ListenAddress {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(addr.slice(colon + 1)) };
}

/** The options for metrics, the debug listener, health checks and notifications. */
export function operationsOptions(config: Readonly<WharfConfig>): Pick<WharfOptions, 'metrics' | 'debug' | 'health' | 'notifications'> {
  const debug = config.http.debug;
  const listening = debug.addr !== undefined && debug.addr.trim() !== '';
  return {
    metrics: listening && debug.prometheus.enabled ? new WharfMetrics() : undefined,
    debug: listening ? { address: debugAddress(debug.addr?.trim() ?? ''), metricsPath: debug.prometheus.path } : undefined,
    health: config.health,
    notifications: notificationOptions(config),
  };
}

/** What is enabled, for the `listening` log line and the banner. */
export function enabledFeatures(config: Readonly<WharfConfig>, options: WharfOptions, running: RunningWharf): Record<string, unknown> {
  const checks = (config.health.storagedriver.enabled ? 1 : 0) + config.health.file.length + config.health.http.length + config.health.tcp.length;
  return {
    auth: options.auth?.provider.kind ?? 'none',
    tls: options.tls !== undefined,
    debug: running.debugUrl?.replace(/^http:\/\//, ''),
    metrics: options.metrics !== undefined && running.debugUrl !== undefined ? `${running.debugUrl}${options.debug?.metricsPath ?? '/metrics'}` : undefined,
    healthChecks: checks,
    notifications: options.notifications?.endpoints.map((e) => e.name) ?? [],
    eventQueue: options.notifications?.queueDir,
    cache: options.cache !== undefined,
    uploadPurging: options.uploadPurging !== undefined,
  };
}

/** A readable start-up block for a terminal. */
export function banner(fields: Record<string, unknown>): string {
  const rows: [string, string][] = [
    ['address', String(fields.address)],
    ['storage', String(fields.storage)],
    ['auth', String(fields.auth)],
    ['deletes', fields.deletes === true ? 'enabled' : 'disabled'],
    ['read-only', fields.readOnly === true ? 'yes' : 'no'],
    ['cache', fields.cache === true ? 'in-process' : 'off'],
    ['debug', fields.debug === undefined ? 'off' : String(fields.debug)],
    ['metrics', fields.metrics === undefined ? 'off' : String(fields.metrics)],
    ['health checks', String(fields.healthChecks)],
    ['notifications', (fields.notifications as string[]).length === 0 ? 'off' : `${(fields.notifications as string[]).join(', ')} (queue ${String(fields.eventQueue)})`],
    ['config', String(fields.config)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`Wharf ${VERSION}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n';
}
