import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CloseCodes,
  encodeClientMessage,
  encodeLeave,
  encodeMove,
  encodeSpawn,
  type PlexusEventEnvelope,
  type RpcMessage,
  type ServerFrame,
  ServerOp,
  type ServerToBalancer,
} from '@plexus/protocol';
import { type Stack, startStack, waitUntil } from '../testing/stack.ts';
import type { TestClient } from '../testing/test-client.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };
const AUD = 'ds-test';

type EventFrame = Extract<ServerFrame, { op: typeof ServerOp.EVENT }>;

const rpcs = (stack: Stack, method: string): RpcMessage[] =>
  stack.balancers.flatMap((b) =>
    b.received.filter((m): m is RpcMessage => m.type === 'rpc' && m.method === method),
  );

async function join(stack: Stack, pg: string, sub: string, rt?: string) {
  const c = await stack.connect();
  const res = await c.join(await stack.balancer.ticket({ aud: AUD, pg, sub, ...(rt ? { rt } : {}) }));
  return { c, ...res };
}

/** Waits for `n` more load reports: a window of known length that is driven by the server itself. */
async function loadReports(stack: Stack, n: number): Promise<void> {
  const count = () => stack.balancer.received.filter((m) => m.type === 'load').length;
  const target = count() + n;
  await waitUntil(() => count() >= target, 10_000);
}

function event(id: string, target: PlexusEventEnvelope['target'], type = 'note'): PlexusEventEnvelope {
  return { id, target, type, payload: { id }, from: { kind: 'operator' }, at: Date.now() };
}

describe('checkpoints', () => {
  test('a changed playground is checkpointed under its claimed epoch with rising versions; an idle one is not', async () => {
    const stack = await startStack({ checkpointMs: 50, loadIntervalMs: 100 });
    try {
      const a = await join(stack, 'cp', 'user-cp');
      const to = { x: 1, y: 0, z: 1 };
      a.c.send(encodeMove(a.welcome.selfId, to, Q));
      await waitUntil(() => {
        const avatar = stack.balancer.checkpoints.get('cp')?.state.avatars[0];
        return avatar?.position.x === 1 && avatar.entityId === a.welcome.selfId;
      });
      const saved = stack.balancer.checkpoints.get('cp');
      assert.ok(saved);
      assert.equal(saved.epoch, 1, 'written under the epoch its claim returned');
      assert.equal(saved.state.type, 'open-world');
      assert.equal(saved.state.avatars[0]?.userId, 'user-cp');
      assert.ok(saved.state.nextEntityId > a.welcome.selfId);
      const claims = rpcs(stack, 'checkpoints.claim');
      assert.deepEqual(
        claims.map((m) => m.params.playgroundId),
        ['cp'],
      );
      const versions = rpcs(stack, 'checkpoints.write').map((m) => m.params.version as number);
      assert.deepEqual(
        versions,
        [...versions].sort((x, y) => x - y),
      );
      // Quiet now: about twenty checkpoint intervals pass without a write.
      const writes = rpcs(stack, 'checkpoints.write').length;
      await loadReports(stack, 10);
      assert.equal(rpcs(stack, 'checkpoints.write').length, writes, 'an idle playground is not written');
    } finally {
      await stack.close();
    }
  });

  test('a stale write (another server claimed the playground) closes its clients with 4014', async () => {
    const stack = await startStack({ checkpointMs: 50 });
    try {
      const a = await join(stack, 'stolen', 'user-a');
      stack.balancer.steal('stolen');
      a.c.send(encodeMove(a.welcome.selfId, { x: 1, y: 0, z: 0 }, Q));
      const r = await a.c.refusal(5_000);
      assert.deepEqual(
        { name: r.name, closeCode: r.closeCode },
        { name: 'PROTOCOL_PLAYGROUND_MOVED', closeCode: CloseCodes.PLAYGROUND_MOVED },
      );
      // The playground is gone from this server: its next join claims it again.
      const again = await join(stack, 'stolen', 'user-b');
      assert.ok(again.welcome.selfId > 0);
      assert.equal(rpcs(stack, 'checkpoints.claim').length, 2);
    } finally {
      await stack.close();
    }
  });

  test('a release message closes the playground’s clients with 4014 at once', async () => {
    const stack = await startStack();
    try {
      const a = await join(stack, 'released', 'user-a');
      const other = await join(stack, 'kept-here', 'user-b');
      stack.balancer.broadcast({ type: 'release', playgroundId: 'released' });
      const r = await a.c.refusal();
      assert.equal(r.closeCode, CloseCodes.PLAYGROUND_MOVED);
      other.c.send(encodeMove(other.welcome.selfId, { x: 0.5, y: 0, z: 0 }, Q));
      await other.c.nextState((s) => s.updates.some((u) => u.id === other.welcome.selfId));
    } finally {
      await stack.close();
    }
  });

  test('no answer to the claim within 2 s: the join is refused NOT_READY (4012) and may be retried', async () => {
    const stack = await startStack();
    try {
      stack.balancer.answerRpc = false;
      const ticket = await stack.balancer.ticket({ aud: AUD, pg: 'unclaimed' });
      const c = await stack.connect();
      const started = Date.now();
      c.hello(ticket);
      const r = await c.refusal(5_000);
      assert.equal(r.name, 'PROTOCOL_NOT_READY');
      assert.equal(r.closeCode, CloseCodes.NOT_READY);
      assert.ok(Date.now() - started >= 1_900, 'the claim had its ~2 s');
      stack.balancer.answerRpc = true;
      const again = await stack.connect();
      const { welcome } = await again.join(ticket);
      assert.equal(welcome.playgroundId, 'unclaimed');
    } finally {
      await stack.close();
    }
  });
});

describe('resume', () => {
  test('a dropped user resumes within the grace: same avatar, its position, its entities; others never saw it leave', async () => {
    const stack = await startStack({ resumeGraceMs: 10_000 });
    try {
      const a = await join(stack, 'resume', 'user-a');
      const watcher = await join(stack, 'resume', 'user-w');
      assert.equal(a.welcome.resumed, false);
      assert.ok(a.welcome.resumeToken);
      a.c.send(encodeSpawn(1, 'object', { x: 2, y: 0, z: 2 }, Q, { color: 'red' }));
      const box = (await a.c.result(1)).value;
      const to = { x: 1.5, y: 0, z: -1 };
      a.c.send(encodeMove(a.welcome.selfId, to, Q));
      await watcher.c.until(() => watcher.c.mirror().get(a.welcome.selfId)?.position.x === 1.5);
      a.c.close(); // a dropped connection, not LEAVE

      const back = await join(stack, 'resume', 'user-a', a.welcome.resumeToken);
      assert.equal(back.welcome.resumed, true);
      assert.equal(back.welcome.selfId, a.welcome.selfId);
      assert.notEqual(back.welcome.clientId, a.welcome.clientId);
      assert.notEqual(back.welcome.resumeToken, a.welcome.resumeToken);
      const self = back.keyframe.spawns.find((e) => e.id === a.welcome.selfId);
      assert.deepEqual(self?.position, to);
      assert.equal(self?.owner, back.welcome.clientId);
      assert.equal(back.keyframe.spawns.find((e) => e.id === box)?.owner, back.welcome.clientId);
      // The watcher's mirror: the avatar never went, and its authority moved to the new client id.
      await watcher.c.until(() => watcher.c.mirror().get(box)?.owner === back.welcome.clientId);
      assert.ok(
        !watcher.c.frames.some((f) => f.op === ServerOp.STATE && f.removes.includes(a.welcome.selfId)),
      );
      // The resumed client moves its avatar as before.
      back.c.send(encodeMove(back.welcome.selfId, { x: 2, y: 0, z: -1 }, Q));
      await watcher.c.until(() => watcher.c.mirror().get(a.welcome.selfId)?.position.x === 2);
    } finally {
      await stack.close();
    }
  });

  test('LEAVE ends the presence at once: a later resume token gets a fresh avatar', async () => {
    const stack = await startStack({ resumeGraceMs: 10_000 });
    try {
      const a = await join(stack, 'left', 'user-a');
      const watcher = await join(stack, 'left', 'user-w');
      a.c.send(encodeLeave());
      await watcher.c.nextState((s) => s.removes.includes(a.welcome.selfId));
      const back = await join(stack, 'left', 'user-a', a.welcome.resumeToken);
      assert.equal(back.welcome.resumed, false);
      assert.notEqual(back.welcome.selfId, a.welcome.selfId);
    } finally {
      await stack.close();
    }
  });

  test("a resume token of another user or playground is a fresh join; the dropped user's avatar goes when the grace ends", async () => {
    const stack = await startStack({ resumeGraceMs: 400 });
    try {
      const a = await join(stack, 'rt-check', 'user-a');
      const watcher = await join(stack, 'rt-check', 'user-w');
      a.c.close();
      const thief = await join(stack, 'rt-check', 'user-x', a.welcome.resumeToken);
      assert.equal(thief.welcome.resumed, false);
      assert.notEqual(thief.welcome.selfId, a.welcome.selfId);
      const elsewhere = await join(stack, 'rt-other', 'user-a', a.welcome.resumeToken);
      assert.equal(elsewhere.welcome.resumed, false);
      await watcher.c.nextState((s) => s.removes.includes(a.welcome.selfId), 3_000);
    } finally {
      await stack.close();
    }
  });

  test('a resume while the old connection still looks alive takes it over (the old one gets DUPLICATE_LOGIN)', async () => {
    const stack = await startStack({ resumeGraceMs: 10_000 });
    try {
      const a = await join(stack, 'takeover', 'user-a');
      const back = await join(stack, 'takeover', 'user-a', a.welcome.resumeToken);
      assert.equal(back.welcome.resumed, true);
      assert.equal(back.welcome.selfId, a.welcome.selfId);
      const r = await a.c.refusal();
      assert.equal(r.name, 'PROTOCOL_DUPLICATE_LOGIN');
    } finally {
      await stack.close();
    }
  });

  test('a checkpoint restored on a fresh server: entities under their ids, absent users resume their avatars', async () => {
    // The first server writes the checkpoint; a second one (same balancer state) claims and restores it.
    const first = await startStack({ checkpointMs: 50, resumeGraceMs: 10_000 });
    let saved: ReturnType<typeof first.balancer.checkpoints.get>;
    let selfId = 0;
    let token = '';
    let box = 0;
    try {
      const a = await join(first, 'restored', 'user-a');
      selfId = a.welcome.selfId;
      token = a.welcome.resumeToken ?? '';
      a.c.send(encodeSpawn(1, 'object', { x: 3, y: 0, z: 0 }, Q, { label: 'kept' }));
      box = (await a.c.result(1)).value;
      await waitUntil(() => (first.balancer.checkpoints.get('restored')?.state.entities.length ?? 0) === 1);
      saved = first.balancer.checkpoints.get('restored');
    } finally {
      await first.close();
    }
    const second = await startStack({ resumeGraceMs: 10_000 });
    try {
      assert.ok(saved);
      second.balancer.checkpoints.set('restored', saved);
      const back = await join(second, 'restored', 'user-a', token);
      assert.equal(back.welcome.resumed, true);
      assert.equal(back.welcome.selfId, selfId);
      const object = back.keyframe.spawns.find((e) => e.id === box);
      assert.equal(object?.props.label, 'kept');
      assert.equal(object?.owner, back.welcome.clientId, 'ownership by user id came back');
      // New entities never reuse a restored id.
      back.c.send(encodeSpawn(2, 'object', { x: 1, y: 0, z: 0 }, Q, {}));
      assert.ok((await back.c.result(2)).value > Math.max(selfId, box));
    } finally {
      await second.close();
    }
  });
});

describe('player data and analytics', () => {
  test("a fresh join spawns at the record's position and gets its inbox right after WELCOME", async () => {
    const stack = await startStack();
    try {
      stack.balancer.playerRecords.set('user-r returning', {
        record: {
          userId: 'user-r',
          playgroundId: 'returning',
          position: { x: 7, y: 0, z: -3 },
          rotation: { x: 0, y: 1, z: 0, w: 0 },
          data: { score: 3 },
          updatedAt: 0,
        },
        inbox: [event('inbox-1', { userId: 'user-r' }, 'friend.request')],
      });
      const c = await stack.connect();
      c.hello(await stack.balancer.ticket({ aud: AUD, pg: 'returning', sub: 'user-r' }));
      const welcome = await c.next((f) => f.op === ServerOp.WELCOME);
      assert.ok(welcome.op === ServerOp.WELCOME);
      const self = (await c.nextState()).spawns.find((e) => e.id === welcome.welcome.selfId);
      assert.deepEqual(self?.position, { x: 7, y: 0, z: -3 });
      assert.deepEqual(self?.rotation, { x: 0, y: 1, z: 0, w: 0 });
      const ev = await c.next<EventFrame>((f) => f.op === ServerOp.EVENT);
      assert.equal(ev.event.id, 'inbox-1');
      assert.equal(ev.event.type, 'friend.request');
    } finally {
      await stack.close();
    }
  });

  test('a record sent beside the ticket places the avatar without waiting for players.join; the inbox still follows', async () => {
    const stack = await startStack();
    try {
      // players.join would place the avatar elsewhere: the record the balancer sent is the one used.
      stack.balancer.playerRecords.set('user-q sent', {
        record: null,
        inbox: [event('inbox-q', { userId: 'user-q' }, 'friend.request')],
      });
      const record = {
        userId: 'user-q',
        playgroundId: 'sent',
        position: { x: 5, y: 0, z: -2 },
        rotation: null,
        data: {},
        updatedAt: 0,
      };
      const jti = 'jti-sent-0000000000000001';
      // Control messages are handled in order: once the event that follows reached a client, the
      // record is in.
      const watcher = await join(stack, 'elsewhere', 'user-w');
      stack.balancer.broadcast({ type: 'playerRecord', jti, userId: 'user-q', playgroundId: 'sent', record });
      stack.balancer.broadcast({ type: 'event', event: event('sync', { all: true }) });
      await watcher.c.next<EventFrame>((f) => f.op === ServerOp.EVENT);

      const c = await stack.connect();
      c.hello(await stack.balancer.ticket({ aud: AUD, pg: 'sent', sub: 'user-q', jti }));
      const welcome = await c.next((f) => f.op === ServerOp.WELCOME);
      assert.ok(welcome.op === ServerOp.WELCOME);
      const self = (await c.nextState()).spawns.find((e) => e.id === welcome.welcome.selfId);
      assert.deepEqual(self?.position, { x: 5, y: 0, z: -2 });
      const ev = await c.next<EventFrame>((f) => f.op === ServerOp.EVENT);
      assert.equal(ev.event.id, 'inbox-q');
      // players.join still ran: it records the presence.
      assert.ok(rpcs(stack, 'players.join').some((m) => m.params.userId === 'user-q'));
    } finally {
      await stack.close();
    }
  });

  test('moves are saved with players.save; LEAVE sends players.leave with the session; analytics carry join, leave, refused', async () => {
    const stack = await startStack();
    try {
      const a = await join(stack, 'saved', 'user-s');
      a.c.send(encodeMove(a.welcome.selfId, { x: 2, y: 0, z: 2 }, Q));
      await waitUntil(
        () =>
          rpcs(stack, 'players.save').some((m) =>
            (m.params.players as { userId: string; position?: { x: number } }[]).some(
              (p) => p.userId === 'user-s' && p.position?.x === 2,
            ),
          ),
        8_000,
      );
      a.c.send(encodeLeave());
      const leave = await stack.balancer.waitFor((m) => m.type === 'rpc' && m.method === 'players.leave');
      assert.ok(leave.type === 'rpc');
      assert.equal(leave.params.userId, 'user-s');
      assert.equal(leave.params.playgroundId, 'saved');
      assert.ok(typeof leave.params.sessionMs === 'number' && leave.params.sessionMs >= 0);
      assert.deepEqual(leave.params.position, { x: 2, y: 0, z: 2 });

      const refused = await stack.connect();
      refused.hello(await stack.balancer.ticket({ aud: 'ds-elsewhere' }));
      await refused.refusal();
      const types = () =>
        rpcs(stack, 'analytics.record').flatMap((m) =>
          (m.params.events as { type: string; userId?: string; data?: Record<string, unknown> }[]).map(
            (e) => `${e.type}:${e.userId ?? ''}:${e.type === 'refused' ? e.data?.reason : ''}`,
          ),
        );
      await waitUntil(() => types().includes('refused::PROTOCOL_TICKET_WRONG_TARGET'), 5_000);
      assert.ok(types().includes('join:user-s:'));
      assert.ok(types().includes('leave:user-s:'));
    } finally {
      await stack.close();
    }
  });

  test('a LEAVE right behind a MOVE (same tick) saves the position of that move', async () => {
    const stack = await startStack();
    try {
      const a = await join(stack, 'last-move', 'user-lm');
      // Back to back: the move is still queued for the tick when the LEAVE arrives.
      a.c.send(encodeMove(a.welcome.selfId, { x: 3, y: 0, z: -1 }, Q));
      a.c.send(encodeLeave());
      const leave = await stack.balancer.waitFor((m) => m.type === 'rpc' && m.method === 'players.leave');
      assert.ok(leave.type === 'rpc');
      assert.deepEqual(leave.params.position, { x: 3, y: 0, z: -1 });
    } finally {
      await stack.close();
    }
  });
});

describe('playground logic: player data', () => {
  test('getPlayerData starts from the record; setPlayerData is bounded and goes out with players.leave', async () => {
    const stack = await startStack({
      playgroundTypes: [fileURLToPath(new URL('../testing/player-data-type.ts', import.meta.url))],
      playgroundTypeMap: 'scores=player-data',
    });
    try {
      stack.balancer.playerRecords.set('user-p scores', {
        record: {
          userId: 'user-p',
          playgroundId: 'scores',
          position: null,
          rotation: null,
          data: { score: 2 },
          updatedAt: 0,
        },
        inbox: [],
      });
      const a = await join(stack, 'scores', 'user-p');
      a.c.send(encodeClientMessage('score.add', null));
      const score = await a.c.find((f) => f.op === ServerOp.MESSAGE && f.type === 'score');
      assert.ok(score.op === ServerOp.MESSAGE);
      assert.deepEqual(score.payload, { score: 3 });
      a.c.send(encodeClientMessage('score.huge', null));
      const err = await a.c.find((f) => f.op === ServerOp.ERROR);
      assert.ok(err.op === ServerOp.ERROR);
      assert.equal(err.name, 'PROTOCOL_LOGIC_ERROR');
      a.c.send(encodeLeave());
      const leave = await stack.balancer.waitFor((m) => m.type === 'rpc' && m.method === 'players.leave');
      assert.ok(leave.type === 'rpc');
      assert.deepEqual(leave.params.data, { score: 3 });
      // The failed hook is counted in analytics as an error of onMessage.
      await waitUntil(() =>
        rpcs(stack, 'analytics.record').some((m) =>
          (m.params.events as { type: string; data?: { hook?: string } }[]).some(
            (e) => e.type === 'error' && e.data?.hook === 'onMessage',
          ),
        ),
      );
    } finally {
      await stack.close();
    }
  });
});

describe('events', () => {
  test('an event reaches each targeted client exactly once, though it comes from two balancers', async () => {
    const stack = await startStack({}, { balancers: 2 });
    try {
      await Promise.all(
        stack.balancers.map((b) => b.waitFor((m: ServerToBalancer) => m.type === 'load', 5_000)),
      );
      const u = await join(stack, 'events-a', 'user-u');
      const same = await join(stack, 'events-a', 'user-v');
      const other = await join(stack, 'events-b', 'user-w');
      const send = (e: PlexusEventEnvelope) => {
        for (const b of stack.balancers) b.broadcast({ type: 'event', event: e });
      };
      send(event('e-user', { userId: 'user-u' }));
      send(event('e-pg', { playgroundId: 'events-a' }));
      send(event('e-all', { all: true }));
      const ids = (c: TestClient) =>
        c.frames.filter((f): f is EventFrame => f.op === ServerOp.EVENT).map((f) => f.event.id);
      // e-all comes last to everyone: once it is in, every earlier delivery is too.
      await Promise.all(
        [u, same, other].map(({ c }) => c.find((f) => f.op === ServerOp.EVENT && f.event.id === 'e-all')),
      );
      send(event('e-barrier', { all: true }));
      await Promise.all(
        [u, same, other].map(({ c }) => c.find((f) => f.op === ServerOp.EVENT && f.event.id === 'e-barrier')),
      );
      assert.deepEqual(ids(u.c), ['e-user', 'e-pg', 'e-all', 'e-barrier']);
      assert.deepEqual(ids(same.c), ['e-pg', 'e-all', 'e-barrier']);
      assert.deepEqual(ids(other.c), ['e-all', 'e-barrier']);
    } finally {
      await stack.close();
    }
  });

  test('tickets signed by either balancer are accepted; both get load reports and the register', async () => {
    const stack = await startStack({}, { balancers: 2 });
    try {
      for (const b of stack.balancers) {
        await b.waitFor((m) => m.type === 'load');
        const c = await stack.connect();
        const { welcome } = await c.join(await b.ticket({ aud: AUD, pg: 'two-keys' }));
        assert.ok(welcome.selfId > 0);
      }
    } finally {
      await stack.close();
    }
  });

  test('a whisper MESSAGE is published as an event to that user; a malformed one fails back to the sender', async () => {
    const stack = await startStack();
    try {
      const a = await join(stack, 'whispers', 'user-a');
      a.c.send(encodeClientMessage('whisper', { toUserId: 'user-far', text: 'hello there' }));
      const publish = await stack.balancer.waitFor((m) => m.type === 'rpc' && m.method === 'events.publish');
      assert.ok(publish.type === 'rpc');
      assert.deepEqual(publish.params, {
        target: { userId: 'user-far' },
        type: 'whisper',
        payload: { text: 'hello there', fromName: 'Ada Lovelace' },
        fromUserId: 'user-a',
      });
      const sent = await a.c.find((f) => f.op === ServerOp.MESSAGE && f.type === 'whisper.sent');
      assert.ok(sent.op === ServerOp.MESSAGE);
      assert.deepEqual(sent.payload, { toUserId: 'user-far', delivery: 'live' });
      a.c.send(encodeClientMessage('whisper', { toUserId: '', text: 'x' }));
      const failed = await a.c.find((f) => f.op === ServerOp.MESSAGE && f.type === 'whisper.failed');
      assert.ok(failed.op === ServerOp.MESSAGE);
      assert.equal(rpcs(stack, 'events.publish').length, 1);
    } finally {
      await stack.close();
    }
  });
});
