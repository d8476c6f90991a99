/**
 * HTTP request metrics: the dispatcher's RequestObserver, feeding request counts, durations,
 * bytes and uploads in progress. Label children are made once per (route, method, status) and
 * kept, so a request costs a map lookup and four increments.
 */
import type { Counter, Histogram } from 'prom-client';
import type { RequestObserver } from '../http/observer.js';
import type { WharfMetrics } from './metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);
const UPLOAD_ROUTES = new Set(['uploads', 'upload']);
const UPLOAD_METHODS = new Set(['POST', 'PATCH', 'PUT']);

interface Children {
  readonly requests: Counter.Internal;
  readonly duration: Histogram.Internal<'route' | 'method'>;
  readonly received: Counter.Internal;
  readonly sent: Counter.Internal;
}

/** Any method outside the standard ones counts as OTHER, so clients cannot grow the label set. */
function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

function isUpload(route: string, method: string): boolean {
  return UPLOAD_ROUTES.has(route) && UPLOAD_METHODS.has(method);
}

export class HttpMetrics implements RequestObserver {
  private readonly children = new Map<string, Children>();

  constructor(private readonly metrics: WharfMetrics) {}

  private childrenFor(route: string, method: string, status: number): Children {
    const m = methodLabel(method);
    const key = `${route} ${m} ${status}`;
    let children = this.children.get(key);
    if (children === undefined) {
      children = {
        requests: this.metrics.httpRequests.labels(route, m, String(status)),
        duration: this.metrics.httpDuration.labels(route, m),
        received: this.metrics.httpReceived.labels(route),
        sent: this.metrics.httpSent.labels(route),
      };
      this.children.set(key, children);
    }
    return children;
  }

  routed(route: string, method: string): void {
    if (isUpload(route, method)) this.metrics.uploadsInProgress.inc();
  }

  finished(route: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    if (isUpload(route, method)) this.metrics.uploadsInProgress.dec();
    const children = this.childrenFor(route, method, status);
    children.requests.inc();
    children.duration.observe(seconds);
    if (bytesIn > 0) children.received.inc(bytesIn);
    if (bytesOut > 0) children.sent.inc(bytesOut);
  }
}
