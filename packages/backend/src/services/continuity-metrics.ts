import type { Metrics } from '@plexus/kit';
import { counter, gauge } from '../backend-metrics.ts';

/** Metrics of checkpoints, player data and events. */
export function createContinuityMetrics(metrics: Metrics) {
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
    streamConnections: gauge(
      metrics,
      'plexus_backend_event_stream_connections',
      'Balancers connected to the event stream',
    ),
  };
}

export type ContinuityMetrics = ReturnType<typeof createContinuityMetrics>;
