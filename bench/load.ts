/**
 * A closed-loop HTTP load generator on `node:http`: `connections` loops, each sending one request
 * and waiting for its response, over a keep-alive Agent with maxSockets = connections. HEAD is
 * handled correctly (node's parser knows a HEAD response has no body, whatever Content-Length
 * says), which is where wrk and autocannon go wrong. Latencies go into a fixed 10 µs histogram so
 * recording costs nothing; only requests started and finished inside the window are counted.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadSpec {
  readonly host: string;
  readonly port: number;
  readonly method: 'GET' | 'HEAD';
  readonly path: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly connections: number;
  readonly durationMs: number;
  /** Requests before the window opens, uncounted. */
  readonly warmupMs: number;
  /** The status every answer must have. */
  readonly status: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const BUCKET_MS = 0.01;
const BUCKETS = 200_000; // 2 s; slower answers land in the last bucket

function percentile(hist: Uint32Array, total: number, q: number): number {
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0;
    if (seen >= rank) return (i + 1) * BUCKET_MS;
  }
  return hist.length * BUCKET_MS;
}

export function runLoad(spec: LoadSpec, onWindowOpen?: () => void): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections, scheduling: 'lifo' });
  const options: http.RequestOptions = {
    host: spec.host,
    port: spec.port,
    method: spec.method,
    path: spec.path,
    headers: spec.headers ?? {},
    agent,
  };
  const hist = new Uint32Array(BUCKETS);
  let requests = 0;
  let errors = 0;
  let maxMs = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let stopping = false;
  let active = spec.connections;
  let firstError: unknown;

  return new Promise((resolve, reject) => {
    const finish = (): void => {
      agent.destroy();
      if (windowEnd === Infinity) windowEnd = performance.now(); // every loop gave up early
      if (windowStart === Infinity) windowStart = windowEnd;
      if (requests === 0 && firstError !== undefined) {
        reject(firstError instanceof Error ? firstError : new Error(String(firstError)));
        return;
      }
      const seconds = (windowEnd - windowStart) / 1000;
      resolve({
        requests,
        errors,
        seconds,
        rps: seconds > 0 ? requests / seconds : 0,
        p50Ms: percentile(hist, requests, 0.5),
        p99Ms: percentile(hist, requests, 0.99),
        maxMs,
      });
    };
    const loopDone = (): void => {
      if (--active === 0) finish();
    };
    const one = (): void => {
      const t0 = performance.now();
      const req = http.request(options, (res) => {
        const ok = res.statusCode === spec.status;
        res.on('end', () => {
          const t1 = performance.now();
          if (t0 >= windowStart && t1 <= windowEnd) {
            const ms = t1 - t0;
            if (ok) {
              requests++;
              const b = (ms / BUCKET_MS) | 0;
              hist[b < BUCKETS ? b : BUCKETS - 1]!++;
              if (ms > maxMs) maxMs = ms;
            } else errors++;
          }
          if (stopping) loopDone();
          else one();
        });
        res.resume();
      });
      req.on('error', (err) => {
        errors++;
        firstError ??= err;
        if (stopping || errors > 1000) loopDone();
        else setTimeout(one, 10);
      });
      req.end();
    };
    for (let i = 0; i < spec.connections; i++) one();
    setTimeout(() => {
      windowStart = performance.now();
      onWindowOpen?.();
      setTimeout(() => {
        windowEnd = performance.now();
        stopping = true;
      }, spec.durationMs);
    }, spec.warmupMs);
  });
}
