/** A NotifierObserver feeding the notification metrics. */
import type { NotifierObserver } from '../notifications/notifier.js';
import type { WharfMetrics } from './metrics.js';

export function notificationMetrics(metrics: WharfMetrics): NotifierObserver {
  return {
    queued: (endpoint, action) => metrics.notificationEvents.labels(endpoint, action).inc(),
    delivered: (endpoint, count) => metrics.notificationDeliveries.labels(endpoint).inc(count),
    failed: (endpoint) => metrics.notificationFailures.labels(endpoint).inc(),
    pending: (endpoint, count) => metrics.notificationPending.labels(endpoint).set(count),
  };
}

/** An observer that records nothing (no metrics configured). */
export const NO_NOTIFICATION_METRICS: NotifierObserver = { queued: () => undefined, delivered: () => undefined, failed: () => undefined, pending: () => undefined };
