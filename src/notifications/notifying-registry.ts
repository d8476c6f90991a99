/**
 * The registry decorator that emits distribution's events: push (manifest PUT, upload complete),
 * pull (manifest GET/HEAD, blob GET/HEAD, as distribution does), mount, and delete (manifest,
 * tag, blob; a manifest deleted by digest also sends one for each tag it took away). Events of
 * changes (push, mount, delete) are on disk before the request is answered; pull events are queued
 * without waiting, so reads pay no disk flush (a crash may lose the pull events of the last
 * moments, never a push's).
 */
import type { Digest } from '../registry/digest.js';
import type { Reference } from '../registry/reference.js';
import {
  ForwardingRegistry, type BlobHandle, type BlobInfo, type MountSource, type OpContext, type PutManifestRequest,
  type PutManifestResult, type Registry, type StoredManifest, type UploadBody,
} from '../registry/registry.js';
import type { Logger } from '../log/logger.js';
import { manifestReferences, newEvent, type EventAction, type EventTarget, type OriginOf, type SourceRecord } from './envelope.js';
import type { Notifier } from './notifier.js';

const BLOB_MEDIA_TYPE = 'application/octet-stream';

export interface NotifyingOptions {
  readonly notifier: Notifier;
  readonly originOf: OriginOf;
  readonly source: SourceRecord;
  /** `notifications.events.includereferences`: manifest events list the descriptors they refer to. */
  readonly includeReferences: boolean;
  readonly log: Logger;
}

export class NotifyingRegistry extends ForwardingRegistry {
  constructor(inner: Registry, private readonly options: NotifyingOptions) {
    super(inner);
  }

  private event(action: EventAction, target: (url: (path: string) => string) => EventTarget, ctx: OpContext) {
    const origin = this.options.originOf(ctx);
    return newEvent(action, target(origin?.url ?? ((path) => `/v2${path}`)), origin, this.options.source);
  }

  /** Queues a change's event and waits until it is durable. */
  private async durable(action: EventAction, target: (url: (path: string) => string) => EventTarget, ctx: OpContext): Promise<void> {
    await this.options.notifier.emit(this.event(action, target, ctx));
  }

  /** Queues a pull's event without waiting. */
  private pull(target: (url: (path: string) => string) => EventTarget, ctx: OpContext): void {
    this.options.notifier.emit(this.event('pull', target, ctx)).catch((err: unknown) => {
      this.options.log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not queue a pull event');
    });
  }

  private blobTarget(name: string, blob: BlobInfo, from?: string) {
    return (url: (path: string) => string): EventTarget => ({
      mediaType: BLOB_MEDIA_TYPE,
      size: blob.size,
      digest: blob.digest.value,
      length: blob.size,
      repository: name,
      ...(from !== undefined && { fromRepository: from }),
      url: url(`/${name}/blobs/${blob.digest.value}`),
    });
  }

  private manifestTarget(name: string, digest: Digest, mediaType: string, bytes: Buffer, tag: string | undefined) {
    return (url: (path: string) => string): EventTarget => ({
      mediaType,
      size: bytes.length,
      digest: digest.value,
      length: bytes.length,
      repository: name,
      url: url(`/${name}/manifests/${digest.value}`),
      ...(tag !== undefined && { tag }),
      ...(this.options.includeReferences && { references: manifestReferences(bytes) }),
    });
  }

  override async blob(name: string, digest: Digest, ctx: OpContext): Promise<BlobHandle> {
    const handle = await super.blob(name, digest, ctx);
    this.pull(this.blobTarget(name, handle), ctx);
    return handle;
  }

  override async deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    await super.deleteBlob(name, digest, ctx);
    await this.durable('delete', () => ({ repository: name, digest: digest.value }), ctx);
  }

  override async mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined> {
    const mounted = await super.mountBlob(name, digest, from, ctx);
    if (mounted !== undefined) await this.durable('mount', this.blobTarget(name, mounted, typeof from === 'string' ? from : undefined), ctx);
    return mounted;
  }

  override async completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    const blob = await super.completeUpload(name, id, digest, body, ctx);
    await this.durable('push', this.blobTarget(name, blob), ctx);
    return blob;
  }

  override async getManifest(name: string, reference: Reference, ctx: OpContext): Promise<StoredManifest> {
    const manifest = await super.getManifest(name, reference, ctx);
    const tag = reference.kind === 'tag' ? reference.tag : undefined;
    this.pull(this.manifestTarget(name, manifest.digest, manifest.mediaType, manifest.bytes, tag), ctx);
    return manifest;
  }

  override async putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    const result = await super.putManifest(request, ctx);
    const mediaType = manifestMediaType(request);
    // One event per tag the push set (none by digest without `?tag=`), as distribution sends one per tagged push.
    const tags = new Set([...(request.reference.kind === 'tag' ? [request.reference.tag] : []), ...result.tags]);
    const targets = tags.size === 0 ? [undefined] : [...tags];
    for (const tag of targets) await this.durable('push', this.manifestTarget(request.name, result.digest, mediaType, request.bytes, tag), ctx);
    return result;
  }

  override async deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    const untagged = await super.deleteManifest(name, reference, ctx);
    if (reference.kind === 'digest') await this.durable('delete', () => ({ repository: name, digest: reference.digest.value }), ctx);
    // A delete by digest takes every tag on it away too: one event per tag, after the digest's, as distribution sends.
    for (const tag of untagged) await this.durable('delete', () => ({ repository: name, tag }), ctx);
    return untagged;
  }
}

/** The manifest's media type: its `mediaType` field, else the request's Content-Type. */
function manifestMediaType(request: PutManifestRequest): string {
  try {
    const parsed = JSON.parse(request.bytes.toString('utf8')) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string' && parsed.mediaType !== '') return parsed.mediaType;
  } catch {
    // the store has accepted it, so it parsed; fall through all the same
  }
  return request.contentType?.split(';')[0]?.trim() ?? '';
}
