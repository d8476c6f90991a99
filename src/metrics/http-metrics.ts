/**
 * HTTP request metrics: the dispatcher's RequestObserver, feeding request counts, durations, sizes,
 * requests in flight and uploads in progress. Routes are labelled with distribution's handler
 * names and methods in lower case, as distribution labels them. Label children are made once per
 * (route, method, status) and kept, so a request costs a map lookup and a few increments.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { UNMATCHED_ROUTE, type RequestObserver } from '../http/observer.js';
import type { WharfMetrics } from './metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);
/** distribution's handler names where they differ from Wharf's route names. */
const HANDLERS: Readonly<Record<string, string>> = { uploads: 'blob_upload', upload: 'blob_upload_chunk' };
const UPLOAD_ROUTES = new Set(['uploads', 'upload']);
const UPLOAD_METHODS = new Set(['POST', 'PATCH', 'PUT']);

interface Children {
  readonly requests: Counter.Internal;
  readonly duration: Histogram.Internal<'handler' | 'method'>;
  readonly requestSize: Histogram.Internal<'handler'>;
  readonly responseSize: Histogram.Internal<'handler'>;
  readonly received: Counter.Internal;
  readonly sent: Counter.Internal;
}

/** Any method outside the standard ones counts as `other`, so clients cannot grow the label set. */
function methodLabel(method: string): string {
  return METHODS.has(method) ? method.toLowerCase() : 'other';
}

function handlerLabel(route: string): string {
  return HANDLERS[route] ?? route;
}

function isUpload(route: string, method: string): boolean {
  return UPLOAD_ROUTES.has(route) && UPLOAD_METHODS.has(method);
}

export class HttpMetrics implements RequestObserver {
  private readonly children = new Map<string, Children>();
  private readonly inFlight = new Map<string, Gauge.Internal<'handler'>>();

  constructor(private readonly metrics: WharfMetrics) {}

  private childrenFor(route: string, method: string, status: number): Children {
    const m = methodLabel(method);
    const key = `${route} ${m} ${status}`;
    let children = this.children.get(key);
    if (children === undefined) {
      const handler = handlerLabel(route);
      children = {
        requests: this.metrics.httpRequests.labels(handler, m, String(status)),
        duration: this.metrics.httpDuration.labels(handler, m),
        requestSize: this.metrics.httpRequestSize.labels(handler),
        responseSize: this.metrics.httpResponseSize.labels(handler),
        received: this.metrics.httpReceived.labels(handler),
        sent: this.metrics.httpSent.labels(handler),
      };
      this.children.set(key, children);
    }
    return children;
  }

  private inFlightFor(route: string): Gauge.Internal<'handler'> {
    let gauge = this.inFlight.get(route);
    if (gauge === undefined) {
      gauge = this.metrics.httpInFlight.labels(handlerLabel(route));
      this.inFlight.set(route, gauge);
    }
    return gauge;
  }

  routed(route: string, method: string): void {
    this.inFlightFor(route).inc();
    if (isUpload(route, method)) this.metrics.uploadsInProgress.inc();
  }

  finished(route: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    if (route !== UNMATCHED_ROUTE) this.inFlightFor(route).dec();
    if (isUpload(route, method)) this.metrics.uploadsInProgress.dec();
    const children = this.childrenFor(route, method, status);
    children.requests.inc();
    children.duration.observe(seconds);
    children.requestSize.observe(bytesIn);
    children.responseSize.observe(bytesOut);
    if (bytesIn > 0) children.received.inc(bytesIn);
    if (bytesOut > 0) children.sent.inc(bytesOut);
  }
}
