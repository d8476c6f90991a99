/**
 * A switchable read-only mode for the in-process collector. GatedRegistry counts the writes under
 * way (uploads, manifest pushes, deletes, mounts) and, while the gate is closed, refuses new ones
 * with the read-only error of `storage.maintenance.readonly` (405 UNSUPPORTED). Reads go on.
 *
 * Closing the gate waits for the writes already under way to finish, so that nothing is written
 * while the collector marks and sweeps: a blob pushed during the mark would otherwise be unmarked
 * and swept. A write that does not finish within the drain timeout makes the run give up (the gate
 * opens again and the next run tries again); the collector never starts with a write in flight.
 */
import { RegistryError } from '../registry/errors.js';
import {
  ForwardingRegistry, type BlobInfo, type MountSource, type OpContext, type PutManifestRequest, type PutManifestResult, type UploadBody,
  type UploadStatus,
} from '../registry/registry.js';
import type { Digest } from '../registry/digest.js';
import type { Reference } from '../registry/reference.js';

export class GateDrainTimeoutError extends Error {
  override readonly name = 'GateDrainTimeoutError';
}

const refused = (): RegistryError =>
  new RegistryError('UNSUPPORTED', { reason: 'read-only' }, {
    message: 'the registry is in read-only mode while garbage collection runs: writes are refused, retry shortly',
  });

export class WriteGate {
  private closed = false;
  private inFlight = 0;
  private drained: (() => void)[] = [];

  get isClosed(): boolean {
    return this.closed;
  }

  get writesInFlight(): number {
    return this.inFlight;
  }

  /** Runs a write, or refuses it while the gate is closed. */
  async write<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) throw refused();
    this.inFlight++;
    try {
      return await op();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /** Refuses new writes and waits for those under way; on timeout, opens again and throws. */
  async close(drainTimeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((resolve) => this.drained.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), drainTimeoutMs);
      timer.unref();
    });
    const ok = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    if (!ok) {
      const pending = this.inFlight;
      this.open();
      throw new GateDrainTimeoutError(`${pending} write(s) still under way after ${drainTimeoutMs} ms`);
    }
  }

  open(): void {
    this.closed = false;
  }
}

export class GatedRegistry extends ForwardingRegistry {
  constructor(inner: ConstructorParameters<typeof ForwardingRegistry>[0], private readonly gate: WriteGate) {
    super(inner);
  }
  override deleteBlob(name: string, digest: Digest, ctx: OpContext): Promise<void> {
    return this.gate.write(() => super.deleteBlob(name, digest, ctx));
  }
  override mountBlob(name: string, digest: Digest, from: MountSource, ctx: OpContext): Promise<BlobInfo | undefined> {
    return this.gate.write(() => super.mountBlob(name, digest, from, ctx));
  }
  override startUpload(name: string, ctx: OpContext): Promise<UploadStatus> {
    return this.gate.write(() => super.startUpload(name, ctx));
  }
  override appendUpload(name: string, id: string, body: UploadBody, ctx: OpContext): Promise<UploadStatus> {
    return this.gate.write(() => super.appendUpload(name, id, body, ctx));
  }
  override completeUpload(name: string, id: string, digest: Digest, body: UploadBody | undefined, ctx: OpContext): Promise<BlobInfo> {
    return this.gate.write(() => super.completeUpload(name, id, digest, body, ctx));
  }
  override cancelUpload(name: string, id: string, ctx: OpContext): Promise<void> {
    return this.gate.write(() => super.cancelUpload(name, id, ctx));
  }
  override putManifest(request: PutManifestRequest, ctx: OpContext): Promise<PutManifestResult> {
    return this.gate.write(() => super.putManifest(request, ctx));
  }
  override deleteManifest(name: string, reference: Reference, ctx: OpContext): Promise<readonly string[]> {
    return this.gate.write(() => super.deleteManifest(name, reference, ctx));
  }
}
