import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { ClientOp, decodeServerFrame, ServerOp, type Vec3 } from '@plexus/protocol';
import { ReplayCache } from '../control/replay-cache.ts';
import type { VerifiedTicket } from '../control/ticket-verifier.ts';
import { createServerMetrics } from '../metrics.ts';
import type { MemberLink, WelcomeInfo } from '../transport/link.ts';
import type { Member } from './member.ts';
import { PlaygroundHost } from './playground-host.ts';
import { PlaygroundTypes } from './type-registry.ts';

const logger = createLogger({ component: 'test', level: 'silent' });

/** A stand-in for a socket connection (the member's link): records what the host sends it. */
function fakeConn(clientId: number, protocolVersion = 2) {
  const conn = {
    clientId,
    protocolVersion,
    log: logger,
    isClosed: false,
    bufferedAmount: 0,
    sent: [] as Uint8Array[],
    /** What each STATE write carried after its frame (a MOVE_ACK), or null. */
    trailers: [] as (Uint8Array | null)[],
    refused: [] as string[],
    send(bytes: Uint8Array) {
      this.sent.push(bytes);
    },
    sendState(bytes: Uint8Array, trailer?: Uint8Array) {
      this.sent.push(bytes);
      this.trailers.push(trailer ?? null);
      if (trailer) this.sent.push(trailer);
    },
    sendWelcome(_welcome: WelcomeInfo, keyframe: Uint8Array) {
      this.sent.push(keyframe);
    },
    close() {},
    refuse(name: string) {
      this.refused.push(name);
      host.leave(conn);
    },
  };
  let host: PlaygroundHost;
  return {
    conn,
    bind(h: PlaygroundHost) {
      host = h;
      return conn satisfies MemberLink;
    },
  };
}

function ticket(n: number, pg = 'p'): VerifiedTicket {
  return {
    iss: 'plexus-balancer',
    aud: 'ds',
    sub: `user-${n}`,
    jti: `jti-${n}-${'x'.repeat(16)}`,
    iat: 0,
    exp: 4_000_000_000,
    pg,
    prof: { firstName: 'A', lastName: 'B', privacyMode: 0, avatar: '', companyName: '', companyTitle: '' },
  };
}

function setup(overrides: Partial<ConstructorParameters<typeof PlaygroundHost>[0]> = {}) {
  let now = 0;
  const redeemed: string[] = [];
  const host = new PlaygroundHost({
    capacity: 10,
    maxBufferedBytes: 1000,
    slowConsumerGraceMs: 5000,
    playgroundIdleMs: 1000,
    logger,
    metrics: createServerMetrics({ clients: () => 0, playgrounds: () => 0, entities: () => 0 }),
    replay: new ReplayCache(100, () => 0),
    now: () => now,
    onTicketRedeemed: (jti) => redeemed.push(jti),
    ...overrides,
  });
  return { host, redeemed, advance: (ms: number) => (now += ms) };
}

/** A member's MOVE of one of its entities, as its connection hands it to the host. */
function move(host: PlaygroundHost, link: MemberLink, entityId: number, position: Vec3, seq?: number) {
  const rotation = { x: 0, y: 0, z: 0, w: 1 };
  host.input(link, {
    op: ClientOp.MOVE,
    entityId,
    position,
    rotation,
    ...(seq !== undefined ? { seq } : {}),
  });
}

const kinds = (sent: Uint8Array[]) =>
  sent.map((b) => {
    const f = decodeServerFrame(b);
    return f.op === ServerOp.STATE ? (f.keyframe ? 'key' : 'delta') : f.op;
  });

test('admitted clients get WELCOME and a keyframe at admission, before any tick; others the shared delta; idle sends nothing', async () => {
  const { host, redeemed } = setup();
  const a = fakeConn(1);
  const b = fakeConn(2);
  assert.equal(await host.admit(a.bind(host), ticket(1)), null);
  assert.deepEqual(kinds(a.conn.sent), ['key'], 'welcomed without a tick');
  host.tick();
  assert.equal(await host.admit(b.bind(host), ticket(2)), null);
  assert.deepEqual(kinds(b.conn.sent), ['key'], 'welcomed between ticks');
  const keyframe = decodeServerFrame(b.conn.sent[0] as Uint8Array);
  assert.ok(keyframe.op === ServerOp.STATE);
  assert.equal(keyframe.tick, host.currentTick, 'numbered with the last tick that ran');
  const selfId = host.member(2)?.avatarId;
  assert.deepEqual(
    keyframe.spawns.map((s) => s.id).sort(),
    [host.member(1)?.avatarId, selfId].sort(),
    'the other avatar and its own',
  );
  const before = a.conn.sent.length;
  host.tick();
  assert.equal(a.conn.sent.length, before + 1);
  const delta = decodeServerFrame(a.conn.sent.at(-1) as Uint8Array);
  assert.ok(delta.op === ServerOp.STATE && !delta.keyframe);
  assert.equal(delta.tick, keyframe.tick + 1, 'the newcomer spawns for the others at the next tick');
  assert.deepEqual(
    delta.spawns.map((s) => s.id),
    [selfId],
  );
  const counts = [a.conn.sent.length, b.conn.sent.length];
  host.tick();
  host.tick();
  assert.deepEqual([a.conn.sent.length, b.conn.sent.length], counts, 'idle ticks send nothing');
  assert.equal(redeemed.length, 2);
});

test('a keyframe between ticks leaves out an entity removed since the last tick', async () => {
  const { host } = setup();
  const a = fakeConn(1);
  await host.admit(a.bind(host), ticket(1));
  host.tick();
  const gone = host.member(1)?.avatarId;
  host.leave(a.bind(host));
  const b = fakeConn(2);
  await host.admit(b.bind(host), ticket(2));
  const keyframe = decodeServerFrame(b.conn.sent[0] as Uint8Array);
  assert.ok(keyframe.op === ServerOp.STATE);
  assert.deepEqual(
    keyframe.spawns.map((s) => s.id),
    [host.member(2)?.avatarId],
  );
  assert.notEqual(gone, host.member(2)?.avatarId);
  host.tick();
  for (const bytes of b.conn.sent) {
    const f = decodeServerFrame(bytes);
    assert.ok(f.op === ServerOp.STATE);
    assert.deepEqual(f.removes, [], 'nothing to remove: it never held the avatar that left');
  }
});

test('an avatar shown by a keyframe between ticks and gone before the tick is removed for whoever held it', async () => {
  const { host } = setup();
  const a = fakeConn(1);
  const b = fakeConn(2);
  await host.admit(a.bind(host), ticket(1));
  const gone = host.member(1)?.avatarId;
  await host.admit(b.bind(host), ticket(2));
  const keyframe = decodeServerFrame(b.conn.sent[0] as Uint8Array);
  assert.ok(keyframe.op === ServerOp.STATE);
  assert.ok(keyframe.spawns.some((s) => s.id === gone));
  host.leave(a.bind(host));
  host.tick();
  const delta = decodeServerFrame(b.conn.sent.at(-1) as Uint8Array);
  assert.ok(delta.op === ServerOp.STATE && !delta.keyframe);
  assert.deepEqual(delta.removes, [gone]);
  host.tick();
  assert.equal(host.entityCount, 1);
});

test('what changes between a keyframe between ticks and the next tick reaches its client', async () => {
  const { host } = setup();
  const a = fakeConn(1);
  await host.admit(a.bind(host), ticket(1));
  const member = host.member(1) as Member;
  // Its first move lands in the tick that also takes its avatar's spawn.
  member.moves.put(member.avatarId, { x: 1, y: 0, z: 2 }, { x: 0, y: 0, z: 0, w: 1 }, undefined);
  host.tick();
  const delta = decodeServerFrame(a.conn.sent.at(-1) as Uint8Array);
  assert.ok(delta.op === ServerOp.STATE && !delta.keyframe);
  assert.deepEqual(delta.updates.find((u) => u.id === member.avatarId)?.position, { x: 1, y: 0, z: 2 });
});

test('clients that see the same things get the same delta bytes', async () => {
  const { host } = setup();
  const conns = [1, 2, 3].map((n) => fakeConn(n));
  for (const [i, c] of conns.entries()) await host.admit(c.bind(host), ticket(i + 1));
  host.tick();
  for (const c of conns) c.conn.sent.length = 0;
  await host.admit(fakeConn(9).bind(host), ticket(9));
  host.tick();
  const deltas = conns.map((c) => c.conn.sent[0]);
  assert.ok(deltas[0]);
  assert.deepEqual(deltas[0], deltas[1]);
  assert.deepEqual(deltas[1], deltas[2]);
});

test('replayed tickets and a full server are refused without side effects', async () => {
  const { host } = setup({ capacity: 1 });
  assert.equal(await host.admit(fakeConn(1).bind(host), ticket(1)), null);
  assert.equal(
    (await host.admit(fakeConn(2).bind(host), ticket(1, 'other')))?.name,
    'PROTOCOL_TICKET_REPLAYED',
  );
  assert.equal((await host.admit(fakeConn(3).bind(host), ticket(3)))?.name, 'PROTOCOL_SERVER_FULL');
  assert.equal(host.playerCount, 1);
  assert.equal(host.entityCount, 1);
});

test('the same user joining again replaces the old connection', async () => {
  const { host } = setup({ capacity: 1 });
  const old = fakeConn(1);
  await host.admit(old.bind(host), ticket(1));
  const again = { ...ticket(1), jti: 'another-ticket-id-000' };
  assert.equal(await host.admit(fakeConn(2).bind(host), again), null);
  assert.deepEqual(old.conn.refused, ['PROTOCOL_DUPLICATE_LOGIN']);
  assert.equal(host.playerCount, 1);
  assert.equal(host.entityCount, 1);
});

test('a backed-up client skips deltas, gets a keyframe when drained, and is dropped when stuck', async () => {
  const { host, advance } = setup();
  const a = fakeConn(1);
  const b = fakeConn(2);
  await host.admit(a.bind(host), ticket(1));
  host.tick();
  a.conn.sent.length = 0;
  a.conn.bufferedAmount = 5000;
  await host.admit(b.bind(host), ticket(2));
  host.tick();
  assert.deepEqual(kinds(a.conn.sent), [], 'delta skipped');
  assert.equal(host.member(1)?.needsKeyframe, true);
  a.conn.bufferedAmount = 0;
  advance(50);
  host.tick();
  assert.deepEqual(kinds(a.conn.sent), ['key'], 'a keyframe once drained');

  // Its buffer grows while the room is calm (nothing sent, nothing changed): a tick within the
  // second after the last one that visited the members leaves them alone, the next one notices.
  a.conn.bufferedAmount = 5000;
  host.tick();
  assert.equal(host.member(1)?.stuckSince, null, 'a calm tick does not visit the members');
  advance(1000);
  host.tick();
  assert.notEqual(host.member(1)?.stuckSince, null, 'noticed within a second');
  advance(5001);
  host.tick();
  assert.deepEqual(a.conn.refused, ['PROTOCOL_SLOW_CONSUMER']);
  assert.equal(host.playerCount, 1);
});

test('queued moves are applied at the tick, and an empty playground is removed after the idle time', async () => {
  const { host, advance } = setup();
  const a = fakeConn(1);
  const conn = a.bind(host);
  await host.admit(conn, ticket(1));
  const b = fakeConn(2);
  await host.admit(b.bind(host), ticket(2));
  host.tick();
  host.tick();
  // A calm room (the tick above changed nothing): the MOVE still lands at the next tick.
  const member = host.member(conn.clientId) as Member;
  move(host, conn, member.avatarId, { x: 1, y: 2, z: 3 });
  assert.equal(member.moves.size, 1, 'queued until the tick');
  host.tick();
  const f = decodeServerFrame(b.conn.sent.at(-1) as Uint8Array);
  assert.ok(f.op === ServerOp.STATE);
  assert.deepEqual(f.updates, [{ id: member.avatarId, position: { x: 1, y: 2, z: 3 } }]);
  assert.equal(member.moves.size, 0);

  host.leave(conn);
  host.leave(b.bind(host));
  host.tick();
  assert.equal(host.playgroundCount, 1);
  advance(1000);
  host.tick();
  assert.equal(host.playgroundCount, 0);
});

test("a v3 member's MOVE_ACK leaves in the same write as its tick's STATE", async () => {
  const { host } = setup();
  const a = fakeConn(1, 3);
  const conn = a.bind(host);
  await host.admit(conn, ticket(1));
  host.tick();
  host.tick();
  const member = host.member(conn.clientId) as Member;
  move(host, conn, member.avatarId, { x: 1, y: 0, z: 1 }, 7);
  const before = a.conn.sent.length;
  host.tick();
  assert.deepEqual(kinds(a.conn.sent.slice(before)), ['delta', ServerOp.MOVE_ACK]);
  const trailer = a.conn.trailers.at(-1);
  assert.ok(trailer, 'the MOVE_ACK rode on the STATE write');
  assert.deepEqual(decodeServerFrame(trailer), { op: ServerOp.MOVE_ACK, lastAppliedSeq: 7, refused: [] });

  // A calm room again; a refused MOVE changes nothing in the world, yet its MOVE_ACK goes out.
  host.tick();
  const calmFrom = a.conn.sent.length;
  move(host, conn, member.avatarId, { x: 900, y: 0, z: 1 }, 8);
  host.tick();
  const acks = a.conn.sent
    .slice(calmFrom)
    .map((b) => decodeServerFrame(b))
    .filter((f) => f.op === ServerOp.MOVE_ACK);
  assert.equal(acks.length, 1);
  assert.ok(acks[0]?.op === ServerOp.MOVE_ACK);
  assert.deepEqual(
    acks[0].refused.map((r) => r.seq),
    [8],
  );
});

test("a playground type's interest radius overrides the server default", async () => {
  // Spawns at the origin, then 4 m east (random() drives angle and radius).
  const sequence = [0, 0, 0, 1];
  const deterministic = () => {
    let i = 0;
    return () => sequence[i++ % sequence.length] as number;
  };
  const seen = async (types?: PlaygroundTypes) => {
    const { host } = setup({ random: deterministic(), ...(types ? { types } : {}) });
    await host.admit(fakeConn(1).bind(host), ticket(1, 'near-sighted'));
    const b = fakeConn(2);
    await host.admit(b.bind(host), ticket(2, 'near-sighted'));
    const first = decodeServerFrame(b.conn.sent[0] as Uint8Array);
    assert.ok(first.op === ServerOp.STATE);
    return first.spawns.length;
  };
  assert.equal(await seen(), 2, 'the default 100 m radius sees the other avatar 4 m away');
  const nearSighted = new PlaygroundTypes(
    [{ name: 'near-sighted', interest: { radiusM: 1, hysteresisM: 0.5 } }],
    [{ pattern: 'near-sighted', type: 'near-sighted' }],
  );
  assert.equal(await seen(nearSighted), 1, 'a 1 m radius sees only its own avatar');
});
