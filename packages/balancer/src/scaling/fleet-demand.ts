import { freeSeats, type ServerLoadView } from './scale-policy.ts';

export interface FleetDemandPolicy {
  minFreeSeats: number;
  maxFreeSeats: number;
  maxReplicas: number;
}

export interface FleetDemand {
  /** False: keep the Fleet's replicas as they are. */
  scale: boolean;
  replicas: number;
  reason: string;
}

/**
 * The replicas an Agones Fleet should have for the seats players need (the FleetAutoscaler's
 * Webhook policy, docs/deploy.md#scaling): enough that at least `minFreeSeats` are free, fewer when
 * more than `maxFreeSeats` are free (never below `minFreeSeats` after), within [1, maxReplicas].
 * Replicas not registered yet (starting) count as free servers, so a start is not asked for twice.
 * A scale-down never takes a busy server: Agones removes Ready (empty) GameServers only.
 */
export function fleetDemand(
  servers: readonly ServerLoadView[],
  replicas: number,
  policy: FleetDemandPolicy,
): FleetDemand {
  const clamp = (n: number) => Math.min(policy.maxReplicas, Math.max(1, n));
  const answer = (target: number, reason: string): FleetDemand => {
    const r = clamp(target);
    return { scale: r !== replicas, replicas: r, reason };
  };
  const live = servers.filter((s) => !s.draining);
  const capacity = Math.max(0, ...live.map((s) => s.capacity));
  if (capacity === 0) return answer(replicas, 'no server registered yet: keep the replicas');
  const starting = Math.max(0, replicas - servers.length);
  const free = freeSeats(servers) + starting * capacity;
  if (free < policy.minFreeSeats) {
    return answer(
      replicas + Math.ceil((policy.minFreeSeats - free) / capacity),
      'free seats below the minimum',
    );
  }
  if (free > policy.maxFreeSeats) {
    const remove = Math.min(
      Math.ceil((free - policy.maxFreeSeats) / capacity),
      Math.floor((free - policy.minFreeSeats) / capacity),
    );
    return answer(replicas - remove, 'free seats above the maximum');
  }
  return answer(replicas, 'within the thresholds');
}
