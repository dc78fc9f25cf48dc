import { Counter, Gauge, Histogram, type Metrics } from '@plexus/kit';
import type { ServerRegistry } from './registry.ts';

/** The balancer's own Prometheus series, registered on the process registry. */
export function createBalancerMetrics(metrics: Metrics, registry: ServerRegistry) {
  const registers = [metrics.registry];
  new Gauge({
    name: 'plexus_lb_registered_servers',
    help: 'Dedicated servers registered on the control channel',
    registers,
    collect() {
      this.set(registry.size);
    },
  });
  new Gauge({
    name: 'plexus_lb_players',
    help: 'Players reported by all registered dedicated servers',
    registers,
    collect() {
      this.set(registry.totalPlayers());
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
  return { ticketsIssued, placementRefusals, authCheckDuration };
}

export type BalancerMetrics = ReturnType<typeof createBalancerMetrics>;
