/**
 * Fetches a blob from an upstream into local storage, once however many clients ask at once.
 *
 * The first client to open a cold blob (the leader) starts a fetch job: the upstream's body is
 * teed to that client and into an ordinary upload of the repository (startUpload → appendUpload
 * → completeUpload), so the digest is verified and the blob appears in storage only when it is
 * whole and correct — nothing half-written is ever served. The tee moves at the pace of the
 * slower side (both sides have a bounded buffer), so memory stays flat; when the leader goes
 * away, the job goes on at storage speed and the blob is still cached.
 *
 * Clients that ask while a job runs (followers, and any range request) wait for the job's commit
 * and then read the stored blob like any local blob. That keeps memory flat however many wait (no
 * per-follower buffer of the growing download) at the cost of their first byte arriving when the
 * fetch is done. Jobs are per process: two instances on one storage may each fetch the same cold
 * blob once; the second commit finds the blob stored and only links it.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Digest } from '../registry/digest.js';
import { RegistryError } from '../registry/errors.js';
import type { OpContext, Registry } from '../registry/registry.js';
import type { UpstreamClient } from './upstream-client.js';
import type { Route } from './routing.js';

const BUFFER = 1024 * 1024;

export interface FetchRequest {
  readonly route: Route;
  readonly client: UpstreamClient;
  readonly localName: string;
  readonly remoteName: string;
  readonly digest: Digest;
}

export interface FetchResult {
  readonly size: number;
}

interface Job {
  readonly done: Promise<FetchResult>;
  /** Bytes of the blob, once the upstream answered. */
  size: number | undefined;
}

export class BlobFetcher {
  private readonly jobs = new Map<string, Job>();

  /**
   * @param store where fetched blobs are uploaded (the storage registry, not a guarded decorator)
   * @param onStored called after each commit (to record expiry state and emit the event)
   */
  constructor(
    private readonly store: Registry,
    private readonly onStored: (request: FetchRequest, size: number) => Promise<void>,
  ) {}

  private key(request: FetchRequest): string {
    return `${request.localName}@${request.digest.value}`;
  }

  /** The size of a blob being fetched now, when one is. */
  inFlightSize(request: FetchRequest): number | undefined {
    return this.jobs.get(this.key(request))?.size;
  }

  /** Whether a fetch of this blob is running in this process. */
  inFlight(request: FetchRequest): boolean {
    return this.jobs.has(this.key(request));
  }

  /**
   * Starts a fetch and returns the leader's stream of the whole blob; or, when a fetch is already
   * running, undefined after that fetch has committed (the caller then reads the stored blob).
   */
  async join(request: FetchRequest, wantStream: boolean, ctx: OpContext): Promise<Readable | undefined> {
    const running = this.jobs.get(this.key(request));
    if (running !== undefined) {
      await waitFor(running.done, ctx.signal);
      return undefined;
    }
    const leader = wantStream ? new PassThrough({ highWaterMark: BUFFER }) : undefined;
    const job = this.start(request, leader);
    if (leader === undefined) {
      await waitFor(job.done, ctx.signal);
      return undefined;
    }
    // The leader sees failures as a broken stream; the job's own promise must not go unhandled.
    job.done.catch(() => undefined);
    return leader;
  }

  private start(request: FetchRequest, leader: PassThrough | undefined): Job {
    const key = this.key(request);
    const job: Job = { size: undefined, done: Promise.resolve({ size: 0 }) };
    const run = async (): Promise<FetchResult> => {
      const { client, localName, remoteName, digest } = request;
      const controller = new AbortController();
      const jobCtx: OpContext = { signal: controller.signal };
      const blob = await client.getBlob(remoteName, digest.value, controller.signal);
      if (blob === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value }, { message: `blob ${digest.value} is unknown to the upstream ${client.name}` });
      job.size = blob.size;
      const upload = await this.store.startUpload(localName, jobCtx);
      const toStore = new PassThrough({ highWaterMark: BUFFER });
      const teed = tee(blob.body, toStore, leader);
      try {
        await this.store.appendUpload(localName, upload.id, { stream: toStore, contentLength: blob.size }, jobCtx);
        await this.store.completeUpload(localName, upload.id, digest, undefined, jobCtx);
        teed.release();
      } catch (err) {
        blob.body.destroy();
        leader?.destroy(err as Error);
        await this.store.cancelUpload(localName, upload.id, jobCtx).catch(() => undefined);
        throw err;
      }
      await this.onStored(request, blob.size);
      return { size: blob.size };
    };
    const done = run()
      .catch((err: unknown) => {
        leader?.destroy(err as Error);
        throw err;
      })
      .finally(() => this.jobs.delete(key));
    const started: Job = Object.assign(job, { done });
    this.jobs.set(key, started);
    return started;
  }
}

/**
 * Copies `source` into `primary` (which must get every byte) and `secondary` (which may leave):
 * pauses while either is full, drops `secondary` when it closes early. The last chunk is held
 * back from `secondary`: the job hands it over (`release`) only once the digest is verified, so a
 * client never receives a whole blob that failed verification.
 */
function tee(source: Readable, primary: PassThrough, secondary: PassThrough | undefined): { release(): void } {
  let second = secondary;
  let held: Buffer | undefined;
  let primaryFull = false;
  let secondFull = false;
  const maybeResume = (): void => {
    if (!primaryFull && !secondFull) source.resume();
  };
  primary.on('drain', () => {
    primaryFull = false;
    maybeResume();
  });
  second?.on('drain', () => {
    secondFull = false;
    maybeResume();
  });
  second?.once('close', () => {
    second = undefined;
    secondFull = false;
    maybeResume();
  });
  source.on('data', (chunk: Buffer) => {
    if (!primary.write(chunk)) primaryFull = true;
    if (second !== undefined && held !== undefined && !second.write(held)) secondFull = true;
    held = chunk;
    if (primaryFull || secondFull) source.pause();
  });
  source.once('end', () => primary.end());
  source.once('error', (err) => {
    primary.destroy(err);
    second?.destroy(err);
  });
  primary.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  return {
    release: () => {
      if (second === undefined || second.destroyed) return;
      second.end(held);
    },
  };
}

function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
