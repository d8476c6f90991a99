/**
 * Garbage relief: prompt young-generation collections while data streams through the process.
 *
 * Every socket read and every file read hands out a fresh Buffer. Once written on, it is garbage,
 * but its bytes live outside V8's heap and are freed only when V8 collects the small object that
 * holds them. V8 waits for tens of MiB of such external memory before it does, so with twenty
 * uploads at once that garbage held 30–40 MiB of RSS. A timer checks V8's external memory
 * and asks for a scavenge (about a millisecond) each time it has grown by `thresholdBytes`; the
 * dead buffers go with it. An idle process is never collected.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * V8's `gc`. Without options it collects everything it can, as often as that takes, and so is the
 * one that lets FinalizationRegistry callbacks run for what it freed (a single `major` does not).
 */
export type Collect = (options?: { type: 'minor' | 'major'; execution: 'async' | 'sync' }) => void;

export interface GarbageReliefOptions {
  /** How often external memory is checked. */
  readonly intervalMs?: number;
  /** Growth of external memory since the last look-back point that asks for a collection. */
  readonly thresholdBytes?: number;
  /** The collector; V8's own (see `v8Collector`) by default. */
  readonly collect?: Collect | undefined;
  /** External memory in bytes now; V8's heap statistics by default. */
  readonly externalBytes?: () => number;
}

const DEFAULT_INTERVAL_MS = 10;
const DEFAULT_THRESHOLD_BYTES = 4 * 1024 * 1024;

/**
 * V8's collector, as `--expose-gc` would expose it, without the flag (so `node dist/src/main.js`
 * gets it too) and without a global `gc`: the flag is on only while one new context is made.
 */
export function v8Collector(): Collect | undefined {
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  v8.setFlagsFromString('--expose-gc');
  try {
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as Collect) : undefined;
  } catch {
    return undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Starts the checks; returns the function that stops them. Without a collector, does nothing. */
export function startGarbageRelief(options: GarbageReliefOptions = {}): () => void {
  const collect = 'collect' in options ? options.collect : v8Collector();
  if (collect === undefined) return () => {};
  const externalBytes = options.externalBytes ?? (() => v8.getHeapStatistics().external_memory);
  const threshold = options.thresholdBytes ?? DEFAULT_THRESHOLD_BYTES;
  let base = externalBytes();
  const timer = setInterval(() => {
    const now = externalBytes();
    if (now - base >= threshold) {
      collect({ type: 'minor', execution: 'async' });
      base = now;
    } else if (now < base) {
      base = now; // collected (by us or by V8): measure growth from here
    }
  }, options.intervalMs ?? DEFAULT_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
