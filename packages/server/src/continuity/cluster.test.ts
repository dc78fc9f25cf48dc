import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  encodeClientMessage,
  encodeMove,
  encodeSpawn,
  type RedirectPayload,
  type ServerFrame,
  ServerOp,
} from '@plexus/protocol';
import { readCheckpoint, type Stack, startStack, waitFor } from '@plexus/testkit';
import { TestClient } from '../testing/test-client.ts';

// The dedicated server's continuity against the real backend and balancer, as processes: the
// checkpoint travels DS → balancer → backend, a killed server's playground is restored elsewhere,
// a drained one moves live, and a whisper crosses two servers.

const Q = { x: 0, y: 0, z: 0, w: 1 };

type Redirect = Extract<ServerFrame, { op: typeof ServerOp.REDIRECT }>;
type EventFrame = Extract<ServerFrame, { op: typeof ServerOp.EVENT }>;

interface Grant {
  endpoint: string;
  ticket: string;
  serverId: string;
}

async function post<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data: T | null; error: { status: boolean; message: string } };
  if (json.error.status || json.data === null) throw new Error(`${url}: ${res.status} ${json.error.message}`);
  return json.data;
}

async function guest(stack: Stack, firstName: string): Promise<{ sessionId: string; userId: string }> {
  const r = await post<{ sessionId: string; user: { id: string } }>(
    `${stack.backendUrl}/api/v0/rpc/auth.guest`,
    {
      firstName,
    },
  );
  return { sessionId: r.sessionId, userId: r.user.id };
}

function grant(stack: Stack, sessionId: string, playgroundId: string, resumeToken?: string): Promise<Grant> {
  return post<Grant>(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, {
    sessionId,
    playgroundId,
    ...(resumeToken ? { resumeToken } : {}),
  });
}

async function enter(g: Grant) {
  const c = await TestClient.connect(g.endpoint);
  return { c, ...(await c.join(g.ticket)) };
}

describe('continuity against the real backend and balancer', () => {
  let stack: Stack;
  const clients: TestClient[] = [];
  before(async () => {
    stack = await startStack({
      servers: 2,
      env: { PLEXUS_CHECKPOINT_MS: '100', PLEXUS_DS_RESUME_GRACE_MS: '15000' },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await stack?.stop();
  });

  test('a whisper reaches a user on another server; one to an offline user waits in their inbox', async () => {
    const a = await guest(stack, 'Whisperer');
    const b = await guest(stack, 'Listener');
    const offline = await guest(stack, 'Away');
    const ga = await grant(stack, a.sessionId, 'whisper-from');
    // A playground of B's on the other server (placement picks the freer one; try a few names).
    let gb = await grant(stack, b.sessionId, 'whisper-to-0');
    for (let i = 1; gb.serverId === ga.serverId && i < 10; i++)
      gb = await grant(stack, b.sessionId, `whisper-to-${i}`);
    assert.notEqual(gb.serverId, ga.serverId, 'the two users are on different servers');
    const sender = await enter(ga);
    const listener = await enter(gb);
    clients.push(sender.c, listener.c);

    sender.c.send(encodeClientMessage('whisper', { toUserId: b.userId, text: 'psst' }));
    const got = await listener.c.find<EventFrame>(
      (f) => f.op === ServerOp.EVENT && f.event.type === 'whisper',
      10_000,
    );
    assert.deepEqual(got.event.payload, { text: 'psst', fromName: 'Whisperer' });
    assert.deepEqual(got.event.target, { userId: b.userId });
    const sent = await sender.c.find((f) => f.op === ServerOp.MESSAGE && f.type === 'whisper.sent');
    assert.ok(sent.op === ServerOp.MESSAGE);
    assert.deepEqual(sent.payload, { toUserId: b.userId, delivery: 'live' });

    sender.c.send(encodeClientMessage('whisper', { toUserId: offline.userId, text: 'later' }));
    const stored = await sender.c.find(
      (f) =>
        f.op === ServerOp.MESSAGE &&
        f.type === 'whisper.sent' &&
        (f.payload as { toUserId: string }).toUserId === offline.userId,
      10_000,
    );
    assert.ok(stored.op === ServerOp.MESSAGE);
    assert.equal((stored.payload as { delivery: string }).delivery, 'stored');
    const late = await enter(await grant(stack, offline.sessionId, 'whisper-late'));
    clients.push(late.c);
    const inbox = await late.c.find<EventFrame>((f) => f.op === ServerOp.EVENT, 10_000);
    assert.deepEqual(inbox.event.payload, { text: 'later', fromName: 'Whisperer' });
    // It came right after WELCOME and the keyframe, before anything else.
    assert.deepEqual(
      late.c.frames.slice(0, 3).map((f) => f.op),
      [ServerOp.WELCOME, ServerOp.STATE, ServerOp.EVENT],
    );
    // Gone before the drain below (a raw client does not follow a REDIRECT).
    for (const c of [sender.c, listener.c, late.c]) c.close();
  });

  test('a server fenced off by a newer claim closes its clients with 4014; they resume through the balancer', async () => {
    const u = await guest(stack, 'Fenced');
    const g = await grant(stack, u.sessionId, 'fenced-hall');
    const a = await enter(g);
    clients.push(a.c);
    const to = { x: 0.75, y: 0, z: 0.75 };
    a.c.send(encodeMove(a.welcome.selfId, to, Q));
    await waitFor(
      async () =>
        (await readCheckpoint(stack.backendUrl, stack.partnerKey, 'fenced-hall'))?.state.avatars[0]?.position
          .x === to.x,
      { timeoutMs: 10_000, what: 'the checkpoint of the moved avatar' },
    );
    // Another holder claims the playground (as a server that took it over would): a higher epoch.
    await post(
      `${stack.backendUrl}/api/v0/partnerRpc/checkpoints.claim`,
      { serverId: 'ds-intruder', playgroundId: 'fenced-hall' },
      { authorization: `Bearer ${stack.partnerKey}` },
    );
    a.c.send(encodeMove(a.welcome.selfId, { x: 1, y: 0, z: 0.75 }, Q));
    const r = await a.c.refusal(5_000);
    assert.deepEqual([r.name, r.closeCode], ['PROTOCOL_PLAYGROUND_MOVED', 4014]);
    // The stale write was refused: the backend still holds the last accepted state.
    const cp = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'fenced-hall');
    assert.equal(cp?.state.avatars[0]?.position.x, to.x);
    const back = await enter(await grant(stack, u.sessionId, 'fenced-hall', a.welcome.resumeToken));
    clients.push(back.c);
    assert.equal(back.welcome.resumed, true);
    assert.equal(back.welcome.selfId, a.welcome.selfId);
    assert.deepEqual(back.keyframe.spawns.find((e) => e.id === a.welcome.selfId)?.position, to);
    back.c.close();
  });

  test('a drained server redirects its clients with tickets the new server accepts; avatars and entities kept; it exits', async () => {
    const u = await guest(stack, 'Mover');
    const g = await grant(stack, u.sessionId, 'drained-hall');
    const a = await enter(g);
    clients.push(a.c);
    a.c.send(encodeSpawn(1, 'object', { x: 3, y: 0, z: 1 }, Q, { label: 'mine' }));
    const box = (await a.c.result(1)).value;
    const to = { x: 1.25, y: 0, z: -2 };
    a.c.send(encodeMove(a.welcome.selfId, to, Q));
    await a.c.until(() => a.c.mirror().get(a.welcome.selfId)?.position.x === to.x);
    const proc = stack.server(g.serverId);
    assert.ok(proc);
    const drain = await fetch(`${stack.balancerUrl}/lb/api/v0/admin/servers/${g.serverId}/drain`, {
      method: 'POST',
      headers: { authorization: 'Bearer plexus-dev-operator-key' },
    });
    await drain.arrayBuffer();
    assert.equal(drain.status, 202);

    const redirect = await a.c.find<Redirect>((f) => f.op === ServerOp.REDIRECT, 15_000);
    const payload: RedirectPayload = redirect.redirect;
    assert.equal(payload.playgroundId, 'drained-hall');
    assert.equal(payload.reason, 'drain');
    assert.notEqual(payload.endpoint, g.endpoint);
    const moved = await enter({ endpoint: payload.endpoint, ticket: payload.ticket, serverId: '' });
    clients.push(moved.c);
    a.c.close();
    assert.equal(moved.welcome.resumed, true);
    assert.equal(moved.welcome.selfId, a.welcome.selfId);
    assert.notEqual(moved.welcome.serverId, g.serverId);
    const self = moved.keyframe.spawns.find((e) => e.id === a.welcome.selfId);
    assert.deepEqual(self?.position, to);
    const object = moved.keyframe.spawns.find((e) => e.id === box);
    assert.equal(object?.owner, moved.welcome.clientId);
    // The drained server leaves by itself once its clients are gone.
    assert.equal(await withTimeout(proc.exited, 20_000), 0);
  });

  test('kill -9 of a server: its playground is restored on another from the checkpoint, same ids, the user resumes', async () => {
    const server = await stack.addServer();
    assert.ok(server);
    const u = await guest(stack, 'Survivor');
    const g = await grant(stack, u.sessionId, 'crash-hall');
    const a = await enter(g);
    clients.push(a.c);
    a.c.send(encodeSpawn(1, 'object', { x: -2, y: 0, z: 2 }, Q, { color: '#ff0000' }));
    const box = (await a.c.result(1)).value;
    const to = { x: -1, y: 0, z: 0.5 };
    a.c.send(encodeMove(a.welcome.selfId, to, Q));
    // The checkpoint, read back from the backend, holds the object and the moved avatar.
    await waitFor(
      async () => {
        const cp = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'crash-hall');
        return (
          cp?.serverId === g.serverId &&
          cp.state.entities.some((e) => e.id === box && e.ownerUserId === u.userId) &&
          cp.state.avatars.some((av) => av.entityId === a.welcome.selfId && av.position.x === to.x)
        );
      },
      { timeoutMs: 10_000, what: 'the checkpoint with the object and the moved avatar' },
    );
    const proc = stack.server(g.serverId);
    assert.ok(proc);
    await proc.kill();
    await a.c.closedWithin(5_000);
    const token = a.welcome.resumeToken as string;
    // Until the balancer declares the server dead it may still name it; then the playground moves.
    let again: Grant | null = null;
    await waitFor(
      async () => {
        again = await grant(stack, u.sessionId, 'crash-hall', token).catch(() => null);
        return again !== null && again.serverId !== g.serverId;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a new home for the playground' },
    );
    const back = await enter(again as unknown as Grant); // set by the wait above
    clients.push(back.c);
    assert.equal(back.welcome.resumed, true);
    assert.equal(back.welcome.selfId, a.welcome.selfId);
    assert.deepEqual(back.keyframe.spawns.find((e) => e.id === a.welcome.selfId)?.position, to);
    const object = back.keyframe.spawns.find((e) => e.id === box);
    assert.equal(object?.props.color, '#ff0000');
    assert.equal(object?.owner, back.welcome.clientId, 'the object is the user’s again');
  });
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
