/** A CacheObserver counting one cache's hits and misses into `registry_cache_requests_total`. */
import type { CacheObserver } from '../storage/cache/observer.js';
import type { WharfMetrics } from './metrics.js';

export function cacheObserver(metrics: WharfMetrics, cache: 'storage' | 'tags'): CacheObserver {
  const hits = metrics.cacheRequests.labels(cache, 'hit');
  const misses = metrics.cacheRequests.labels(cache, 'miss');
  return { hit: () => hits.inc(), miss: () => misses.inc() };
}
