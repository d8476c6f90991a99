/**
 * distribution's notification event and envelope, field for field, so that webhook receivers
 * written for distribution read Wharf's events unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { OpContext } from '../registry/registry.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v2+json';

export type EventAction = 'push' | 'pull' | 'mount' | 'delete';

export interface EventDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface EventTarget {
  readonly mediaType?: string;
  readonly size?: number;
  readonly digest?: string;
  readonly length?: number;
  readonly repository: string;
  readonly fromRepository?: string;
  readonly url?: string;
  readonly tag?: string;
  readonly references?: readonly EventDescriptor[];
  /** Wharf's addition on pull-through events: the name of the upstream the content came from. */
  readonly upstream?: string;
}

export interface RequestRecord {
  readonly id: string;
  readonly addr: string;
  readonly host: string;
  readonly method: string;
  readonly useragent: string;
}

export interface ActorRecord {
  readonly name?: string;
}

export interface SourceRecord {
  readonly addr: string;
  readonly instanceID: string;
}

export interface NotificationEvent {
  readonly id: string;
  readonly timestamp: string;
  readonly action: EventAction;
  readonly target: EventTarget;
  readonly request: RequestRecord;
  readonly actor: ActorRecord;
  readonly source: SourceRecord;
}

/** Where an operation came from: the HTTP request, who made it, and how to name URLs for it. */
export interface EventOrigin {
  readonly request: RequestRecord;
  readonly actor: ActorRecord;
  /** An absolute (or relative, with `http.relativeurls`) URL of the API; `path` is below `/v2`. */
  url(path: string): string;
}

/** Finds the origin of an operation from its context; undefined for operations not made over HTTP. */
export type OriginOf = (ctx: OpContext) => EventOrigin | undefined;

const NO_REQUEST: RequestRecord = { id: '', addr: '', host: '', method: '', useragent: '' };

/** A new event, stamped now with a fresh id. */
export function newEvent(action: EventAction, target: EventTarget, origin: EventOrigin | undefined, source: SourceRecord): NotificationEvent {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target,
    request: origin?.request ?? NO_REQUEST,
    actor: origin?.actor ?? {},
    source,
  };
}

/** The body of one delivery: an envelope around events already serialised as JSON. */
export function envelope(serialisedEvents: readonly string[]): string {
  return `{"events":[${serialisedEvents.join(',')}]}`;
}

/** The descriptors a manifest refers to (config, layers, or an index's manifests), for `includereferences`. */
export function manifestReferences(bytes: Buffer): EventDescriptor[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const doc = parsed as Record<string, unknown>;
  const out: EventDescriptor[] = [];
  const add = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    const d = value as Record<string, unknown>;
    if (typeof d.digest === 'string' && typeof d.size === 'number') {
      out.push({ mediaType: typeof d.mediaType === 'string' ? d.mediaType : '', digest: d.digest, size: d.size });
    }
  };
  add(doc.config);
  for (const key of ['layers', 'manifests'] as const) {
    const list = doc[key];
    if (Array.isArray(list)) list.forEach(add);
  }
  return out;
}
