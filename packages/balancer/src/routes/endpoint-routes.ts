import { AppError, bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths, PLAYGROUND_ID_PATTERN } from '@plexus/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerKeyCheck } from '../bearer-key.ts';
import { type ClusterStore, copyLoads } from '../cluster-store.ts';
import type { JoinLimiter } from '../join-limiter.ts';
import type { JoinService } from '../join-service.ts';

/** Largest accepted `criteria`, as JSON text. */
export const MAX_CRITERIA_BYTES = 2048;

const sessionId = z.string().min(1).max(512).optional();

const getEndpointBody = z.object({
  sessionId,
  criteria: z
    .record(z.string(), z.unknown())
    .refine((c) => Buffer.byteLength(JSON.stringify(c)) <= MAX_CRITERIA_BYTES, {
      message: `must be at most ${MAX_CRITERIA_BYTES} bytes of JSON`,
    })
    .optional(),
  /** A party asking together lands in one playground instance (backend matchmaking). */
  partyId: z.string().min(1).max(64).optional(),
});

const getEndpointPlaygroundIdBody = z.object({
  sessionId,
  playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . # -'),
  resumeToken: z.string().min(1).max(1024).optional(),
  inviteCode: z.string().min(1).max(64).optional(),
});

export const SERVERS_PATH = '/lb/api/v0/servers';

export interface EndpointRouteDeps {
  join: JoinService;
  store: ClusterStore;
  limiter: JoinLimiter;
  /** Callers presenting it see which playgrounds each server hosts (private ones included). */
  operatorKey: string;
}

/** The client API: endpoint resolution, plus the operator's view of the registry. */
export function registerEndpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): void {
  const { join, store, limiter } = deps;
  const operator = bearerKeyCheck(deps.operatorKey);
  /** The session of a ticket request, once its session and address are within their rates. */
  const admitted = (req: FastifyRequest, fromBody: string | undefined): string => {
    const session = sessionOf(req, fromBody);
    limiter.admit(session, req.ip);
    return session;
  };

  app.post(HttpPaths.getEndpoint, { schema: bodySchema(getEndpointBody) }, async (req) => {
    const body = parseInput(getEndpointBody, req.body);
    return ok(
      await join.joinMatchmade(admitted(req, body.sessionId), {
        criteria: body.criteria,
        partyId: body.partyId,
      }),
    );
  });

  app.post(
    HttpPaths.getEndpointPlaygroundId,
    { schema: bodySchema(getEndpointPlaygroundIdBody) },
    async (req) => {
      const body = parseInput(getEndpointPlaygroundIdBody, req.body);
      return ok(
        await join.joinPlayground(admitted(req, body.sessionId), body.playgroundId, {
          resumeToken: body.resumeToken,
          inviteCode: body.inviteCode,
        }),
      );
    },
  );

  // Playground ids name private playgrounds too, and one named is one that can be asked for: only
  // the operator sees them; anyone else gets the counts (docs/api.md, GET /lb/api/v0/servers).
  app.get(SERVERS_PATH, async (req) => {
    const full = operator(req.headers.authorization);
    const [servers, dead] = await Promise.all([store.list(), store.deadServers()]);
    return ok({
      servers: servers.map((s) => ({
        serverId: s.serverId,
        endpoint: s.endpoint,
        capacity: s.capacity,
        players: s.players,
        pending: s.pending,
        playgroundCount: s.playgrounds.length,
        ...(full ? { playgrounds: copyLoads(s.playgrounds) } : {}),
        alive: true,
        draining: s.draining,
        balancers: s.balancers,
        version: s.version,
        cpu: s.cpu,
        tickMs: s.tickMs,
        entities: s.entities,
        bytesOutPerSec: s.bytesOutPerSec,
        tickP99Ms: s.tickP99Ms,
        backpressureSkips: s.backpressureSkips,
        lastReportAt: new Date(s.lastReportAtMs).toISOString(),
      })),
      dead: dead.map((d) => ({
        serverId: d.serverId,
        endpoint: d.endpoint,
        alive: false,
        diedAt: new Date(d.diedAtMs).toISOString(),
        reason: d.reason,
        playgrounds: d.playgrounds,
      })),
    });
  });
}

/** The session id from the body, else from `Authorization: Bearer <sessionId>`. */
function sessionOf(req: FastifyRequest, fromBody: string | undefined): string {
  if (fromBody) return fromBody;
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(req.headers.authorization ?? '');
  if (match?.[1]) return match[1];
  throw new AppError('LB_SESSION_REQUIRED');
}
