import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { ANALYTICS_MAX_BATCH, HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { ANALYTICS_DATA_MAX_BYTES, type AnalyticsService } from '../services/analytics-service.ts';
import { jsonObjectSchema, playgroundIdSchema, serverIdSchema, userIdSchema } from './cluster-schemas.ts';
import { registerKeyScope } from './key-scope.ts';

/** Epoch milliseconds (up to year 275760, JavaScript's last date). */
export const epochMsSchema = z.number().int().min(0).max(8.64e15);
export const analyticsTypeSchema = z
  .string()
  .regex(/^[a-z0-9._]{1,64}$/, 'must be 1-64 characters of a-z, 0-9, . _');

/** A full batch of events at their largest data, with room for the other fields. */
const RECORD_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const eventSchema = z
  .strictObject({
    type: analyticsTypeSchema,
    at: epochMsSchema,
    userId: userIdSchema.optional(),
    playgroundId: playgroundIdSchema.optional(),
    serverId: serverIdSchema.optional(),
    data: jsonObjectSchema.optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (e.data !== undefined && Buffer.byteLength(JSON.stringify(e.data)) > ANALYTICS_DATA_MAX_BYTES) {
      issue(['data'], `must be at most ${ANALYTICS_DATA_MAX_BYTES} bytes of JSON`);
    }
    // The fields the summaries aggregate must have the right shape.
    if (e.type === 'population' && !isCount(e.data?.players)) {
      issue(['data', 'players'], 'a population sample needs an integer ≥ 0');
    }
    if (e.type === 'leave' && e.data?.sessionMs !== undefined && !isCount(e.data.sessionMs)) {
      issue(['data', 'sessionMs'], 'must be an integer ≥ 0');
    }
    const reason = e.data?.reason;
    if (
      e.type === 'refused' &&
      reason !== undefined &&
      !(typeof reason === 'string' && reason.length <= 64)
    ) {
      issue(['data', 'reason'], 'must be a string of at most 64 characters');
    }
  });
const recordBody = z.strictObject({
  serverId: serverIdSchema.optional(),
  events: z.array(eventSchema).max(ANALYTICS_MAX_BATCH),
});

/** `analytics.record` (partner RPC): a batch from a dedicated server through its balancer, or any partner. */
export function registerAnalyticsRoutes(
  app: FastifyInstance,
  deps: { partnerKey: string; analytics: AnalyticsService },
): void {
  registerKeyScope(app, deps.partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(
      `${HttpPaths.partnerRpcPrefix}analytics.record`,
      { bodyLimit: RECORD_BODY_LIMIT_BYTES, schema: bodySchema(recordBody) },
      async (req) => ok(await deps.analytics.record(parseInput(recordBody, req.body))),
    );
  });
}
