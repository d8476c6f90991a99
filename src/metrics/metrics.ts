/**
 * Wharf's Prometheus metrics: one prom-client registry per running instance (so tests and
 * embedders can run several), holding every metric Wharf exports. The names follow distribution's
 * `registry_` namespace, and the HTTP metrics distribution has carry its labels (`handler`, a
 * lower-case `method`, `code`), so dashboards and alerts made for it work unchanged. Other modules
 * do not import prom-client: they get small observer interfaces (request observer, cache observer,
 * storage metrics, notification metrics) built here.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** distribution's size buckets: 1 KiB doubling to 512 MiB. */
const SIZE_BUCKETS = Array.from({ length: 20 }, (_, i) => 1024 * 2 ** i);

export class WharfMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'registry_http_requests_total',
    help: 'HTTP requests answered, by handler, method and status code.',
    labelNames: ['handler', 'method', 'code'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'registry_http_request_duration_seconds',
    help: 'Time from a request\'s arrival to the end of its response, by handler and method.',
    labelNames: ['handler', 'method'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'registry_http_in_flight_requests',
    help: 'HTTP requests being answered right now, by handler.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });

  readonly httpRequestSize = new Histogram({
    name: 'registry_http_request_size_bytes',
    help: 'Request body sizes in bytes, by handler.',
    labelNames: ['handler'] as const,
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });

  readonly httpResponseSize = new Histogram({
    name: 'registry_http_response_size_bytes',
    help: 'Response sizes in bytes (headers and body), by handler.',
    labelNames: ['handler'] as const,
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });

  readonly httpReceived = new Counter({
    name: 'registry_http_received_bytes_total',
    help: 'Request body bytes received, by handler.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });

  readonly httpSent = new Counter({
    name: 'registry_http_sent_bytes_total',
    help: 'Response bytes sent (headers and body), by handler.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });

  readonly uploadsInProgress = new Gauge({
    name: 'registry_uploads_in_progress',
    help: 'Upload requests (POST, PATCH, PUT on upload routes) being received right now.',
    registers: [this.registry],
  });

  readonly storageDuration = new Histogram({
    name: 'registry_storage_action_seconds',
    help: 'Storage driver calls, by driver and operation (reader and writer: opening the stream; list: the whole listing).',
    labelNames: ['driver', 'action'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly storageErrors = new Counter({
    name: 'registry_storage_errors_total',
    help: 'Storage driver calls that failed (path-not-found excluded), by driver and operation.',
    labelNames: ['driver', 'action'] as const,
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: 'registry_cache_requests_total',
    help: 'Lookups in Wharf\'s in-process caches, by cache (storage, tags) and result (hit, miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly notificationEvents = new Counter({
    name: 'registry_notifications_events_total',
    help: 'Events queued for an endpoint, by endpoint and action.',
    labelNames: ['endpoint', 'action'] as const,
    registers: [this.registry],
  });

  readonly notificationDeliveries = new Counter({
    name: 'registry_notifications_deliveries_total',
    help: 'Events delivered (their envelope acknowledged with a 2xx or 3xx), by endpoint.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly notificationFailures = new Counter({
    name: 'registry_notifications_failures_total',
    help: 'Failed delivery attempts of an envelope (error, timeout or another status), by endpoint.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly notificationPending = new Gauge({
    name: 'registry_notifications_pending',
    help: 'Events queued and not yet delivered, by endpoint.',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
