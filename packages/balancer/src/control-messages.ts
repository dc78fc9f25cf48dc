import { z } from '@plexus/kit';
import { PLAYGROUND_ID_PATTERN, type ServerToBalancer } from '@plexus/protocol';

/** Parsers of the DS → LB control messages (protocol/src/control.ts). Unknown fields are ignored. */

export const SERVER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Bound on playgrounds listed in one message (register or load). */
export const MAX_REPORTED_PLAYGROUNDS = 10_000;

const count = z.number().int().min(0).max(1_000_000);

const playgroundLoad = z.object({
  playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN),
  players: count,
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  checkpointAgeMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

const playgrounds = z.array(playgroundLoad).max(MAX_REPORTED_PLAYGROUNDS);

export const registerMessage = z.object({
  type: z.literal('register'),
  serverId: z.string().regex(SERVER_ID_PATTERN),
  endpoint: z
    .string()
    .max(2048)
    .refine((s) => URL.canParse(s) && /^wss?:$/.test(new URL(s).protocol), 'must be a ws:// or wss:// URL'),
  capacity: count,
  version: z.string().min(1).max(64),
  protocolVersion: z.number().int().min(0),
  playgrounds,
});

export const loadMessage = z.object({
  type: z.literal('load'),
  players: count,
  playgrounds,
  cpu: z.number().min(0).max(4096),
  tickMs: z.number().min(0).max(3_600_000),
  // Replication figures (servers since issue 3); optional so older servers still validate.
  entities: count.optional(),
  clients: count.optional(),
  bytesOutPerSec: z.number().min(0).max(1e12).optional(),
  tickP50Ms: z.number().min(0).max(3_600_000).optional(),
  tickP99Ms: z.number().min(0).max(3_600_000).optional(),
  checkpointLagMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  backpressureSkips: z.number().int().min(0).max(1e12).optional(),
  draining: z.boolean().optional(),
});

export const ticketRedeemedMessage = z.object({
  type: z.literal('ticketRedeemed'),
  jti: z.string().min(1).max(128),
  playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN),
});

/**
 * A control RPC. The method is checked by the handler (an unknown one is answered with an error, not
 * a closed channel); the params are checked by whoever answers the method. Their size is bounded by
 * the socket's frame limit.
 */
export const rpcMessage = z.object({
  type: z.literal('rpc'),
  id: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
  method: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()),
});

export const serverToBalancer = z.discriminatedUnion('type', [
  registerMessage,
  loadMessage,
  ticketRedeemedMessage,
  rpcMessage,
]);

export type ParsedServerMessage = z.output<typeof serverToBalancer>;

export type ParseOutcome =
  | { ok: true; message: ParsedServerMessage }
  | { ok: false; errorName: 'COMMON_MALFORMED_JSON' | 'COMMON_BAD_REQUEST'; detail: string };

/** Parses one text frame; never throws. */
export function parseServerMessage(text: string): ParseOutcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, errorName: 'COMMON_MALFORMED_JSON', detail: 'The message is not valid JSON' };
  }
  const result = serverToBalancer.safeParse(json);
  if (result.success) return { ok: true, message: result.data };
  const detail = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'message'}: ${i.message}`)
    .join('; ');
  return { ok: false, errorName: 'COMMON_BAD_REQUEST', detail: `Invalid message: ${detail}` };
}

/** The parsed message as the protocol type (a compile-time check that the schemas match it). */
export function asProtocolMessage(message: Exclude<ParsedServerMessage, { type: 'rpc' }>): ServerToBalancer {
  return message;
}
