import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * The component part of metric names (`plexus_<component>_…`, docs/operations.md "Metrics"): the
 * short names the series have always used; the `component` label keeps the long one.
 */
const METRIC_COMPONENT: Record<string, string> = { balancer: 'lb', server: 'ds' };

/** The process's Prometheus registry with Node defaults and the HTTP request metrics. */
export function createMetrics(component: string) {
  const prefix = `plexus_${METRIC_COMPONENT[component] ?? component}`;
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: `${prefix}_http_requests_total`,
    help: 'HTTP requests served',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: `${prefix}_http_request_duration_seconds`,
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;
