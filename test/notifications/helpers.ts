/** Starting Wharf with notification endpoints on a queue directory, for the notification tests. */
import type { EndpointSettings } from '../../src/notifications/notifier.js';
import { WharfMetrics } from '../../src/metrics/metrics.js';
import { startTestWharf, type TestWharf } from '../helpers/wharf.js';
import type { StorageDriver } from '../../src/storage/driver.js';

export function endpoint(name: string, url: string, overrides: Partial<EndpointSettings> = {}): EndpointSettings {
  return {
    name,
    url,
    headers: { Authorization: ['Bearer sink-token'] },
    timeoutMs: 5_000,
    threshold: 3,
    backoffMs: 100,
    ignore: { mediaTypes: [], actions: [] },
    ...overrides,
  };
}

export async function startNotifyingWharf(queueDir: string, endpoints: EndpointSettings[], driver?: StorageDriver): Promise<TestWharf & { metrics: WharfMetrics }> {
  const metrics = new WharfMetrics({ processMetrics: false });
  const wharf = await startTestWharf({
    ...(driver !== undefined && { driver }),
    metrics,
    notifications: { queueDir, endpoints, includeReferences: false },
  });
  return { ...wharf, metrics };
}

/** The value of one series of a metric (0 when absent). */
export async function metricValue(metrics: WharfMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, value]) => String((v.labels as Record<string, unknown>)[k]) === value));
  return found?.value ?? 0;
}

/** Waits until a metric series reaches `expected` (deliveries are counted just after the endpoint answers). */
export async function metricReaches(metrics: WharfMetrics, name: string, labels: Record<string, string>, expected: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await metricValue(metrics, name, labels);
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await metricValue(metrics, name, labels);
  }
  return value;
}
