import { Counter, createMetrics, Gauge, Histogram } from '@plexus/kit';

export interface Gauges {
  clients: () => number;
  playgrounds: () => number;
  entities: () => number;
  /** Users whose avatar waits for a resume. */
  awaiting?: () => number;
}

/** The dedicated server's Prometheus metrics, on top of kit's process and HTTP metrics. */
export function createServerMetrics(gauges: Gauges) {
  const base = createMetrics('server');
  const registers = [base.registry];
  return {
    ...base,
    clients: new Gauge({
      name: 'plexus_ds_connected_clients',
      help: 'Clients admitted to a playground on this server',
      registers,
      collect() {
        this.set(gauges.clients());
      },
    }),
    playgrounds: new Gauge({
      name: 'plexus_ds_playgrounds',
      help: 'Playgrounds hosted by this server',
      registers,
      collect() {
        this.set(gauges.playgrounds());
      },
    }),
    entities: new Gauge({
      name: 'plexus_ds_entities',
      help: 'Entities across all playgrounds',
      registers,
      collect() {
        this.set(gauges.entities());
      },
    }),
    tickDuration: new Histogram({
      name: 'plexus_ds_tick_duration_seconds',
      help: 'Duration of one server tick (all playgrounds)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    resumeDowntime: new Histogram({
      name: 'plexus_ds_resume_downtime_seconds',
      help: 'How long a resuming user was away: since the drop, or since the checkpoint a failover restored',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
      registers,
    }),
    memoryReclaims: new Counter({
      name: 'plexus_ds_memory_reclaims_total',
      help: 'Memory-reducing GCs run while the server was quiet, after resident memory grew',
      registers,
    }),
    bytesSent: new Counter({
      name: 'plexus_ds_bytes_sent_total',
      help: 'Bytes of binary frames sent to clients',
      registers,
    }),
    framesRefused: new Counter({
      name: 'plexus_ds_frames_refused_total',
      help: 'ERROR frames sent to clients, by error name',
      labelNames: ['error'] as const,
      registers,
    }),
    logicErrors: new Counter({
      name: 'plexus_ds_logic_errors_total',
      help: 'Exceptions thrown by playground logic (contained), by hook',
      labelNames: ['hook'] as const,
      registers,
    }),
    backpressureSkips: new Counter({
      name: 'plexus_ds_backpressure_skips_total',
      help: 'Client ticks skipped (no STATE sent) because the client had too many bytes buffered',
      registers,
    }),
    awaitingResume: new Gauge({
      name: 'plexus_ds_awaiting_resume',
      help: 'Users whose avatar waits for a resume (dropped connection, or restored from a checkpoint)',
      registers,
      collect() {
        this.set(gauges.awaiting?.() ?? 0);
      },
    }),
    checkpoints: new Counter({
      name: 'plexus_ds_checkpoints_total',
      help: 'Checkpoint writes by result: written, stale (fenced off: the playground moved), failed',
      labelNames: ['result'] as const,
      registers,
    }),
    restores: new Counter({
      name: 'plexus_ds_restores_total',
      help: 'Playgrounds restored from a checkpoint when this server claimed them',
      registers,
    }),
    resumes: new Counter({
      name: 'plexus_ds_resumes_total',
      help: 'Joins that resumed an earlier presence (same avatar, owned entities back)',
      registers,
    }),
    redirects: new Counter({
      name: 'plexus_ds_redirects_total',
      help: 'REDIRECT frames sent to clients (drain)',
      registers,
    }),
    eventsDelivered: new Counter({
      name: 'plexus_ds_events_delivered_total',
      help: 'EVENT frames sent to clients (published events and offline inboxes)',
      registers,
    }),
    analyticsDropped: new Counter({
      name: 'plexus_ds_analytics_dropped_total',
      help: 'Analytics events dropped (buffer full while no balancer was up, or a batch that failed)',
      registers,
    }),
    controlRpcErrors: new Counter({
      name: 'plexus_ds_control_rpc_errors_total',
      help: 'Control RPCs that failed, by method',
      labelNames: ['method'] as const,
      registers,
    }),
    tickBytesOut: new Histogram({
      name: 'plexus_ds_tick_state_bytes',
      help: 'STATE bytes sent to all clients in one server tick',
      buckets: [0, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
      registers,
    }),
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
