/**
 * What the dispatcher reports about each request, for metrics: an observer given to createApp.
 * Positional arguments keep the hot path free of per-request objects.
 */
/** The route of a request no route matched: `finished` is told it, `routed` never is. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface RequestObserver {
  /** The request has been routed (`route` is the route table's name) and its handler starts. */
  routed(route: string, method: string): void;
  /**
   * The response is done (or the connection went away: status 499). `route` is UNMATCHED_ROUTE for
   * requests no route matched; it is the same route `routed` was told, when it was called.
   */
  finished(route: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void;
}
