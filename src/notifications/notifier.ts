/**
 * The notification hub: one durable journal and one sender per enabled endpoint. `emit` applies
 * each endpoint's ignore rules and appends the event to the journals that want it; that is all a
 * request ever waits for, so a slow or dead endpoint never slows a push or a pull.
 *
 * Journals live in `<queueDir>/<endpoint name, encoded>/`. Each instance needs its own queue
 * directory: two processes appending to one journal would interleave and deliver twice.
 */
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { EventAction, NotificationEvent } from './envelope.js';
import { wants, type IgnoreRules } from './filter.js';
import { Journal } from './journal.js';
import { EndpointSender, type DeliveryObserver, type EndpointOptions } from './sender.js';

export interface EndpointSettings extends EndpointOptions {
  readonly ignore: IgnoreRules;
}

export interface NotifierObserver extends DeliveryObserver {
  queued(endpoint: string, action: EventAction): void;
}

interface Endpoint {
  readonly settings: EndpointSettings;
  readonly journal: Journal;
  readonly sender: EndpointSender;
}

/** A directory name for an endpoint: its name with anything but [A-Za-z0-9._-] percent-encoded. */
export function endpointDirName(name: string): string {
  const encoded = name.replace(/[^A-Za-z0-9._-]/g, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2e') : encoded;
}

export class Notifier {
  private constructor(private readonly endpoints: readonly Endpoint[], private readonly observer: NotifierObserver) {}

  static async open(queueDir: string, settings: readonly EndpointSettings[], observer: NotifierObserver): Promise<Notifier> {
    const endpoints: Endpoint[] = [];
    for (const s of settings) {
      const journal = await Journal.open(join(queueDir, endpointDirName(s.name)));
      endpoints.push({ settings: s, journal, sender: new EndpointSender(s, journal, observer) });
    }
    return new Notifier(endpoints, observer);
  }

  /** Starts delivering (what was queued before a restart first). */
  start(): void {
    for (const endpoint of this.endpoints) endpoint.sender.start();
  }

  /** Queues an event for every endpoint that wants it; resolves once it is on disk for all of them. */
  async emit(event: NotificationEvent): Promise<void> {
    let json: string | undefined;
    const writes: Promise<void>[] = [];
    for (const endpoint of this.endpoints) {
      if (!wants(endpoint.settings.ignore, event)) continue;
      json ??= JSON.stringify(event);
      writes.push(endpoint.journal.append(json));
      this.observer.queued(endpoint.settings.name, event.action);
    }
    await Promise.all(writes);
  }

  /** Events not yet delivered, by endpoint. */
  pending(): Record<string, number> {
    return Object.fromEntries(this.endpoints.map((e) => [e.settings.name, e.journal.pending]));
  }

  /** Stops the senders and closes the journals (queued events stay for the next start). */
  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.sender.stop()));
    await Promise.all(this.endpoints.map((e) => e.journal.close()));
  }
}

/** A NotifierObserver that logs failures (every one until the threshold, then every tenth). */
export function loggingObserver(log: Logger, inner: NotifierObserver, threshold = 10): NotifierObserver {
  return {
    ...inner,
    queued: (endpoint, action) => inner.queued(endpoint, action),
    delivered: (endpoint, count) => inner.delivered(endpoint, count),
    pending: (endpoint, count) => inner.pending(endpoint, count),
    failed: (endpoint, reason, consecutive) => {
      inner.failed(endpoint, reason, consecutive);
      if (consecutive <= threshold || consecutive % 10 === 0) log.warn({ endpoint, reason, consecutive }, 'notification delivery failed');
    },
  };
}
