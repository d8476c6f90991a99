/**
 * Pull-through events: each blob or manifest the cache fetched from an upstream becomes a `pull`
 * event whose target names the upstream (`upstream`, and `url` at the upstream), beside the
 * ordinary `pull` event of the client's request.
 */
import type { Logger } from '../log/logger.js';
import type { ProxyListener, PullThrough } from '../proxy/events.js';
import { newEvent, type SourceRecord } from './envelope.js';
import type { Notifier } from './notifier.js';

export function pullThroughEvents(notifier: Notifier, source: SourceRecord, log: Logger): ProxyListener {
  return {
    pulledThrough(fetched: PullThrough): void {
      const { upstream } = fetched;
      const kind = fetched.kind === 'blob' ? 'blobs' : 'manifests';
      const event = newEvent('pull', {
        repository: fetched.repository,
        digest: fetched.digest,
        size: fetched.size,
        length: fetched.size,
        ...(fetched.mediaType !== undefined && { mediaType: fetched.mediaType }),
        ...(fetched.tag !== undefined && { tag: fetched.tag }),
        url: `${upstream.url.replace(/\/+$/, '')}/v2/${upstream.repository}/${kind}/${fetched.digest}`,
        upstream: upstream.name,
      }, undefined, source);
      notifier.emit(event).catch((err: unknown) => log.error({ err, digest: fetched.digest }, 'could not queue a pull-through event'));
    },
  };
}
