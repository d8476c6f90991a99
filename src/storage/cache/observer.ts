/** Told about every lookup in an in-process cache (for metrics); caches work without one. */
export interface CacheObserver {
  hit(): void;
  miss(): void;
}
