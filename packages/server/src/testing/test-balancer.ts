import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CheckpointWriteParams,
  CONTROL_PATH,
  type DisplayProfile,
  ErrorCodes,
  type PlayersJoinResult,
  type RpcMessage,
  type ServerToBalancer,
  type StoredCheckpoint,
  TICKET_ALGORITHM,
  TICKET_ISSUER,
} from '@plexus/protocol';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The balancer's side of the control channel, for the DS's wire tests: a real WebSocket server at
 * CONTROL_PATH that checks the cluster secret, answers `register` with an Ed25519 public key,
 * records every message and signs join tickets with the matching private key. It answers the
 * control RPCs the DS needs to host anything — `checkpoints.claim`/`write` with the contract's
 * fencing, kept in memory — and acknowledges the others; `lb.relocate` fails (no other server).
 * Tests of cross-component behaviour use the real backend and balancer instead.
 */
export interface TestBalancer {
  url: string;
  received: ServerToBalancer[];
  /** Resolves with the first recorded message (past or future) matching `pred`. */
  waitFor<T extends ServerToBalancer>(pred: (m: ServerToBalancer) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (m: ServerToBalancer) => boolean, timeoutMs?: number): Promise<ServerToBalancer>;
  /** Sends a JSON message to every connected server. */
  broadcast(msg: unknown): void;
  /** Drops every control socket (the DS should reconnect). */
  dropConnections(): void;
  ticket(options: TicketOptions): Promise<string>;
  /** Upgrade attempts refused for a wrong secret. */
  refusedUpgrades: number;
  /** Checkpoints accepted, by playground (the latest one). */
  checkpoints: Map<string, StoredCheckpoint>;
  /** When false, RPCs get no answer at all (a balancer whose backend hangs). */
  answerRpc: boolean;
  /** What `players.join` answers, by `userId + ' ' + playgroundId` (default: no record, no inbox). */
  playerRecords: Map<string, PlayersJoinResult>;
  /** Another server claims the playground: the DS's epoch is stale from now on. */
  steal(playgroundId: string): void;
  close(): Promise<void>;
}

export interface TicketOptions {
  aud: string;
  pg?: string;
  sub?: string;
  jti?: string;
  /** Expiry, seconds from now (negative: already expired). */
  expiresInS?: number;
  prof?: Partial<DisplayProfile>;
  /** Sign with another key than the one the DS received. */
  foreignKey?: boolean;
  /** Resume token (the `rt` claim): the DS resumes the user's earlier presence. */
  rt?: string;
}

export const defaultProfile: DisplayProfile = {
  firstName: 'Ada',
  lastName: 'Lovelace',
  privacyMode: 0,
  avatar: 'https://example.test/ada.png',
  companyName: 'Analytical Engines',
  companyTitle: 'Programmer',
};

export async function startTestBalancer(
  options: { secret: string; answerRegister?: boolean; answerRpc?: boolean } = { secret: 'test-secret' },
): Promise<TestBalancer> {
  const { publicKey, privateKey } = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const foreign = await generateKeyPair(TICKET_ALGORITHM, { crv: 'Ed25519' });
  const publicJwk: JWK = await exportJWK(publicKey);
  const received: ServerToBalancer[] = [];
  const waiters: { pred: (m: ServerToBalancer) => boolean; resolve: (m: ServerToBalancer) => void }[] = [];
  const sockets = new Set<WebSocket>();
  const server: Server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const state = { refusedUpgrades: 0, answerRpc: options.answerRpc ?? true };
  const checkpoints = new Map<string, StoredCheckpoint>();
  const playerRecords = new Map<string, PlayersJoinResult>();
  /** playgroundId → current epoch and its holder. */
  const epochs = new Map<string, { epoch: number; holder: string }>();
  const answer = (msg: RpcMessage, serverId: string): { data?: unknown; error?: unknown } => {
    const p = msg.params as Record<string, unknown>;
    const playgroundId = String(p.playgroundId);
    switch (msg.method) {
      case 'checkpoints.claim': {
        const epoch = (epochs.get(playgroundId)?.epoch ?? 0) + 1;
        epochs.set(playgroundId, { epoch, holder: serverId });
        return { data: { epoch, checkpoint: checkpoints.get(playgroundId) ?? null } };
      }
      case 'checkpoints.write': {
        const w = p as unknown as CheckpointWriteParams;
        const current = epochs.get(playgroundId);
        const stored = checkpoints.get(playgroundId);
        if (
          !current ||
          current.epoch !== w.epoch ||
          current.holder !== serverId ||
          (stored && stored.version >= w.version)
        ) {
          const spec = ErrorCodes.CHECKPOINT_STALE;
          return { error: { status: spec.status, code: spec.code, message: spec.message } };
        }
        checkpoints.set(playgroundId, {
          playgroundId,
          epoch: w.epoch,
          version: w.version,
          serverId,
          state: w.state,
          savedAt: Date.now(),
        });
        return { data: { epoch: w.epoch, version: w.version } };
      }
      case 'players.join':
        return { data: playerRecords.get(`${p.userId} ${playgroundId}`) ?? { record: null, inbox: [] } };
      case 'players.save':
        return { data: { saved: (p.players as unknown[]).length } };
      case 'analytics.record':
        return { data: { accepted: (p.events as unknown[]).length } };
      case 'events.publish':
        return { data: { id: randomBytes(8).toString('hex'), delivery: 'live' } };
      case 'players.leave':
        return { data: {} };
      default:
        return { error: { status: 503, code: ErrorCodes.LB_NO_CAPACITY.code, message: 'No other server' } };
    }
  };
  const wss = new WebSocketServer({
    server,
    path: CONTROL_PATH,
    verifyClient: (info, done) => {
      const ok = info.req.headers.authorization === `Bearer ${options.secret}`;
      if (!ok) state.refusedUpgrades++;
      done(ok, 401);
    },
  });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    let serverId = '';
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerToBalancer;
      received.push(msg);
      if (msg.type === 'register') serverId = msg.serverId;
      if (msg.type === 'rpc' && state.answerRpc) {
        ws.send(JSON.stringify({ type: 'rpcResult', id: msg.id, ...answer(msg, serverId) }));
      }
      for (const w of [...waiters]) {
        if (w.pred(msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
      if (msg.type === 'register' && options.answerRegister !== false) {
        ws.send(JSON.stringify({ type: 'registered', ticketKey: publicJwk, heartbeatIntervalMs: 1000 }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get refusedUpgrades() {
      return state.refusedUpgrades;
    },
    checkpoints,
    playerRecords,
    steal(playgroundId) {
      epochs.set(playgroundId, { epoch: (epochs.get(playgroundId)?.epoch ?? 0) + 1, holder: 'ds-thief' });
    },
    get answerRpc() {
      return state.answerRpc;
    },
    set answerRpc(v: boolean) {
      state.answerRpc = v;
    },
    waitFor(pred: (m: ServerToBalancer) => boolean, timeoutMs = 5_000): Promise<ServerToBalancer> {
      const found = received.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('timed out waiting for a control message')),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    broadcast(msg) {
      for (const ws of sockets) ws.send(JSON.stringify(msg));
    },
    dropConnections() {
      for (const ws of sockets) ws.terminate();
    },
    async ticket(t) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        pg: t.pg ?? 'expo-hall',
        prof: { ...defaultProfile, ...t.prof },
        ...(t.rt ? { rt: t.rt } : {}),
      })
        .setProtectedHeader({ alg: TICKET_ALGORITHM })
        .setIssuer(TICKET_ISSUER)
        .setAudience(t.aud)
        .setSubject(t.sub ?? `user-${randomBytes(4).toString('hex')}`)
        .setJti(t.jti ?? randomBytes(16).toString('base64url'))
        .setIssuedAt(now - (t.expiresInS !== undefined && t.expiresInS < 0 ? 60 : 0))
        .setExpirationTime(now + (t.expiresInS ?? 30))
        .sign(t.foreignKey ? foreign.privateKey : privateKey);
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
