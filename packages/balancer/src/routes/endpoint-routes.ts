import { AppError, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths, PLAYGROUND_ID_PATTERN } from '@plexus/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JoinService } from '../join-service.ts';
import type { ServerRegistry } from '../registry.ts';
import type { SeatLedger } from '../seat-ledger.ts';

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
});

const getEndpointPlaygroundIdBody = z.object({
  sessionId,
  playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . # -'),
});

export const SERVERS_PATH = '/lb/api/v0/servers';

export interface EndpointRouteDeps {
  join: JoinService;
  registry: ServerRegistry;
  ledger: SeatLedger;
}

/** The client API: endpoint resolution, plus the operator's view of the registry. */
export function registerEndpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): void {
  const { join, registry, ledger } = deps;

  app.post(HttpPaths.getEndpoint, async (req) => {
    const body = parseInput(getEndpointBody, req.body);
    return ok(await join.joinMatchmade(sessionOf(req, body.sessionId), body.criteria));
  });

  app.post(HttpPaths.getEndpointPlaygroundId, async (req) => {
    const body = parseInput(getEndpointPlaygroundIdBody, req.body);
    return ok(await join.joinPlayground(sessionOf(req, body.sessionId), body.playgroundId));
  });

  app.get(SERVERS_PATH, async () =>
    ok({
      servers: registry.list().map((s) => ({
        serverId: s.serverId,
        endpoint: s.endpoint,
        capacity: s.capacity,
        players: s.players,
        pending: ledger.pendingFor(s.serverId),
        playgrounds: [...s.playgrounds].map(([playgroundId, players]) => ({ playgroundId, players })),
        draining: s.draining,
        version: s.version,
        cpu: s.cpu,
        tickMs: s.tickMs,
        entities: s.entities,
        bytesOutPerSec: s.bytesOutPerSec,
        tickP99Ms: s.tickP99Ms,
        backpressureSkips: s.backpressureSkips,
        lastReportAt: new Date(s.lastReportAtMs).toISOString(),
      })),
    }),
  );
}

/** The session id from the body, else from `Authorization: Bearer <sessionId>`. */
function sessionOf(req: FastifyRequest, fromBody: string | undefined): string {
  if (fromBody) return fromBody;
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(req.headers.authorization ?? '');
  if (match?.[1]) return match[1];
  throw new AppError('LB_SESSION_REQUIRED');
}
