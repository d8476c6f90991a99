/**
 * A StorageDriver decorator that times every call by driver and operation and counts its errors.
 * A PathNotFoundError is an answer, not a failure: it is timed but not counted as an error. The
 * `action` label spells each operation as distribution's storage metrics do (`GetContent`, `URLFor`).
 */
import type { Readable } from 'node:stream';
import type { Counter, Histogram } from 'prom-client';
import { PathNotFoundError, type CallOptions, type FileInfo, type FileWriter, type ReaderOptions, type StorageDriver, type WriterOptions } from '../storage/driver.js';
import type { WharfMetrics } from './metrics.js';

/** Each operation and its `action` label, distribution's name for it. */
const ACTION_LABELS = {
  stat: 'Stat', getContent: 'GetContent', putContent: 'PutContent', reader: 'Reader', writer: 'Writer',
  list: 'List', move: 'Move', delete: 'Delete', redirectURL: 'URLFor',
} as const;
type Action = keyof typeof ACTION_LABELS;

interface ActionMetrics {
  readonly duration: Histogram.Internal<'driver' | 'action'>;
  readonly errors: Counter.Internal;
}

export class MetricsDriver implements StorageDriver {
  readonly name: string;
  private readonly actions: Readonly<Record<Action, ActionMetrics>>;

  constructor(private readonly inner: StorageDriver, metrics: WharfMetrics) {
    this.name = inner.name;
    const actions = {} as Record<Action, ActionMetrics>;
    for (const [action, label] of Object.entries(ACTION_LABELS) as [Action, string][]) {
      actions[action] = { duration: metrics.storageDuration.labels(inner.name, label), errors: metrics.storageErrors.labels(inner.name, label) };
    }
    this.actions = actions;
  }

  private async timed<T>(action: Action, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const { duration, errors } = this.actions[action];
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) errors.inc();
      throw err;
    } finally {
      duration.observe((performance.now() - started) / 1000);
    }
  }

  stat(path: string, options?: CallOptions): Promise<FileInfo> {
    return this.timed('stat', () => this.inner.stat(path, options));
  }
  getContent(path: string, options?: CallOptions): Promise<Buffer> {
    return this.timed('getContent', () => this.inner.getContent(path, options));
  }
  putContent(path: string, content: Uint8Array, options?: CallOptions): Promise<void> {
    return this.timed('putContent', () => this.inner.putContent(path, content, options));
  }
  reader(path: string, options?: ReaderOptions): Promise<Readable> {
    return this.timed('reader', () => this.inner.reader(path, options));
  }
  writer(path: string, options?: WriterOptions): Promise<FileWriter> {
    return this.timed('writer', () => this.inner.writer(path, options));
  }
  async *list(path: string, options?: CallOptions): AsyncIterable<string> {
    const started = performance.now();
    const { duration, errors } = this.actions.list;
    try {
      yield* this.inner.list(path, options);
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) errors.inc();
      throw err;
    } finally {
      duration.observe((performance.now() - started) / 1000);
    }
  }
  move(from: string, to: string, options?: CallOptions): Promise<void> {
    return this.timed('move', () => this.inner.move(from, to, options));
  }
  delete(path: string, options?: CallOptions): Promise<void> {
    return this.timed('delete', () => this.inner.delete(path, options));
  }
  redirectURL(path: string, method: 'GET' | 'HEAD', options?: CallOptions): Promise<string | undefined> {
    return this.timed('redirectURL', () => this.inner.redirectURL?.(path, method, options) ?? Promise.resolve(undefined));
  }
}
