import { Counter, type Metrics } from '@plexus/kit';

/** Backend-specific metrics, registered once per registry (several apps may share one in tests). */
export function createBackendMetrics(metrics: Metrics) {
  const { registry } = metrics;
  const sessionsCreated =
    (registry.getSingleMetric('plexus_backend_sessions_created_total') as Counter<'kind'> | undefined) ??
    new Counter({
      name: 'plexus_backend_sessions_created_total',
      help: 'Sessions created, by how (register, login, guest)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
  const matchmakingSeats =
    (registry.getSingleMetric('plexus_backend_matchmaking_seats_total') as Counter<'outcome'> | undefined) ??
    new Counter({
      name: 'plexus_backend_matchmaking_seats_total',
      help: 'Matchmaking seats assigned, by outcome (kept, joined, opened)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
  return { sessionsCreated, matchmakingSeats };
}
