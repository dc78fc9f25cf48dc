import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CONTROL_PATH,
  type DisplayProfile,
  type ServerToBalancer,
  TICKET_ALGORITHM,
  TICKET_ISSUER,
} from '@plexus/protocol';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The balancer's side of the control channel, for tests: a real WebSocket server at CONTROL_PATH
 * that checks the cluster secret, answers `register` with an Ed25519 public key, records every
 * message and signs join tickets with the matching private key.
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
  options: { secret: string; answerRegister?: boolean } = { secret: 'test-secret' },
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
  const state = { refusedUpgrades: 0 };
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
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as ServerToBalancer;
      received.push(msg);
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
      return new SignJWT({ pg: t.pg ?? 'expo-hall', prof: { ...defaultProfile, ...t.prof } })
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
