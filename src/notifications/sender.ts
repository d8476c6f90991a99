/**
 * Delivers one endpoint's journal, in order, one request in flight at a time: POST an envelope of
 * the oldest undelivered events (up to 100, as distribution sends what has queued up in one
 * envelope), and on a 2xx or 3xx answer move past them; on anything else try again from the same
 * first event.
 * The first `threshold` consecutive failures are retried after a short pause; from then on the
 * endpoint backs off: `backoff`, doubling with each further failure, at most 60 s (or `backoff`
 * when it is longer). Pushes and pulls never wait for this: they only append to the journal.
 */
import { envelope, EVENTS_MEDIA_TYPE } from './envelope.js';
import type { Journal } from './journal.js';

export interface EndpointOptions {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly timeoutMs: number;
  readonly threshold: number;
  readonly backoffMs: number;
}

/** Told about deliveries (metrics, logs). */
export interface DeliveryObserver {
  /** `count` events were accepted by the endpoint. */
  delivered(endpoint: string, count: number): void;
  failed(endpoint: string, reason: string, consecutive: number): void;
  pending(endpoint: string, count: number): void;
}

const RETRY_PAUSE_MS = 50;
/** Events per envelope at most, and about this many bytes. */
const BATCH_EVENTS = 100;
const BATCH_BYTES = 256 * 1024;
const MAX_BACKOFF_MS = 60_000;

/** The pause before the next attempt after `failures` consecutive failures. */
export function retryDelay(failures: number, threshold: number, backoffMs: number): number {
  if (failures < Math.max(threshold, 1)) return RETRY_PAUSE_MS;
  const doublings = Math.min(failures - Math.max(threshold, 1), 20);
  return Math.min(backoffMs * 2 ** doublings, Math.max(MAX_BACKOFF_MS, backoffMs));
}

export class EndpointSender {
  private readonly stopper = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly headers: Headers;

  constructor(
    private readonly options: EndpointOptions,
    readonly journal: Journal,
    private readonly observer: DeliveryObserver,
  ) {
    this.headers = new Headers();
    for (const [name, values] of Object.entries(options.headers)) for (const value of values) this.headers.append(name, value);
    this.headers.set('Content-Type', EVENTS_MEDIA_TYPE);
    journal.onAppend(() => {
      observer.pending(options.name, journal.pending);
      this.wake?.();
    });
  }

  start(): void {
    this.observer.pending(this.options.name, this.journal.pending);
    this.loop ??= this.run();
  }

  /** Stops after the delivery in flight (which is abandoned: it is sent again at the next start). */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    let failures = 0;
    while (!signal.aborted) {
      const batch = await this.journal.next(BATCH_EVENTS, BATCH_BYTES);
      if (batch === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.journal.pending > 0 || signal.aborted) resolve();
        });
        this.wake = undefined;
        continue;
      }
      const failure = await this.deliver(batch.lines, signal);
      if (signal.aborted) break;
      if (failure === undefined) {
        failures = 0;
        await this.journal.ack(batch);
        this.observer.delivered(this.options.name, batch.lines.length);
        this.observer.pending(this.options.name, this.journal.pending);
      } else {
        failures++;
        this.observer.failed(this.options.name, failure, failures);
        await sleep(retryDelay(failures, this.options.threshold, this.options.backoffMs), signal);
      }
    }
  }

  /** Undefined on success, else why it failed. */
  private async deliver(lines: readonly string[], stop: AbortSignal): Promise<string | undefined> {
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: this.headers,
        body: envelope(lines),
        redirect: 'manual',
        signal: AbortSignal.any([stop, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400 ? undefined : `the endpoint answered ${response.status}`;
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${this.options.timeoutMs} ms`;
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return `${err instanceof Error ? err.message : String(err)}${cause}`;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
