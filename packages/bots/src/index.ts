/**
 * @plexus/bots — a swarm of guests that join a playground through the balancer and random-walk,
 * measuring join time, end-to-end update latency and received bytes (`plexus bots`, the benchmarks).
 */

export { LatencyHistogram, percentile, SendLog } from './stats.ts';
export {
  type RunSwarmOptions,
  runSwarm,
  Swarm,
  type SwarmOptions,
  type SwarmProgress,
  type SwarmSummary,
  type WindowStats,
} from './swarm.ts';
export { Walker, type WalkOptions } from './walk.ts';
