/**
 * Failed logins per client address: after `failures` failures within `windowMs`, the address gets
 * 429 TOOMANYREQUESTS with `Retry-After` until the window that began with its first failure ends.
 * Counted per instance (with N instances behind a balancer, a client gets up to N × failures).
 */
import { RegistryError } from '../registry/errors.js';

export interface LoginLimit {
  readonly failures: number;
  readonly windowMs: number;
}

export const DEFAULT_LOGIN_LIMIT: LoginLimit = { failures: 10, windowMs: 60_000 };
const MAX_TRACKED = 100_000;

export class LoginLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly limit: LoginLimit, private readonly now: () => number = Date.now) {}

  /** Throws 429 when `address` has used up its failures; call before checking credentials. */
  check(address: string | undefined): void {
    if (this.limit.failures <= 0) return;
    const entry = this.windows.get(address ?? '');
    if (entry === undefined) return;
    const left = entry.start + this.limit.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(address ?? '');
      return;
    }
    if (entry.failures >= this.limit.failures) {
      throw new RegistryError('TOOMANYREQUESTS', { reason: 'too many failed logins from this address' }, {
        headers: { 'Retry-After': String(Math.ceil(left / 1000)) },
        message: 'too many failed login attempts; try again later',
      });
    }
  }

  fail(address: string | undefined): void {
    if (this.limit.failures <= 0) return;
    const key = address ?? '';
    const now = this.now();
    const entry = this.windows.get(key);
    if (entry === undefined || entry.start + this.limit.windowMs <= now) {
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      this.windows.set(key, { start: now, failures: 1 });
    } else {
      entry.failures += 1;
    }
  }

  private prune(now: number): void {
    for (const [key, entry] of this.windows) if (entry.start + this.limit.windowMs <= now) this.windows.delete(key);
    if (this.windows.size >= MAX_TRACKED) this.windows.clear();
  }
}
