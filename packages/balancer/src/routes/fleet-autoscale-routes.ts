import { AppError, KeyedRateLimiter, parseInput, z } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';
import type { ClusterStore } from '../cluster-store.ts';
import { type FleetDemandPolicy, fleetDemand } from '../scaling/fleet-demand.ts';

/** Where a FleetAutoscaler with the Webhook policy asks (deploy/k8s/components/seat-webhook). */
export const FLEET_AUTOSCALE_PATH = '/lb/api/v0/agones/fleetautoscale';

/**
 * Reviews one address may ask for: Agones asks once per sync period (30 s by default), so a burst
 * of 20 then one a second leaves it room and keeps anyone else from repeating the store read.
 */
const REVIEW_BURST = 20;
const REVIEW_RATE_PER_SEC = 1;

/** Agones' FleetAutoscaleReview request (agones.dev, Reference → FleetAutoscaler, Webhook policy). */
const review = z.object({
  apiVersion: z.literal('autoscaling.agones.dev/v1'),
  kind: z.literal('FleetAutoscaleReview'),
  request: z.object({
    uid: z.string().min(1).max(128),
    name: z.string().max(253),
    namespace: z.string().max(63),
    status: z.object({
      replicas: z.number().int().min(0).max(100_000),
      readyReplicas: z.number().int().min(0).optional(),
      reservedReplicas: z.number().int().min(0).optional(),
      allocatedReplicas: z.number().int().min(0).optional(),
    }),
  }),
});

/**
 * Answers the FleetAutoscaler's Webhook with the replicas seat demand needs (fleetDemand). Inside
 * the cluster only: the Ingress does not forward it, and the answer is a replica count.
 */
export function registerFleetAutoscaleRoutes(
  app: FastifyInstance,
  deps: { store: ClusterStore; policy: FleetDemandPolicy },
): void {
  const limiter = new KeyedRateLimiter({ burst: REVIEW_BURST, ratePerSec: REVIEW_RATE_PER_SEC });
  app.post(FLEET_AUTOSCALE_PATH, async (req) => {
    if (!limiter.take(req.ip)) throw new AppError('COMMON_RATE_LIMITED');
    const { apiVersion, kind, request } = parseInput(review, req.body);
    const servers = (await deps.store.list()).map((s) => ({ ...s, playgrounds: s.playgrounds.length }));
    const demand = fleetDemand(servers, request.status.replicas, deps.policy);
    req.log.info(
      { fleet: request.name, from: request.status.replicas, to: demand.replicas, reason: demand.reason },
      'fleet autoscale review',
    );
    // Agones reads this exact shape, not the {data, error} envelope.
    return {
      apiVersion,
      kind,
      response: { uid: request.uid, scale: demand.scale, replicas: demand.replicas },
    };
  });
}
