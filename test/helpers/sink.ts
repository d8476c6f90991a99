/**
 * A local webhook receiver for notification tests: records every delivery, fails the first
 * `failFirst` of them with 503, and can hold requests unanswered (a hung endpoint).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly body: { events: Record<string, unknown>[] };
  readonly accepted: boolean;
}

export interface Sink {
  readonly url: string;
  readonly deliveries: Delivery[];
  /** Events of accepted deliveries, in the order they were accepted. */
  accepted(): Record<string, unknown>[];
  /** Resolves once `count` events have been accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** Resolves once a request has arrived (answered or not). */
  waitForRequest(): Promise<void>;
  close(): Promise<void>;
}

export async function startSink(options: { failFirst?: number; hang?: boolean; port?: number } = {}): Promise<Sink> {
  const deliveries: Delivery[] = [];
  const waiters: (() => void)[] = [];
  const requestWaiters: (() => void)[] = [];
  let failuresLeft = options.failFirst ?? 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const w of requestWaiters.splice(0)) w();
      if (options.hang === true) return; // never answers
      const accepted = failuresLeft <= 0;
      if (!accepted) failuresLeft--;
      deliveries.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery['body'], accepted });
      res.statusCode = accepted ? 200 : 503;
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const accepted = (): Record<string, unknown>[] => deliveries.filter((d) => d.accepted).flatMap((d) => d.body.events);
  return {
    url: `http://127.0.0.1:${port}/events`,
    deliveries,
    accepted,
    waitFor: async (count, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (accepted().length < count) {
        if (Date.now() > deadline) throw new Error(`sink got ${accepted().length} of ${count} events within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200).unref();
        });
      }
      return accepted();
    },
    waitForRequest: () => new Promise<void>((resolve) => requestWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
