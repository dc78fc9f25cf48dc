import { Readable } from 'node:stream';
import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import {
  type AnalyticsService,
  EXPORT_DEFAULT_LIMIT,
  EXPORT_MAX_LIMIT,
  EXPORT_MAX_RANGE_MS,
  SUMMARY_MAX_BUCKETS,
  SUMMARY_MAX_RANGE_MS,
} from '../services/analytics-service.ts';
import type { CatalogueService } from '../services/catalogue-service.ts';
import { analyticsTypeSchema, epochMsSchema } from './analytics.ts';
import {
  catalogueIdSchema,
  pageFields,
  playgroundTypeSchema,
  regionSchema,
  tagSchema,
  tagsSchema,
  visibilitySchema,
} from './catalogue-schemas.ts';
import { displayText } from './display-text-schema.ts';
import { registerKeyScope } from './key-scope.ts';

const op = (method: string) => `${HttpPaths.operatorRpcPrefix}${method}`;

const name = displayText(128, 1);
const capacity = z.number().int().min(1).max(100_000);
const maxInstances = z.number().int().min(1).max(1000);
/** Any stored id may be looked up; only valid ones exist. */
const idBody = z.strictObject({ id: z.string().min(1).max(64) });

const createBody = z.strictObject({
  id: catalogueIdSchema,
  name,
  type: playgroundTypeSchema,
  capacity,
  visibility: visibilitySchema.default('public'),
  tags: tagsSchema.default([]),
  region: regionSchema.default(''),
  maxInstances: maxInstances.default(1),
});
const listBody = z.strictObject({
  type: playgroundTypeSchema.optional(),
  tag: tagSchema.optional(),
  region: regionSchema.optional(),
  visibility: visibilitySchema.optional(),
  includeClosed: z.boolean().default(false),
  ...pageFields,
});
const updateBody = z.strictObject({
  id: z.string().min(1).max(64),
  name: name.optional(),
  type: playgroundTypeSchema.optional(),
  capacity: capacity.optional(),
  visibility: visibilitySchema.optional(),
  tags: tagsSchema.optional(),
  region: regionSchema.optional(),
  maxInstances: maxInstances.optional(),
  rotateInviteCode: z.boolean().optional(),
});

/** from < to, and the range at most `maxMs`. */
const range = (maxMs: number) => (b: { from: number; to: number }, ctx: z.RefinementCtx) => {
  if (b.to <= b.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  else if (b.to - b.from > maxMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `the range is at most ${maxMs / 86_400_000} days`,
    });
  }
};
const summaryBody = z
  .strictObject({ from: epochMsSchema, to: epochMsSchema, bucketMs: z.number().int().min(1000) })
  .superRefine(range(SUMMARY_MAX_RANGE_MS))
  .superRefine((b, ctx) => {
    if (Math.ceil((b.to - b.from) / b.bucketMs) > SUMMARY_MAX_BUCKETS) {
      ctx.addIssue({ code: 'custom', path: ['bucketMs'], message: `at most ${SUMMARY_MAX_BUCKETS} buckets` });
    }
  });
const exportBody = z
  .strictObject({
    from: epochMsSchema,
    to: epochMsSchema,
    types: z.array(analyticsTypeSchema).min(1).max(16).optional(),
    limit: z.number().int().min(1).max(EXPORT_MAX_LIMIT).default(EXPORT_DEFAULT_LIMIT),
  })
  .superRefine(range(EXPORT_MAX_RANGE_MS));

export interface OperatorRouteDeps {
  operatorKey: string;
  catalogue: CatalogueService;
  analytics: AnalyticsService;
}

/**
 * Operator RPCs (`POST /api/v0/operatorRpc/<method>`, `Authorization: Bearer <operator key>`): the
 * playground catalogue and analytics read-outs.
 */
export function registerOperatorRoutes(app: FastifyInstance, deps: OperatorRouteDeps): void {
  const { catalogue, analytics } = deps;
  registerKeyScope(app, deps.operatorKey, 'OPERATOR_KEY_REQUIRED', (scope) => {
    scope.post(op('playgrounds.create'), { schema: bodySchema(createBody) }, async (req) =>
      ok({ playground: await catalogue.create(parseInput(createBody, req.body)) }),
    );
    scope.post(op('playgrounds.list'), { schema: bodySchema(listBody) }, async (req) => {
      const { tag, ...query } = parseInput(listBody, req.body);
      return ok(await catalogue.list({ ...query, ...(tag === undefined ? {} : { tags: [tag] }) }));
    });
    scope.post(op('playgrounds.get'), { schema: bodySchema(idBody) }, async (req) =>
      ok({ playground: await catalogue.get(parseInput(idBody, req.body).id) }),
    );
    scope.post(op('playgrounds.update'), { schema: bodySchema(updateBody) }, async (req) => {
      const { id, ...patch } = parseInput(updateBody, req.body);
      return ok({ playground: await catalogue.update(id, patch) });
    });
    scope.post(op('playgrounds.close'), { schema: bodySchema(idBody) }, async (req) =>
      ok({ playground: await catalogue.close(parseInput(idBody, req.body).id) }),
    );

    scope.post(op('analytics.summary'), { schema: bodySchema(summaryBody) }, async (req) =>
      ok(await analytics.summary(parseInput(summaryBody, req.body))),
    );
    scope.post(op('analytics.export'), { schema: bodySchema(exportBody) }, async (req, reply) => {
      const query = parseInput(exportBody, req.body);
      // Pulled page by page as the client reads: a long range never sits in memory.
      return reply.type('application/x-ndjson').send(Readable.from(analytics.export(query)));
    });
  });
}
