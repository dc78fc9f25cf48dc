import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import {
  type ClientFrame,
  ClientOp,
  decodeClientFrame,
  type EndpointGrant,
  type EntityState,
  ErrorCodes,
  encodeError,
  encodeEvent,
  encodePong,
  encodeRedirect,
  encodeState,
  encodeWelcome,
  type PlexusEventEnvelope,
  PROTOCOL_VERSION,
  type Welcome,
} from '@plexus/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { PlexusClient } from './client.ts';
import type { EndpointResolver, ReconnectedInfo, ReconnectingInfo } from './connection/resumer.ts';
import { PlexusError } from './errors.ts';
import type { FetchFn } from './http/request.ts';
import { connectPlayground, type Playground } from './playground.ts';
import type { DisconnectInfo, PlaygroundOptions } from './playground-types.ts';

// The SDK's resume logic against real WebSocket servers on 127.0.0.1 that speak the wire protocol
// through the protocol codec, scripted per test (the dedicated server's side of resuming is tested
// with the real stack in test/sdk-continuity.test.ts).

const Q = { x: 0, y: 0, z: 0, w: 1 };

function entity(id: number, owner: number, x: number, kind = 'avatar'): EntityState {
  return { id, owner, kind, position: { x, y: 0, z: 0 }, rotation: Q, props: {} };
}

/** One client connection as the scripted server sees it. */
class Conn extends EventEmitter {
  readonly ws: WebSocket;
  readonly frames: ClientFrame[] = [];
  ticket = '';

  constructor(ws: WebSocket) {
    super();
    this.ws = ws;
  }

  welcome(welcome: Partial<Welcome>, spawns: EntityState[], tick = 100): void {
    this.ws.send(
      encodeWelcome({
        protocolVersion: PROTOCOL_VERSION,
        clientId: 1,
        selfId: 10,
        playgroundId: 'hall',
        serverId: 'ds-x',
        tickRateHz: 20,
        serverTimeMs: Date.now(),
        ...welcome,
      }),
    );
    this.ws.send(encodeState({ tick, keyframe: true, spawns, updates: [], removes: [] }));
  }

  /** Resolves with the next frame of `op` this connection receives. */
  next(op: number, timeoutMs = 3000): Promise<ClientFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no frame 0x${op.toString(16)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onFrame = (frame: ClientFrame): void => {
        if (frame.op !== op) return;
        clearTimeout(timer);
        this.off('frame', onFrame);
        resolve(frame);
      };
      this.on('frame', onFrame);
    });
  }
}

/** A WebSocket server speaking the Plexus protocol, its answer to HELLO scripted by the test. */
class ScriptedServer extends EventEmitter {
  readonly wss: WebSocketServer;
  readonly url: string;
  readonly conns: Conn[] = [];
  answerPings = true;
  /** What a LEAVE gets: a clean close (default) or a cut connection. */
  onLeave: 'close' | 'terminate' = 'close';
  private readonly hello: (conn: Conn) => void;

  private constructor(wss: WebSocketServer, hello: (conn: Conn) => void) {
    super();
    this.wss = wss;
    this.hello = hello;
    this.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    wss.on('connection', (ws) => {
      const conn = new Conn(ws);
      this.conns.push(conn);
      ws.on('message', (data: Buffer) => {
        const frame = decodeClientFrame(new Uint8Array(data));
        conn.frames.push(frame);
        conn.emit('frame', frame);
        if (frame.op === ClientOp.HELLO) {
          conn.ticket = frame.ticket;
          this.emit('hello', conn);
          this.hello(conn);
        } else if (frame.op === ClientOp.PING && this.answerPings) {
          ws.send(encodePong(frame.clientTimeMs, Date.now()));
        } else if (frame.op === ClientOp.LEAVE) {
          if (this.onLeave === 'close') ws.close(1000, 'left');
          else ws.terminate();
        }
      });
    });
  }

  static async start(hello: (conn: Conn) => void): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const server = new ScriptedServer(wss, hello);
    started.push(server);
    return server;
  }

  grant(ticket: string): EndpointGrant {
    return {
      endpoint: this.url,
      ticket,
      serverId: 'ds-x',
      playgroundId: 'hall',
      expiresAt: new Date().toISOString(),
    };
  }

  /** Resolves with the next connection that sends HELLO. */
  nextHello(timeoutMs = 3000): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no HELLO within ${timeoutMs} ms`)), timeoutMs);
      this.once('hello', (conn: Conn) => {
        clearTimeout(timer);
        resolve(conn);
      });
    });
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const started: ScriptedServer[] = [];
const handles: Playground[] = [];
after(async () => {
  await Promise.all(handles.map((pg) => pg.leave()));
  await Promise.all(started.map((s) => s.close()));
});

/** Resolves with the arguments of the next `event` of `pg`. */
function next<E extends 'reconnecting' | 'reconnected' | 'disconnected' | 'event'>(
  pg: Playground,
  event: E,
  timeoutMs = 5000,
): Promise<Parameters<Parameters<Playground['on']>[1]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const off = pg.on(event, ((arg: never) => {
      clearTimeout(timer);
      off();
      resolve(arg);
    }) as never);
  });
}

/** Records every continuity event of `pg`, in order. */
function journal(pg: Playground): string[] {
  const log: string[] = [];
  pg.on('reconnecting', (i) => log.push(`reconnecting:${i.attempt}:${i.reason}`));
  pg.on('reconnected', (i) => log.push(`reconnected:${i.reason}`));
  pg.on('disconnected', (i) => log.push(`disconnected:${i.code}`));
  return log;
}

const fast: PlaygroundOptions = { reconnect: { baseDelayMs: 20, maxDelayMs: 100 }, pingIntervalMs: 200 };

async function join(server: ScriptedServer, resolve?: EndpointResolver, options: PlaygroundOptions = fast) {
  const pg = await connectPlayground(server.grant('t1'), options, resolve);
  handles.push(pg);
  return pg;
}

test('a cut connection resumes by itself: same selfId, same entities Map and objects, the server state wins', async () => {
  const a = await ScriptedServer.start((conn) =>
    conn.welcome({ clientId: 1, selfId: 10, serverId: 'ds-a', resumeToken: 'rt-1' }, [
      entity(10, 1, 0),
      entity(20, 2, 5),
      entity(30, 1, 1, 'object'),
    ]),
  );
  const b = await ScriptedServer.start((conn) =>
    // The new host restored avatar 10 at its checkpointed x = 2 and object 30 for the new
    // connection id 5; avatar 20 is gone, avatar 40 arrived. Its ticks are its own.
    conn.welcome(
      { clientId: 5, selfId: 10, serverId: 'ds-b', resumeToken: 'rt-2', resumed: true },
      [entity(10, 5, 2), entity(30, 5, 1, 'object'), entity(40, 6, 7)],
      3,
    ),
  );
  const tokens: (string | undefined)[] = [];
  const resolve: EndpointResolver = async (token) => {
    tokens.push(token);
    return b.grant(`t-b-${tokens.length}`);
  };
  const pg = await join(a, resolve);
  const log = journal(pg);
  const map = pg.entities;
  const self = pg.self;
  const shared = pg.entities.get(30);
  assert.ok(self && shared);
  const changes: string[] = [];
  pg.on('entityAdded', (e) => changes.push(`added:${e.id}`));
  pg.on('entityRemoved', (e) => changes.push(`removed:${e.id}`));

  // A request in flight (server A never answers it) and a local move, then the link is cut.
  const conn = a.conns[0] as Conn;
  const spawned = pg.spawn({ kind: 'object', position: { x: 0, y: 0, z: 0 } });
  await conn.next(ClientOp.SPAWN);
  assert.equal(pg.move({ position: { x: 9, y: 0, z: 0 } }), true);
  const reconnecting = next(pg, 'reconnecting') as Promise<ReconnectingInfo>;
  const reconnected = next(pg, 'reconnected') as Promise<ReconnectedInfo>;
  conn.ws.terminate();

  const first = await reconnecting;
  assert.equal(first.attempt, 1);
  assert.equal(first.reason, 'closed');
  assert.equal(first.closeCode, 1006);
  assert.ok(first.delayMs < 20);
  assert.equal(pg.state, 'reconnecting');
  assert.equal(pg.connected, false);
  // Moves while reconnecting are dropped (not applied, not queued); requests fail at once.
  assert.equal(pg.move({ position: { x: 8, y: 0, z: 0 } }), false);
  const outcome = await spawned;
  assert.equal(!outcome.ok && outcome.error.name, 'CLIENT_CONNECTION_CLOSED');
  const late = await pg.despawn(30);
  assert.equal(!late.ok && late.error.name, 'CLIENT_CONNECTION_CLOSED');

  const info = await reconnected;
  assert.deepEqual(tokens, ['rt-1'], 'the balancer was asked with the resume token of the WELCOME');
  assert.equal(info.resumed, true);
  assert.equal(info.serverId, 'ds-b');
  assert.equal(info.attempts, 1);
  assert.equal(info.selfChanged, false);
  assert.equal(info.previousSelfId, 10);
  assert.equal(info.previousClientId, 1);
  assert.ok(info.downtimeMs >= 0 && info.downtimeMs < 3000);
  assert.equal(pg.state, 'connected');
  assert.equal(pg.serverId, 'ds-b');
  assert.equal(pg.clientId, 5);
  assert.equal(pg.selfId, 10);
  assert.equal(pg.entities, map, 'the same Map');
  assert.equal(pg.self, self, 'the same avatar object');
  assert.equal(pg.entities.get(30), shared, 'the same object for a surviving id');
  assert.deepEqual(self.position, { x: 2, y: 0, z: 0 }, 'the restored position is the server’s');
  assert.deepEqual(pg.sampleTransform(10)?.position, { x: 2, y: 0, z: 0 });
  assert.equal(pg.isOwner(30), true, 'ownership follows the new keyframe');
  assert.deepEqual(changes.sort(), ['added:40', 'removed:20']);
  assert.deepEqual(log, ['reconnecting:1:closed', 'reconnected:closed']);

  // The handle works on the new connection; the next drop uses the refreshed token.
  const bConn = b.conns[0] as Conn;
  const move = bConn.next(ClientOp.MOVE);
  assert.equal(pg.move({ position: { x: 3, y: 0, z: 0 } }), true);
  assert.equal(((await move) as { entityId: number }).entityId, 10);
  const again = next(pg, 'reconnected');
  bConn.ws.terminate();
  await again;
  assert.deepEqual(tokens, ['rt-1', 'rt-2']);
  await pg.leave();
  assert.deepEqual(log.at(-1), 'disconnected:1000');
});

test('leave() never reconnects, even when the link is cut during it', async () => {
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt' }, [entity(10, 1, 0)]));
  a.onLeave = 'terminate';
  let asked = 0;
  const pg = await join(a, async () => {
    asked++;
    return a.grant('again');
  });
  const log = journal(pg);
  const disconnected = next(pg, 'disconnected') as Promise<DisconnectInfo>;
  await pg.leave();
  assert.equal((await disconnected).code, 1006);
  assert.equal(pg.state, 'disconnected');
  assert.equal(asked, 0);
  assert.deepEqual(log, ['disconnected:1006']);
});

test('a fatal close (duplicate login) ends the handle without reconnecting', async () => {
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt' }, [entity(10, 1, 0)]));
  let asked = 0;
  const pg = await join(a, async () => {
    asked++;
    return a.grant('again');
  });
  const log = journal(pg);
  const disconnected = next(pg, 'disconnected') as Promise<DisconnectInfo>;
  const spec = ErrorCodes.PROTOCOL_DUPLICATE_LOGIN;
  const conn = a.conns[0] as Conn;
  conn.ws.send(encodeError(spec.code, 'PROTOCOL_DUPLICATE_LOGIN', spec.message));
  conn.ws.close(4008, 'duplicate login');
  const info = await disconnected;
  assert.equal(info.code, 4008);
  assert.equal(info.error?.name, 'PROTOCOL_DUPLICATE_LOGIN');
  assert.equal(asked, 0);
  assert.deepEqual(log, ['disconnected:4008']);
});

test('a silent server (frozen, partitioned) is detected by the liveness timeout and left behind', async () => {
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt-a' }, [entity(10, 1, 0)]));
  const b = await ScriptedServer.start((conn) =>
    conn.welcome({ serverId: 'ds-b', resumed: true }, [entity(10, 2, 0)]),
  );
  const pg = await join(a, async () => b.grant('t-b'), {
    ...fast,
    pingIntervalMs: 50,
    livenessTimeoutMs: 300,
  });
  const reconnecting = next(pg, 'reconnecting') as Promise<ReconnectingInfo>;
  const reconnected = next(pg, 'reconnected') as Promise<ReconnectedInfo>;
  const stoppedAt = performance.now();
  a.answerPings = false;
  const info = await reconnecting;
  assert.equal(info.reason, 'liveness');
  assert.equal(info.closeCode, 3008);
  assert.equal(info.error?.name, 'CLIENT_LIVENESS_TIMEOUT');
  assert.ok(performance.now() - stoppedAt >= 250, 'not before the timeout');
  const back = await reconnected;
  assert.equal(back.serverId, 'ds-b');
  assert.ok(back.downtimeMs >= 250, `the downtime counts from the last frame (${back.downtimeMs} ms)`);
  assert.equal(pg.serverId, 'ds-b');
});

test('REDIRECT: straight to the new endpoint with its ticket, no balancer call', async () => {
  const b = await ScriptedServer.start((conn) =>
    conn.welcome({ serverId: 'ds-b', resumed: true, resumeToken: 'rt-b' }, [entity(10, 4, 1)]),
  );
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt-a' }, [entity(10, 1, 1)]));
  let asked = 0;
  const pg = await join(a, async () => {
    asked++;
    return b.grant('from-balancer');
  });
  const log = journal(pg);
  const hello = b.nextHello();
  const reconnected = next(pg, 'reconnected') as Promise<ReconnectedInfo>;
  (a.conns[0] as Conn).ws.send(
    encodeRedirect({ playgroundId: 'hall', endpoint: b.url, ticket: 'redirect-ticket', reason: 'drain' }),
  );
  assert.equal((await hello).ticket, 'redirect-ticket');
  const info = await reconnected;
  assert.equal(info.reason, 'redirect');
  assert.equal(info.serverId, 'ds-b');
  assert.equal(asked, 0);
  assert.deepEqual(log, ['reconnecting:1:redirect', 'reconnected:redirect']);
});

test('REDIRECT to an endpoint that fails falls back to the balancer', async () => {
  const b = await ScriptedServer.start((conn) => conn.welcome({ serverId: 'ds-b' }, [entity(10, 4, 1)]));
  const gone = await ScriptedServer.start(() => {});
  const goneUrl = gone.url;
  await gone.close();
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt-a' }, [entity(10, 1, 1)]));
  const tokens: (string | undefined)[] = [];
  const pg = await join(a, async (token) => {
    tokens.push(token);
    return b.grant('from-balancer');
  });
  const reconnected = next(pg, 'reconnected') as Promise<ReconnectedInfo>;
  (a.conns[0] as Conn).ws.send(
    encodeRedirect({ playgroundId: 'hall', endpoint: goneUrl, ticket: 'x', reason: 'drain' }),
  );
  const info = await reconnected;
  assert.equal(info.attempts, 2);
  assert.deepEqual(tokens, ['rt-a']);
  assert.equal(pg.serverId, 'ds-b');
});

test('gives up after maxDowntimeMs with CLIENT_RECONNECT_FAILED, and at once on an auth error', async () => {
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt' }, [entity(10, 1, 0)]));
  const pg = await join(
    a,
    async () => {
      throw PlexusError.of('CLIENT_NETWORK_ERROR', 'balancer unreachable');
    },
    { reconnect: { maxDowntimeMs: 400, baseDelayMs: 20, maxDelayMs: 80 } },
  );
  const attempts: number[] = [];
  pg.on('reconnecting', (i) => attempts.push(i.attempt));
  const disconnected = next(pg, 'disconnected') as Promise<DisconnectInfo>;
  (a.conns[0] as Conn).ws.terminate();
  const info = await disconnected;
  assert.equal(info.code, 1006);
  assert.equal(info.error?.name, 'CLIENT_RECONNECT_FAILED');
  assert.equal((info.error?.cause as PlexusError | undefined)?.name, 'CLIENT_NETWORK_ERROR');
  assert.ok(attempts.length >= 3, `several attempts (${attempts.length})`);
  assert.deepEqual(
    attempts,
    attempts.map((_, i) => i + 1),
  );

  const auth = await join(a, async () => {
    throw PlexusError.of('AUTH_INVALID_SESSION');
  });
  const log = journal(auth);
  const ended = next(auth, 'disconnected') as Promise<DisconnectInfo>;
  (a.conns.at(-1) as Conn).ws.terminate();
  assert.equal((await ended).error?.name, 'AUTH_INVALID_SESSION');
  assert.deepEqual(log, ['reconnecting:1:closed', 'disconnected:1006']);
});

test('a refused resume token is dropped: the user comes back with a new avatar, and is told', async () => {
  const a = await ScriptedServer.start((conn) =>
    conn.welcome({ resumeToken: 'stale' }, [entity(10, 1, 0), entity(20, 2, 0)]),
  );
  const b = await ScriptedServer.start((conn) =>
    conn.welcome({ clientId: 3, selfId: 99, serverId: 'ds-b', resumed: false }, [
      entity(20, 2, 0),
      entity(99, 3, 0),
    ]),
  );
  const tokens: (string | undefined)[] = [];
  const pg = await join(a, async (token) => {
    tokens.push(token);
    if (token !== undefined) throw new PlexusError(4120, 'The resume token is invalid', { status: 400 });
    return b.grant('fresh');
  });
  const removed: number[] = [];
  pg.on('entityRemoved', (e) => removed.push(e.id));
  const reconnected = next(pg, 'reconnected') as Promise<ReconnectedInfo>;
  (a.conns[0] as Conn).ws.terminate();
  const info = await reconnected;
  assert.deepEqual(tokens, ['stale', undefined]);
  assert.equal(info.resumed, false);
  assert.equal(info.selfChanged, true);
  assert.equal(info.previousSelfId, 10);
  assert.equal(pg.selfId, 99);
  assert.equal(pg.self?.id, 99);
  assert.deepEqual(removed, [10]);
});

test('leave() while reconnecting stops at once; reconnect: false ends the handle on a drop', async () => {
  const a = await ScriptedServer.start((conn) => conn.welcome({ resumeToken: 'rt' }, [entity(10, 1, 0)]));
  let release: (grant: EndpointGrant) => void = () => {};
  const pg = await join(a, () => new Promise<EndpointGrant>((resolve) => (release = resolve)));
  const reconnecting = next(pg, 'reconnecting');
  (a.conns[0] as Conn).ws.terminate();
  await reconnecting;
  const disconnected = next(pg, 'disconnected') as Promise<DisconnectInfo>;
  await pg.leave();
  assert.deepEqual(await disconnected, { code: 1000, reason: 'leave' });
  // The balancer answers late: nothing is opened any more.
  const before = a.conns.length;
  release(a.grant('late'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(a.conns.length, before);
  assert.equal(pg.state, 'disconnected');

  const off = await join(a, async () => a.grant('never'), { reconnect: false });
  const log = journal(off);
  const ended = next(off, 'disconnected') as Promise<DisconnectInfo>;
  (a.conns.at(-1) as Conn).ws.terminate();
  assert.equal((await ended).code, 1006);
  assert.deepEqual(log, ['disconnected:1006']);
});

test('EVENT frames reach pg.on("event") and client.on("event"); malformed envelopes are dropped', async () => {
  const inbox: PlexusEventEnvelope = {
    id: 'ev-0',
    target: { userId: 'u1' },
    type: 'inbox.note',
    payload: { stored: true },
    from: { kind: 'operator' },
    at: Date.now(),
  };
  // Like an offline inbox: an event right behind the welcome keyframe.
  const a = await ScriptedServer.start((conn) => {
    conn.welcome({ resumeToken: 'rt' }, [entity(10, 1, 0)]);
    conn.ws.send(encodeEvent(inbox));
  });
  const ok = (data: unknown) => Response.json({ data, error: { status: false, code: 0, message: '' } });
  const fetch: FetchFn = async (url) => {
    const path = new URL(url).pathname;
    if (path.endsWith('auth.guest'))
      return ok({ sessionId: 's-1', expiresAt: '2030-01-01T00:00:00Z', user: { id: 'u1' } });
    return ok(a.grant('t-client'));
  };
  const client = new PlexusClient({ balancerUrl: ['http://lb-1.test', 'http://lb-2.test'], fetch, ...fast });
  await client.loginAsGuest({ firstName: 'Ada' });
  const seen: [PlexusEventEnvelope, Playground][] = [];
  client.on('event', (event, via) => seen.push([event, via]));
  const pg = (await client.join({ playgroundId: 'hall' })) as Playground;
  handles.push(pg);
  // Listeners added right after the join still get what came with the welcome.
  assert.deepEqual(await next(pg, 'event'), inbox);
  assert.deepEqual(seen, [[inbox, pg]]);
  const onPg = next(pg, 'event') as Promise<PlexusEventEnvelope>;
  const event: PlexusEventEnvelope = {
    id: 'ev-1',
    target: { userId: 'u1' },
    type: 'friend.message',
    payload: { text: 'hi' },
    from: { kind: 'operator' },
    at: Date.now(),
  };
  const conn = a.conns.at(-1) as Conn;
  conn.ws.send(encodeEvent({ ...event, id: 7 } as unknown as PlexusEventEnvelope));
  conn.ws.send(encodeEvent(event));
  assert.deepEqual(await onPg, event);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[1]?.[0], event);
  assert.equal(seen[1]?.[1], pg);
});
