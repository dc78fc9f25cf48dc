import { Counter, Gauge, type Metrics } from '@plexus/kit';

/** Reuses a counter already in the registry (several apps may share one in tests) or registers it. */
export function counter<L extends string>(
  metrics: Metrics,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return (
    (metrics.registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [metrics.registry] })
  );
}

/** Reuses a gauge already in the registry or registers it. */
export function gauge(metrics: Metrics, name: string, help: string): Gauge {
  return (
    (metrics.registry.getSingleMetric(name) as Gauge | undefined) ??
    new Gauge({ name, help, registers: [metrics.registry] })
  );
}

/** Backend-specific metrics of sessions and matchmaking. */
export function createBackendMetrics(metrics: Metrics) {
  return {
    sessionsCreated: counter(
      metrics,
      'plexus_backend_sessions_created_total',
      'Sessions created, by how (register, login, guest)',
      ['kind'],
    ),
    matchmakingSeats: counter(
      metrics,
      'plexus_backend_matchmaking_seats_total',
      'Matchmaking seats assigned, by outcome (kept, joined, opened)',
      ['outcome'],
    ),
  };
}
