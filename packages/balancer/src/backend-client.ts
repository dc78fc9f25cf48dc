import { AppError, z } from '@plexus/kit';
import {
  ErrorCodes,
  type ErrorName,
  errorNameOf,
  HttpPaths,
  PLAYGROUND_ID_PATTERN,
  type PlayerRecord,
  type UserSimple,
} from '@plexus/protocol';
import type { Logger } from 'pino';

/** What the balancer needs from the backend server. */
export interface BackendClient {
  /** authCheck.getUserBySessionId; AUTH_INVALID_SESSION for a bad session. */
  getUserBySessionId(sessionId: string): Promise<UserSimple>;
  /** users.getByIds: the current User Simple of each known id (unknown ids are left out). */
  getUsersByIds(userIds: readonly string[]): Promise<UserSimple[]>;
  /** matchmaking.findPlayground: the playground (instance) a user — or their whole party — should join. */
  findPlayground(userId: string, criteria?: Record<string, unknown>, partyId?: string): Promise<string>;
  /** matchmaking.joinPlayground: the instance of a named playground to join (e.g. `expo-hall#2`). */
  joinPlayground(userId: string, playgroundId: string, inviteCode?: string): Promise<string>;
  /** players.get: the user's saved record in a playground, read only (no presence, no inbox). */
  getPlayerRecord(userId: string, playgroundId: string): Promise<PlayerRecord | null>;
  /**
   * Any partner RPC (`/api/v0/partnerRpc/<method>`), for the control channel: the backend's data or
   * its error as it answered it. Never throws; an unusable backend is LB_BACKEND_UNAVAILABLE.
   */
  partnerRpc(method: string, params: unknown): Promise<PartnerRpcOutcome>;
  /** Forwards a client RPC (`/api/v0/rpc/<method>`) and returns the backend's status and JSON text. */
  forwardRpc(request: ForwardRequest): Promise<ForwardResponse>;
}

export type PartnerRpcOutcome =
  | { ok: true; data: unknown }
  | { ok: false; error: { status: number; code: number; message: string } };

export interface ForwardRequest {
  method: string;
  /** Client RPCs by default; the console forwards operator RPCs (routes/console-routes.ts). */
  prefix?: typeof HttpPaths.rpcPrefix | typeof HttpPaths.operatorRpcPrefix | undefined;
  body: string | undefined;
  authorization: string | undefined;
  forwardedFor: string;
}

export interface ForwardResponse {
  status: number;
  /** The backend's JSON body, verbatim. */
  body: string;
}

const avatar3DSchema = z.object({
  assetId: z.string(),
  assetSkins: z.record(z.string(), z.string()),
  avatarUrl: z.string(),
  avatarUserId: z.string(),
});

const userSchema = z.object({
  id: z.string().min(1),
  firstName: z.string(),
  lastName: z.string(),
  privacyMode: z.number().int(),
  avatar: z.string(),
  avatar3D: avatar3DSchema.optional(),
  companyName: z.string(),
  companyTitle: z.string(),
});

const envelopeSchema = z.object({
  data: z.unknown(),
  error: z.object({ status: z.boolean(), code: z.number(), message: z.string() }),
});

const authCheckDataSchema = z.object({ user: userSchema });
const authResultEnvelopeSchema = z.object({
  data: z.object({ sessionId: z.string().min(1), user: userSchema }),
  error: z.object({ status: z.literal(false) }),
});
const usersDataSchema = z.object({ users: z.array(userSchema) });
/** Ids per users.getByIds call (the backend's limit). */
const USERS_PER_CALL = 500;
const vec3Schema = z.object({ x: z.number(), y: z.number(), z: z.number() });
const playerRecordDataSchema = z.object({
  record: z
    .object({
      userId: z.string(),
      playgroundId: z.string(),
      position: vec3Schema.nullable(),
      rotation: vec3Schema.extend({ w: z.number() }).nullable(),
      data: z.record(z.string(), z.unknown()),
      updatedAt: z.number(),
    })
    .nullable(),
});
const matchmakingDataSchema = z.object({ playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN) });

/**
 * Backend errors a client may see as they are (with every matchmaking error, `MATCH_*`); anything
 * else (5xx, a misconfigured partner key, an unknown route, garbage) means the backend is unusable:
 * LB_BACKEND_UNAVAILABLE.
 */
const PASS_THROUGH = new Set<ErrorName>([
  'AUTH_INVALID_SESSION',
  'COMMON_BAD_REQUEST',
  'COMMON_RATE_LIMITED',
]);

function passesThrough(name: ErrorName): boolean {
  return PASS_THROUGH.has(name) || name.startsWith('MATCH_');
}

export interface HttpBackendClientOptions {
  backendUrl: string;
  partnerKey: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * The backend over HTTP with Node's fetch (undici keeps a keep-alive connection pool per origin),
 * every call bounded by a timeout.
 */
export class HttpBackendClient implements BackendClient {
  readonly #base: string;
  readonly #partnerKey: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;

  constructor(options: HttpBackendClientOptions) {
    this.#base = options.backendUrl.replace(/\/+$/, '');
    this.#partnerKey = options.partnerKey;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
  }

  async getUserBySessionId(sessionId: string): Promise<UserSimple> {
    const data = await this.#partnerCall(HttpPaths.authCheck, { sessionId }, authCheckDataSchema);
    return userSimpleOf(data.user);
  }

  async getUsersByIds(userIds: readonly string[]): Promise<UserSimple[]> {
    const users: UserSimple[] = [];
    for (let i = 0; i < userIds.length; i += USERS_PER_CALL) {
      const userIdsChunk = userIds.slice(i, i + USERS_PER_CALL);
      const data = await this.#partnerCall(
        HttpPaths.usersGetByIds,
        { userIds: userIdsChunk },
        usersDataSchema,
      );
      for (const u of data.users) users.push(userSimpleOf(u));
    }
    return users;
  }

  async findPlayground(
    userId: string,
    criteria?: Record<string, unknown>,
    partyId?: string,
  ): Promise<string> {
    const body = {
      userId,
      ...(criteria === undefined ? {} : { criteria }),
      ...(partyId === undefined ? {} : { partyId }),
    };
    const data = await this.#partnerCall(HttpPaths.matchmakingFind, body, matchmakingDataSchema);
    return data.playgroundId;
  }

  async joinPlayground(userId: string, playgroundId: string, inviteCode?: string): Promise<string> {
    const body = inviteCode === undefined ? { userId, playgroundId } : { userId, playgroundId, inviteCode };
    const data = await this.#partnerCall(HttpPaths.matchmakingJoin, body, matchmakingDataSchema);
    return data.playgroundId;
  }

  async getPlayerRecord(userId: string, playgroundId: string): Promise<PlayerRecord | null> {
    const data = await this.#partnerCall(
      HttpPaths.playersGet,
      { userId, playgroundId },
      playerRecordDataSchema,
    );
    return data.record;
  }

  async partnerRpc(method: string, params: unknown): Promise<PartnerRpcOutcome> {
    const path = `${HttpPaths.partnerRpcPrefix}${method}`;
    const unavailable = (): PartnerRpcOutcome => {
      const { code, status, message } = ErrorCodes.LB_BACKEND_UNAVAILABLE;
      return { ok: false, error: { status, code, message } };
    };
    let status: number;
    let text: string;
    try {
      ({ status, text } = await this.#post(path, this.#partnerHeaders(), JSON.stringify(params)));
    } catch {
      return unavailable();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      this.#unavailable(`backend answered ${status} with a non-JSON body on ${path}`, err);
      return unavailable();
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      this.#unavailable(`backend answered ${status} without an envelope on ${path}`);
      return unavailable();
    }
    const { data, error } = envelope.data;
    if (!error.status && status < 400) return { ok: true, data };
    if (errorNameOf(error.code) === 'AUTH_PARTNER_KEY_REQUIRED') {
      this.#logger.error({ path }, 'the backend refused the partner key: check PLEXUS_PARTNER_KEY');
      return unavailable();
    }
    return { ok: false, error: { status, code: error.code, message: error.message } };
  }

  async forwardRpc(request: ForwardRequest): Promise<ForwardResponse> {
    const headers: Record<string, string> = { 'x-forwarded-for': request.forwardedFor };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.authorization !== undefined) headers.authorization = request.authorization;
    const { status, text } = await this.#post(
      `${request.prefix ?? HttpPaths.rpcPrefix}${request.method}`,
      headers,
      request.body,
    );
    try {
      JSON.parse(text);
    } catch (err) {
      throw this.#unavailable(`backend answered ${status} with a non-JSON body`, err);
    }
    return { status, body: text };
  }

  async #partnerCall<S extends z.ZodType>(path: string, body: unknown, dataSchema: S): Promise<z.output<S>> {
    const { status, text } = await this.#post(path, this.#partnerHeaders(), JSON.stringify(body));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw this.#unavailable(`backend answered ${status} with a non-JSON body on ${path}`, err);
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success)
      throw this.#unavailable(`backend answered ${status} without an envelope on ${path}`);
    const { error } = envelope.data;
    if (error.status || status >= 400) {
      const name = errorNameOf(error.code);
      if (name && passesThrough(name)) throw new AppError(name, error.message);
      if (name === 'AUTH_PARTNER_KEY_REQUIRED') {
        this.#logger.error({ path }, 'the backend refused the partner key: check PLEXUS_PARTNER_KEY');
      }
      throw this.#unavailable(`backend answered ${status} (code ${error.code}) on ${path}`);
    }
    const data = dataSchema.safeParse(envelope.data.data);
    if (!data.success) throw this.#unavailable(`backend answered an unexpected shape on ${path}`);
    return data.data;
  }

  #partnerHeaders(): Record<string, string> {
    return { 'content-type': 'application/json', authorization: `Bearer ${this.#partnerKey}` };
  }

  async #post(
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    try {
      const res = await fetch(`${this.#base}${path}`, {
        method: 'POST',
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      throw this.#unavailable(`backend request ${path} failed`, err);
    }
  }

  #unavailable(reason: string, cause?: unknown): AppError {
    this.#logger.warn({ reason, err: cause }, 'backend unavailable');
    return new AppError('LB_BACKEND_UNAVAILABLE', undefined, { cause });
  }
}

/**
 * The session and user of a successful auth.guest / auth.login / auth.register answer (an
 * AuthResult envelope, as the backend wrote it); undefined for anything else.
 */
export function authResultOf(body: string): { sessionId: string; user: UserSimple } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = authResultEnvelopeSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return { sessionId: parsed.data.data.sessionId, user: userSimpleOf(parsed.data.data.user) };
}

/** A parsed user as the protocol's UserSimple: avatar3D absent rather than undefined. */
function userSimpleOf(parsed: z.output<typeof userSchema>): UserSimple {
  const user: UserSimple = { ...parsed } as UserSimple;
  if (parsed.avatar3D === undefined) delete user.avatar3D;
  return user;
}
