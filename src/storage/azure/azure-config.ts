/**
 * The `azure` driver's options from a `storage.azure` section, with distribution's names and
 * defaults: `accountname`, `accountkey`, `container`, `rootdirectory`, `realm` (core.windows.net),
 * `serviceurl` (https://<accountname>.blob.<realm>), `credentials` (shared_key, client_secret,
 * default_credentials), `max_retries` (5) and `retry_delay` (100ms) for copy status polling, and
 * their older spellings `copy_status_poll_max_retry` / `copy_status_poll_delay` (and `maxretries` /
 * `retrydelay`, which REGISTRY_STORAGE_AZURE_* variables can name: a variable cannot hold `_` in a key).
 * Strings are accepted for numbers, as REGISTRY_STORAGE_AZURE_* variables give them.
 */
import type { DriverParameters } from '../driver.js';

export type AzureCredentialsType = 'shared_key' | 'client_secret' | 'default_credentials';

export interface AzureDriverOptions {
  readonly accountName: string;
  readonly accountKey: string | undefined;
  readonly container: string;
  /** Blob name prefix, no leading or trailing slash ('' for none). */
  readonly rootDirectory: string;
  readonly serviceURL: string;
  readonly credentials:
    | { readonly type: 'shared_key' }
    | { readonly type: 'client_secret'; readonly clientId: string; readonly tenantId: string; readonly secret: string }
    | { readonly type: 'default_credentials' };
  /** Copy status polls before a move gives up (distribution: -1 = do not wait). */
  readonly maxRetries: number;
  /** Milliseconds between copy status polls, multiplied by the poll number. */
  readonly retryDelayMs: number;
}

export const DEFAULT_REALM = 'core.windows.net';

function fail(key: string, message: string): never {
  throw new Error(`storage.azure.${key} ${message}`);
}

function stringOf(p: DriverParameters, key: string, required: boolean, prefix = ''): string | undefined {
  const value = p[key];
  if (value === undefined || value === null || value === '') {
    if (required) fail(prefix + key, 'is required');
    return undefined;
  }
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return fail(prefix + key, `must be a string, got ${JSON.stringify(value)}`);
}

function intOf(p: DriverParameters, key: string): number | undefined {
  const value = p[key];
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < -1) return fail(key, `must be an integer of -1 or more, got ${JSON.stringify(value)}`);
  return n;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`100ms`, `1.5s`, `1m30s`) in milliseconds. */
export function durationMs(key: string, text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== text) return fail(key, `must be a duration such as 100ms or 1s, got ${JSON.stringify(text)}`);
  return parts.reduce((sum, m) => sum + Number(m[1]) * UNITS[m[2]!]!, 0);
}

function credentialsOf(p: DriverParameters, accountKey: string | undefined): AzureDriverOptions['credentials'] {
  const raw = p['credentials'];
  const c: DriverParameters = typeof raw === 'object' && raw !== null ? (raw as DriverParameters) : {};
  const type = stringOf(c, 'type', false, 'credentials.') ?? 'shared_key';
  if (type === 'shared_key') {
    if (accountKey === undefined) fail('accountkey', 'is required with shared key credentials (credentials.type: shared_key, the default)');
    return { type };
  }
  if (type === 'client_secret') {
    return {
      type,
      clientId: stringOf(c, 'clientid', true, 'credentials.')!,
      tenantId: stringOf(c, 'tenantid', true, 'credentials.')!,
      secret: stringOf(c, 'secret', true, 'credentials.')!,
    };
  }
  if (type === 'default_credentials') return { type };
  return fail('credentials.type', `must be one of shared_key, client_secret, default_credentials, got ${JSON.stringify(type)}`);
}

export function azureOptions(p: DriverParameters): AzureDriverOptions {
  const accountName = stringOf(p, 'accountname', true)!;
  const accountKey = stringOf(p, 'accountkey', false);
  const container = stringOf(p, 'container', true)!;
  const realm = stringOf(p, 'realm', false) ?? DEFAULT_REALM;
  const serviceURL = (stringOf(p, 'serviceurl', false) ?? `https://${accountName}.blob.${realm}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(serviceURL)) fail('serviceurl', `must be an http(s) URL, got ${JSON.stringify(serviceURL)}`);
  const delayKey = ['retry_delay', 'retrydelay', 'copy_status_poll_delay'].find((k) => stringOf(p, k, false) !== undefined) ?? 'retry_delay';
  const delay = stringOf(p, delayKey, false) ?? '100ms';
  return {
    accountName,
    accountKey,
    container,
    rootDirectory: (stringOf(p, 'rootdirectory', false) ?? '').replace(/^\/+|\/+$/g, ''),
    serviceURL,
    credentials: credentialsOf(p, accountKey),
    maxRetries: intOf(p, 'max_retries') ?? intOf(p, 'maxretries') ?? intOf(p, 'copy_status_poll_max_retry') ?? 5,
    retryDelayMs: durationMs(delayKey, delay),
  };
}
