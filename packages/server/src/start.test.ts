import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClientOp,
  CloseCodes,
  ErrorCodes,
  encodeHello,
  encodeLeave,
  encodeMove,
  encodePing,
  PROTOCOL_VERSION,
  ServerOp,
  type StateFrame,
} from '@plexus/protocol';
import { type Stack, startStack } from './testing/stack.ts';
import type { TestClient } from './testing/test-client.ts';

const ID = { x: 0, y: 0, z: 0, w: 1 };

async function expectRefusal(
  client: TestClient,
  name: keyof typeof ErrorCodes,
  closeCode: number,
): Promise<void> {
  const r = await client.refusal();
  assert.equal(r.name, name);
  assert.equal(r.code, ErrorCodes[name].code);
  assert.equal(r.closeCode, closeCode);
}

function spawnOf(state: StateFrame, owner: number) {
  return state.spawns.find((e) => e.owner === owner);
}

describe('dedicated server over real sockets', () => {
  let stack: Stack;
  const aud = 'ds-test';
  before(async () => {
    stack = await startStack({ resumeGraceMs: 300 });
  });
  after(() => stack.close());

  /** A client admitted in `pg` (another served client, used after every refusal). */
  async function joined(pg = 'expo-hall', prof = {}) {
    const c = await stack.connect();
    const res = await c.join(await stack.balancer.ticket({ aud, pg, prof }));
    return { c, ...res };
  }

  async function stillServing(): Promise<void> {
    const { c, welcome } = await joined('after-refusal');
    assert.ok(welcome.selfId > 0);
    c.close();
  }

  test('the listening line carries the HTTP URL; /readyz is 200 once registered', async () => {
    const line = stack.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
    assert.equal(line.url, stack.server.url);
    const res = await fetch(`${stack.server.url}/readyz`);
    assert.equal(res.status, 200);
  });

  test('a valid ticket gets WELCOME then a keyframe containing its own avatar', async () => {
    const { c, welcome, keyframe } = await joined('welcome-pg');
    assert.equal(welcome.protocolVersion, PROTOCOL_VERSION);
    assert.equal(welcome.playgroundId, 'welcome-pg');
    assert.equal(welcome.serverId, aud);
    assert.equal(welcome.tickRateHz, 20);
    assert.ok(Math.abs(welcome.serverTimeMs - Date.now()) < 5_000);
    assert.equal(keyframe.keyframe, true);
    const self = keyframe.spawns.find((e) => e.id === welcome.selfId);
    assert.ok(self, 'own avatar in the keyframe');
    assert.equal(self.owner, welcome.clientId);
    assert.equal(self.kind, 'avatar');
    assert.equal(self.position.y, 0);
    assert.ok(Math.hypot(self.position.x, self.position.z) <= 4);
    assert.deepEqual(self.rotation, ID);
    assert.equal(self.props.displayName, 'Ada Lovelace');
    assert.equal(self.props.companyName, 'Analytical Engines');
    c.close();
  });

  test('two clients see each other spawn, move and leave', async () => {
    const a = await joined('pair');
    const b = await joined('pair');
    assert.ok(spawnOf(b.keyframe, a.welcome.clientId), 'B sees A in its keyframe');
    const spawnSeenByA = await a.c.nextState((s) => Boolean(spawnOf(s, b.welcome.clientId)));
    assert.equal(spawnSeenByA.keyframe, false);

    const target = { x: 1.5, y: 0, z: -0.5 };
    a.c.send(encodeMove(a.welcome.selfId, target, { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 }));
    const update = await b.c.nextState((s) => s.updates.some((u) => u.id === a.welcome.selfId));
    const u = update.updates.find((x) => x.id === a.welcome.selfId);
    assert.deepEqual(u?.position, target);
    assert.ok(
      u?.rotation && Math.abs(Math.hypot(u.rotation.x, u.rotation.y, u.rotation.z, u.rotation.w) - 1) < 1e-6,
    );

    a.c.send(encodeLeave());
    assert.equal((await a.c.closedWithin()).code, CloseCodes.NORMAL);
    const removal = await b.c.nextState((s) => s.removes.includes(a.welcome.selfId));
    assert.deepEqual(removal.removes, [a.welcome.selfId]);
    b.c.close();
  });

  test('a disconnect without LEAVE removes the avatar for the others once the resume grace ends', async () => {
    const a = await joined('drop');
    const b = await joined('drop');
    const droppedAt = Date.now();
    a.c.close();
    await b.c.nextState((s) => s.removes.includes(a.welcome.selfId));
    assert.ok(Date.now() - droppedAt >= 250, 'the avatar waited for a resume');
    b.c.close();
  });

  test('an incognito user is seen by others only under an anonymous name', async () => {
    const watcher = await joined('incognito');
    const secretProfile = {
      privacyMode: 1,
      firstName: 'Hidden',
      lastName: 'Person',
      companyName: 'SecretCorp',
      companyTitle: 'Spy',
      avatar: 'https://example.test/hidden.png',
      avatar3D: {
        assetId: 'a',
        assetSkins: {},
        avatarUrl: 'https://example.test/h.glb',
        avatarUserId: 'uid-hidden',
      },
    };
    const ticket = await stack.balancer.ticket({
      aud,
      pg: 'incognito',
      sub: 'user-hidden-99',
      prof: secretProfile,
    });
    const ghost = await stack.connect();
    const { welcome } = await ghost.join(ticket);
    const seen = await watcher.c.nextState((s) => Boolean(spawnOf(s, welcome.clientId)));
    const props = spawnOf(seen, welcome.clientId)?.props;
    assert.ok(props);
    assert.deepEqual(Object.keys(props).sort(), ['anonymous', 'displayName']);
    assert.match(String(props.displayName), /^Anonymous [0-9a-f]{4}$/);
    const wire = Buffer.concat(watcher.c.rawBytes).toString('latin1');
    for (const leak of [
      'Hidden',
      'Person',
      'SecretCorp',
      'Spy',
      'hidden.png',
      'h.glb',
      'uid-hidden',
      'user-hidden-99',
    ]) {
      assert.equal(wire.includes(leak), false, `${leak} reached another client`);
    }
    ghost.close();
    watcher.c.close();
  });

  test('PING is answered with PONG carrying both clocks', async () => {
    const { c } = await joined();
    c.send(encodePing(1234.5));
    const pong = await c.next((f) => f.op === ServerOp.PONG);
    assert.ok(pong.op === ServerOp.PONG);
    assert.equal(pong.clientTimeMs, 1234.5);
    assert.ok(Math.abs(pong.serverTimeMs - Date.now()) < 5_000);
    c.close();
  });

  test('moving an entity one does not own is a non-fatal NOT_OWNER error', async () => {
    const a = await joined('owner');
    const b = await joined('owner');
    b.c.send(encodeMove(a.welcome.selfId, { x: 1, y: 0, z: 1 }, ID));
    const err = await b.c.next((f) => f.op === ServerOp.ERROR);
    assert.ok(err.op === ServerOp.ERROR);
    assert.equal(err.name, 'PROTOCOL_NOT_OWNER');
    assert.equal(err.code, ErrorCodes.PROTOCOL_NOT_OWNER.code);
    b.c.send(encodePing(1));
    await b.c.next((f) => f.op === ServerOp.PONG);
    a.c.close();
    b.c.close();
  });

  test('an out-of-bounds or too-fast move is a non-fatal INVALID_TRANSFORM error and is ignored', async () => {
    const a = await joined('bounds');
    const b = await joined('bounds');
    a.c.send(encodeMove(a.welcome.selfId, { x: 0, y: -5000, z: 0 }, ID));
    a.c.send(encodeMove(a.welcome.selfId, { x: 500, y: 0, z: 0 }, ID));
    a.c.send(encodeMove(a.welcome.selfId, { x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0, w: 3 }));
    for (let i = 0; i < 3; i++) {
      const err = await a.c.next((f) => f.op === ServerOp.ERROR);
      assert.ok(err.op === ServerOp.ERROR);
      assert.equal(err.name, 'PROTOCOL_INVALID_TRANSFORM');
    }
    a.c.send(encodePing(2));
    await a.c.next((f) => f.op === ServerOp.PONG);
    // A valid move afterwards still goes through, and B never saw the refused ones.
    a.c.send(encodeMove(a.welcome.selfId, { x: 0.5, y: 0, z: 0.5 }, ID));
    const s = await b.c.nextState((st) => st.updates.some((u) => u.id === a.welcome.selfId));
    assert.deepEqual(s.updates.find((u) => u.id === a.welcome.selfId)?.position, { x: 0.5, y: 0, z: 0.5 });
    a.c.close();
    b.c.close();
  });

  test('wrong protocol version → UNSUPPORTED_VERSION, 4001', async () => {
    const c = await stack.connect();
    c.hello(await stack.balancer.ticket({ aud }), 99);
    await expectRefusal(c, 'PROTOCOL_UNSUPPORTED_VERSION', 4001);
    await stillServing();
  });

  test('expired ticket → TICKET_INVALID, 4003', async () => {
    const c = await stack.connect();
    c.hello(await stack.balancer.ticket({ aud, expiresInS: -30 }));
    await expectRefusal(c, 'PROTOCOL_TICKET_INVALID', 4003);
    await stillServing();
  });

  test('ticket signed by another key → TICKET_INVALID, 4003 (even when aud is also wrong)', async () => {
    const c = await stack.connect();
    c.hello(await stack.balancer.ticket({ aud, foreignKey: true }));
    await expectRefusal(c, 'PROTOCOL_TICKET_INVALID', 4003);
    const d = await stack.connect();
    d.hello(await stack.balancer.ticket({ aud: 'ds-other', foreignKey: true }));
    await expectRefusal(d, 'PROTOCOL_TICKET_INVALID', 4003);
    await stillServing();
  });

  test('a ticket that is not a JWS → TICKET_INVALID, 4003', async () => {
    const c = await stack.connect();
    c.hello('not.a.ticket');
    await expectRefusal(c, 'PROTOCOL_TICKET_INVALID', 4003);
  });

  test('ticket for another server → TICKET_WRONG_TARGET, 4005', async () => {
    const c = await stack.connect();
    c.hello(await stack.balancer.ticket({ aud: 'ds-other' }));
    await expectRefusal(c, 'PROTOCOL_TICKET_WRONG_TARGET', 4005);
    await stillServing();
  });

  test('replayed ticket → TICKET_REPLAYED, 4004', async () => {
    const ticket = await stack.balancer.ticket({ aud, pg: 'replay' });
    const first = await stack.connect();
    await first.join(ticket);
    const second = await stack.connect();
    second.hello(ticket);
    await expectRefusal(second, 'PROTOCOL_TICKET_REPLAYED', 4004);
    first.close();
    // Still refused once the first holder is gone: a ticket is good for one admission.
    const third = await stack.connect();
    third.hello(ticket);
    await expectRefusal(third, 'PROTOCOL_TICKET_REPLAYED', 4004);
    await stillServing();
  });

  test('garbage bytes → MALFORMED_FRAME, 4000', async () => {
    const c = await stack.connect();
    c.send(Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    await expectRefusal(c, 'PROTOCOL_MALFORMED_FRAME', 4000);
    await stillServing();
  });

  test('a text frame → MALFORMED_FRAME, 4000', async () => {
    const c = await stack.connect();
    c.send('{"hello": true}');
    await expectRefusal(c, 'PROTOCOL_MALFORMED_FRAME', 4000);
    await stillServing();
  });

  test('an unknown opcode → MALFORMED_FRAME, 4000 (also after the handshake)', async () => {
    const c = await stack.connect();
    c.send(Uint8Array.of(0x7e));
    await expectRefusal(c, 'PROTOCOL_MALFORMED_FRAME', 4000);
    const { c: d } = await joined();
    d.send(Uint8Array.of(0x42, 0x00));
    await expectRefusal(d, 'PROTOCOL_MALFORMED_FRAME', 4000);
    await stillServing();
  });

  test('a frame before HELLO → UNEXPECTED_FRAME, 4000', async () => {
    const c = await stack.connect();
    c.send(encodePing(1));
    await expectRefusal(c, 'PROTOCOL_UNEXPECTED_FRAME', 4000);
    await stillServing();
  });

  test('a second HELLO → UNEXPECTED_FRAME, 4000, and the avatar is removed for the others', async () => {
    const watcher = await joined('second-hello');
    const { c, welcome } = await joined('second-hello');
    // Welcomed between ticks: the watcher sees the avatar at the next tick (docs/protocol.md §5.1).
    await watcher.c.until(() => watcher.c.mirror().has(welcome.selfId), 3_000, 'the avatar');
    c.send(encodeHello(1, await stack.balancer.ticket({ aud })));
    await expectRefusal(c, 'PROTOCOL_UNEXPECTED_FRAME', 4000);
    await watcher.c.nextState((s) => s.removes.includes(welcome.selfId));
    watcher.c.close();
  });

  test('an oversized frame is closed by ws with 1009', async () => {
    const c = await stack.connect();
    const big = new Uint8Array(64 * 1024 + 1);
    big[0] = ClientOp.HELLO;
    c.send(big);
    assert.equal((await c.closedWithin()).code, CloseCodes.MESSAGE_TOO_BIG);
    await stillServing();
  });

  test('the same user joining again closes the old connection with DUPLICATE_LOGIN, 4008', async () => {
    const watcher = await joined('dup');
    const first = await stack.connect();
    const a = await first.join(await stack.balancer.ticket({ aud, pg: 'dup', sub: 'user-dup' }));
    await watcher.c.until(() => watcher.c.mirror().has(a.welcome.selfId), 3_000, 'the first avatar');
    const second = await stack.connect();
    const b = await second.join(await stack.balancer.ticket({ aud, pg: 'dup', sub: 'user-dup' }));
    await expectRefusal(first, 'PROTOCOL_DUPLICATE_LOGIN', 4008);
    assert.notEqual(a.welcome.selfId, b.welcome.selfId);
    await watcher.c.nextState((s) => s.removes.includes(a.welcome.selfId));
    second.close();
    watcher.c.close();
  });

  test('tickets never reach the logs', async () => {
    const ticket = await stack.balancer.ticket({ aud, pg: 'logs' });
    const c = await stack.connect();
    await c.join(ticket);
    c.close();
    const signature = ticket.split('.')[2] as string;
    assert.equal(
      stack.logs.some((l) => l.includes(signature)),
      false,
    );
    assert.ok(stack.logs.some((l) => JSON.parse(l).msg === 'client joined'));
  });

  test('the control channel carries register, ticketRedeemed and load reports', async () => {
    const reg = await stack.balancer.waitFor((m) => m.type === 'register');
    assert.ok(reg.type === 'register');
    assert.equal(reg.serverId, aud);
    assert.equal(reg.endpoint, stack.server.endpoint);
    assert.match(reg.endpoint, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.equal(reg.capacity, 200);
    assert.equal(reg.version, '0.1.0');
    assert.equal(reg.protocolVersion, 1);

    const ticket = await stack.balancer.ticket({ aud, pg: 'redeem', jti: 'redeem-jti-0123456789' });
    const { c } = await (async () => {
      const client = await stack.connect();
      await client.join(ticket);
      return { c: client };
    })();
    const redeemed = await stack.balancer.waitFor(
      (m) => m.type === 'ticketRedeemed' && m.jti === 'redeem-jti-0123456789',
    );
    assert.deepEqual(redeemed, {
      type: 'ticketRedeemed',
      jti: 'redeem-jti-0123456789',
      playgroundId: 'redeem',
    });
    const load = await stack.balancer.waitFor(
      (m) => m.type === 'load' && m.playgrounds.some((p) => p.playgroundId === 'redeem' && p.players === 1),
    );
    assert.ok(load.type === 'load');
    assert.ok(load.players >= 1);
    assert.ok(load.cpu >= 0);
    assert.ok(load.tickMs >= 0);
    c.close();
  });

  test('metrics expose clients, playgrounds, entities, tick duration, bytes and refusals', async () => {
    const res = await fetch(`${stack.server.url}/metrics`);
    const text = await res.text();
    for (const name of [
      'plexus_ds_connected_clients',
      'plexus_ds_playgrounds',
      'plexus_ds_entities',
      'plexus_ds_tick_duration_seconds_bucket',
      'plexus_ds_bytes_sent_total',
      'plexus_ds_frames_refused_total{error="PROTOCOL_MALFORMED_FRAME"',
      'plexus_ds_backpressure_skips_total',
    ]) {
      assert.ok(text.includes(name), name);
    }
  });
});

describe('dedicated server limits (own configuration)', () => {
  test('no HELLO within the handshake timeout → HANDSHAKE_TIMEOUT, 4002', async () => {
    const stack = await startStack({ handshakeTimeoutMs: 150 });
    try {
      const c = await stack.connect();
      await expectRefusal(c, 'PROTOCOL_HANDSHAKE_TIMEOUT', 4002);
      const ok = await stack.connect();
      await ok.join(await stack.balancer.ticket({ aud: 'ds-test' }));
    } finally {
      await stack.close();
    }
  });

  test('no frame within the idle deadline → IDLE_TIMEOUT, 4009', async () => {
    const stack = await startStack({ idleTimeoutMs: 200 });
    try {
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      await expectRefusal(c, 'PROTOCOL_IDLE_TIMEOUT', 4009);
    } finally {
      await stack.close();
    }
  });

  test('frames keep a connection past the idle deadline; the deadline counts from the last one', async () => {
    const stack = await startStack({ idleTimeoutMs: 300 });
    try {
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      // Six PINGs 100 ms apart span twice the deadline; each is answered, so the socket stayed open.
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        c.send(encodePing(i));
        await c.next((f) => f.op === ServerOp.PONG);
      }
      await expectRefusal(c, 'PROTOCOL_IDLE_TIMEOUT', 4009);
    } finally {
      await stack.close();
    }
  });

  test('exceeding the frame rate → RATE_LIMITED, 1008; others carry on', async () => {
    const stack = await startStack({ rateLimitPerSec: 1, rateLimitBurst: 10 });
    try {
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      for (let i = 0; i < 20; i++) c.send(encodePing(i));
      await expectRefusal(c, 'PROTOCOL_RATE_LIMITED', 1008);
      const ok = await stack.connect();
      await ok.join(await stack.balancer.ticket({ aud: 'ds-test' }));
    } finally {
      await stack.close();
    }
  });

  test('a full server → SERVER_FULL, 4006, without consuming the ticket', async () => {
    const stack = await startStack({ capacity: 1 });
    try {
      const first = await stack.connect();
      await first.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      const ticket = await stack.balancer.ticket({ aud: 'ds-test' });
      const c = await stack.connect();
      c.hello(ticket);
      await expectRefusal(c, 'PROTOCOL_SERVER_FULL', 4006);
      first.send(encodeLeave());
      await first.closedWithin();
      const again = await stack.connect();
      await again.join(ticket);
    } finally {
      await stack.close();
    }
  });

  test('too many pending handshakes from one address → TOO_MANY_CONNECTIONS, 4011', async () => {
    const stack = await startStack({ maxPendingHandshakesPerAddress: 2 });
    try {
      await stack.connect();
      await stack.connect();
      const third = await stack.connect();
      await expectRefusal(third, 'PROTOCOL_TOO_MANY_CONNECTIONS', 4011);
    } finally {
      await stack.close();
    }
  });

  test('too many open sockets from one address → TOO_MANY_CONNECTIONS, 4011', async () => {
    const stack = await startStack({ maxSocketsPerAddress: 2 });
    try {
      for (let i = 0; i < 2; i++) {
        const c = await stack.connect();
        await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      }
      const third = await stack.connect();
      await expectRefusal(third, 'PROTOCOL_TOO_MANY_CONNECTIONS', 4011);
    } finally {
      await stack.close();
    }
  });

  test('before the balancer sent a key, HELLO → NOT_READY, 4012 and /readyz is 503', async () => {
    const stack = await startStack({}, { answerRegister: false });
    try {
      await stack.balancer.waitFor((m) => m.type === 'register');
      const res = await fetch(`${stack.server.url}/readyz`);
      assert.equal(res.status, 503);
      await res.arrayBuffer();
      const c = await stack.connect();
      c.hello(await stack.balancer.ticket({ aud: 'ds-test' }));
      await expectRefusal(c, 'PROTOCOL_NOT_READY', 4012);
    } finally {
      await stack.close();
    }
  });

  test('a drain command: draining reported at once, new HELLOs refused (4010), the playground checkpointed; with no other server its clients get 4010', async () => {
    let drained!: () => void;
    const done = new Promise<void>((resolve) => {
      drained = resolve;
    });
    // A long checkpoint interval: only the drain's final checkpoint can have written the move.
    const stack = await startStack({ checkpointMs: 600_000 }, { onDrained: () => drained() });
    try {
      const joined = await stack.connect();
      const { welcome } = await joined.join(await stack.balancer.ticket({ aud: 'ds-test', pg: 'drained' }));
      const ticket = await stack.balancer.ticket({ aud: 'ds-test' });
      stack.balancer.broadcast({ type: 'command', command: 'drain' });
      await stack.balancer.waitFor((m) => m.type === 'load' && m.draining === true);
      const c = await stack.connect();
      c.hello(ticket);
      await expectRefusal(c, 'PROTOCOL_SHUTTING_DOWN', 4010);
      // The test balancer has no other server for lb.relocate: the fallback closes with 4010.
      await expectRefusal(joined, 'PROTOCOL_SHUTTING_DOWN', CloseCodes.SHUTTING_DOWN);
      const saved = stack.balancer.checkpoints.get('drained');
      assert.ok(saved, 'the final checkpoint was written');
      assert.deepEqual(
        saved.state.avatars.map((a) => a.entityId),
        [welcome.selfId],
      );
      await done;
    } finally {
      await stack.close();
    }
  });

  test('a shutdown command drains too and then calls the drained handler', async () => {
    let handlerCalled!: () => void;
    const called = new Promise<void>((resolve) => {
      handlerCalled = resolve;
    });
    const stack = await startStack({}, { onDrained: () => handlerCalled() });
    try {
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      stack.balancer.broadcast({ type: 'command', command: 'shutdown' });
      await expectRefusal(c, 'PROTOCOL_SHUTTING_DOWN', CloseCodes.SHUTTING_DOWN);
      await called;
    } finally {
      await stack.close();
    }
  });

  test('bad control messages are ignored; the channel re-registers after a drop, listing playgrounds', async () => {
    const stack = await startStack();
    try {
      stack.balancer.broadcast({ type: 'command', command: 'explode' });
      stack.balancer.broadcast({ nonsense: true });
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test', pg: 'kept' }));
      const before = stack.balancer.received.filter((m) => m.type === 'register').length;
      stack.balancer.dropConnections();
      const reg = await stack.balancer.waitFor(
        (m) =>
          m.type === 'register' &&
          stack.balancer.received.filter((x) => x.type === 'register').length > before,
      );
      assert.ok(reg.type === 'register');
      assert.deepEqual(
        reg.playgrounds.map(({ checkpointAgeMs: _age, ...load }) => load),
        [{ playgroundId: 'kept', players: 1, epoch: 1 }],
      );
      assert.equal(typeof reg.playgrounds[0]?.checkpointAgeMs, 'number');
      // The client was never disturbed.
      c.send(encodePing(1));
      await c.next((f) => f.op === ServerOp.PONG);
    } finally {
      await stack.close();
    }
  });

  test('close() drains (no other server: SHUTTING_DOWN, 4010 after the checkpoint) and is idempotent', async () => {
    const stack = await startStack();
    try {
      const c = await stack.connect();
      await c.join(await stack.balancer.ticket({ aud: 'ds-test' }));
      const closing = Promise.all([stack.server.close(), stack.server.close()]);
      await expectRefusal(c, 'PROTOCOL_SHUTTING_DOWN', CloseCodes.SHUTTING_DOWN);
      await closing;
    } finally {
      await stack.close();
    }
  });
});
