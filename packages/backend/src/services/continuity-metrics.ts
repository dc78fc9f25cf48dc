import { Counter, Gauge, type Metrics } from '@plexus/kit';

/** Reuses a metric already in the registry (several apps may share one in tests) or registers it. */
function counter<L extends string>(metrics: Metrics, name: string, help: string, labelNames: readonly L[]) {
  return (
    (metrics.registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [metrics.registry] })
  );
}

/** Metrics of checkpoints, player data and events. */
export function createContinuityMetrics(metrics: Metrics) {
  const streamConnections =
    (metrics.registry.getSingleMetric('plexus_backend_event_stream_connections') as Gauge | undefined) ??
    new Gauge({
      name: 'plexus_backend_event_stream_connections',
      help: 'Balancers connected to the event stream',
      registers: [metrics.registry],
    });
  return {
    checkpointClaims: counter(
      metrics,
      'plexus_backend_checkpoint_claims_total',
      'Checkpoint claims (epoch bumps)',
      [],
    ),
    checkpointWrites: counter(
      metrics,
      'plexus_backend_checkpoint_writes_total',
      'Checkpoint writes, by outcome (accepted, stale, too_large)',
      ['outcome'],
    ),
    eventsPublished: counter(
      metrics,
      'plexus_backend_events_published_total',
      'Events accepted, by delivery (live, stored)',
      ['delivery'],
    ),
    inboxDropped: counter(
      metrics,
      'plexus_backend_event_inbox_dropped_total',
      "Stored events dropped because a user's inbox was full",
      [],
    ),
    streamDropped: counter(
      metrics,
      'plexus_backend_event_stream_dropped_total',
      'Live events not sent to a balancer whose socket was backed up',
      [],
    ),
    streamConnections,
  };
}

export type ContinuityMetrics = ReturnType<typeof createContinuityMetrics>;
