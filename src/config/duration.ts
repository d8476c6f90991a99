/**
 * Go durations, as distribution's configuration writes them.
 *
 * Go's `time.ParseDuration` grammar: an optional sign, then one or more `<number><unit>` pairs
 * (`"168h"`, `"1h30m"`, `"1.5s"`, `".5m"`, `"500ms"`); units are `ns`, `us` (`µs`, `μs`), `ms`,
 * `s`, `m`, `h`; the lone string `"0"` needs no unit. A bare YAML integer in a `time.Duration`
 * field is a count of nanoseconds (gopkg.in/yaml.v2 stores the integer as is), so `draintimeout: 60`
 * means 60 ns, not 60 s.
 *
 * Wharf keeps durations as milliseconds (a number, possibly fractional for sub-millisecond values).
 */

const NS_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['µs', 1e3], // U+00B5 micro sign
  ['μs', 1e3], // U+03BC Greek mu
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);

/** Largest duration Go can represent: 2^63-1 ns (about 292 years). */
const MAX_NS = 9223372036854775807;

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/**
 * Parses a Go duration string into nanoseconds, following `time.ParseDuration`.
 * Throws `DurationError` with Go's wording on malformed input.
 */
export function parseGoDurationNs(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new DurationError(`invalid duration ${quoted}`);
  let total = 0;
  while (s !== '') {
    const match = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2];
    if (whole === '' && (fraction === undefined || fraction === '')) {
      throw new DurationError(`invalid duration ${quoted}`);
    }
    s = s.slice(match?.[0].length ?? 0);
    const unitMatch = /^[^\d.]*/.exec(s);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') throw new DurationError(`missing unit in duration ${quoted}`);
    const scale = NS_PER_UNIT.get(unit);
    if (scale === undefined) throw new DurationError(`unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    const value = Number(`${whole === '' ? '0' : whole}.${fraction ?? ''}0`);
    total += value * scale;
    if (total > MAX_NS) throw new DurationError(`invalid duration ${quoted}`);
  }
  return negative ? -total : total;
}

/** How a configuration key reads a plain number (a YAML integer with no unit). */
export type BareNumbers =
  /** distribution's `time.Duration` fields: an integer counts nanoseconds */
  | 'nanoseconds'
  /** only `0` (meaning "none") is accepted; anything else must carry a unit */
  | 'zero-only'
  /** distribution reads the key with `time.ParseDuration` on a string: numbers are refused */
  | 'never';

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Reads a configuration value as a non-negative duration in milliseconds.
 * Strings use Go's grammar; numbers follow `bareNumbers`.
 */
export function durationToMs(value: unknown, bareNumbers: BareNumbers): DurationResult {
  if (typeof value === 'string') {
    try {
      const ns = parseGoDurationNs(value.trim());
      if (ns < 0) return { ok: false, message: `must not be negative, got ${JSON.stringify(value)}` };
      return { ok: true, ms: ns / 1e6 };
    } catch (err) {
      if (err instanceof DurationError) return { ok: false, message: `${err.message} (write e.g. "30s", "1h30m", "500ms")` };
      throw err;
    }
  }
  if (typeof value === 'number') {
    if (bareNumbers === 'never') {
      return { ok: false, message: `expected a duration string such as "168h", got number ${value}` };
    }
    if (bareNumbers === 'zero-only' && value !== 0) {
      return { ok: false, message: `a bare number is ambiguous here; write a duration with a unit such as "${value}s" (only 0 may stand alone)` };
    }
    if (!Number.isInteger(value)) {
      return { ok: false, message: `a bare number counts nanoseconds and must be an integer, got ${value}; write a duration such as "1.5s"` };
    }
    if (value < 0) return { ok: false, message: `must not be negative, got ${value}` };
    return { ok: true, ms: value / 1e6 };
  }
  return { ok: false, message: `expected a duration such as "30s", got ${describeValue(value)}` };
}

/**
 * Formats milliseconds as a compact Go duration string that `parseGoDurationNs` reads back
 * exactly: `604800000` → `"168h"`, `5400000` → `"1h30m"`, `0.5` → `"500us"`, `0` → `"0s"`.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let ns = Math.round(ms * 1e6);
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const parts: string[] = [];
  const units: ReadonlyArray<[string, number]> = [
    ['h', 3600e9],
    ['m', 60e9],
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
    ['ns', 1],
  ];
  for (const [unit, size] of units) {
    const count = Math.floor(ns / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      ns -= count * size;
    }
  }
  return sign + parts.join('');
}

/** A short YAML-flavoured description of a value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
