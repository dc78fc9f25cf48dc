import { Counter, Gauge, Histogram, type Metrics } from '@plexus/kit';
import type { ClusterStore } from './cluster-store.ts';

/** The balancer's own Prometheus series, registered on the process registry. */
export function createBalancerMetrics(metrics: Metrics, store: ClusterStore, connectedServers: () => number) {
  const registers = [metrics.registry];
  // One registry read per scrape feeds both gauges; a failed read (Redis down) keeps the last values.
  let last = { servers: 0, players: 0 };
  let reading: Promise<void> | undefined;
  const read = () => {
    reading ??= store
      .list()
      .then(
        (servers) => {
          last = { servers: servers.length, players: servers.reduce((n, s) => n + s.players, 0) };
        },
        () => {},
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  new Gauge({
    name: 'plexus_lb_registered_servers',
    help: 'Live dedicated servers in the registry (shared by all balancers in Redis mode)',
    registers,
    async collect() {
      await read();
      this.set(last.servers);
    },
  });
  new Gauge({
    name: 'plexus_lb_connected_servers',
    help: 'Dedicated servers holding a control socket to this balancer',
    registers,
    collect() {
      this.set(connectedServers());
    },
  });
  new Gauge({
    name: 'plexus_lb_players',
    help: 'Players reported by all live dedicated servers',
    registers,
    async collect() {
      await read();
      this.set(last.players);
    },
  });
  const ticketsIssued = new Counter({
    name: 'plexus_lb_tickets_issued_total',
    help: 'Join tickets issued',
    registers,
  });
  const placementRefusals = new Counter({
    name: 'plexus_lb_placement_refusals_total',
    help: 'Joins refused by placement, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const authCheckDuration = new Histogram({
    name: 'plexus_lb_auth_check_duration_seconds',
    help: 'Latency of backend authCheck calls (cache misses), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const serversDead = new Counter({
    name: 'plexus_lb_servers_dead_total',
    help: 'Dedicated servers declared dead (control socket closed or heartbeats missed)',
    registers,
  });
  const playgroundsReplaced = new Counter({
    name: 'plexus_lb_playgrounds_replaced_total',
    help: 'Playgrounds of dead servers placed again on a live server',
    registers,
  });
  const controlRpcs = new Counter({
    name: 'plexus_lb_control_rpcs_total',
    help: 'Control RPCs from dedicated servers, by method and outcome (ok, error, busy)',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const eventsDelivered = new Counter({
    name: 'plexus_lb_events_delivered_total',
    help: 'Published events sent to dedicated servers (one per server)',
    registers,
  });
  const analyticsDropped = new Counter({
    name: 'plexus_lb_analytics_dropped_total',
    help: 'Analytics events dropped (buffer full or the backend refused the batch)',
    registers,
  });
  return {
    ticketsIssued,
    placementRefusals,
    authCheckDuration,
    serversDead,
    playgroundsReplaced,
    controlRpcs,
    eventsDelivered,
    analyticsDropped,
  };
}

export type BalancerMetrics = ReturnType<typeof createBalancerMetrics>;
