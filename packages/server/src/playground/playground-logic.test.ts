import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { AuthorityAction, decodeServerFrame, type ServerFrame, ServerOp } from '@plexus/protocol';
import { Playground } from './playground.ts';
import { PlaygroundLogic } from './playground-logic.ts';
import type { PlaygroundType } from './playground-type.ts';
import meetingRoom from './types/meeting-room.ts';
import openWorld from './types/open-world.ts';

const logger = createLogger({ component: 'test', level: 'silent' });
const Q = { x: 0, y: 0, z: 0, w: 1 };
const O = { x: 0, y: 0, z: 0 };

// biome-ignore lint/suspicious/noExplicitAny: tests build types with any state
function setup(type: PlaygroundType<any> = openWorld) {
  const clock = { now: 0 };
  const playground = new Playground('p');
  const errors: string[] = [];
  const logic = new PlaygroundLogic({
    type,
    playground,
    logger,
    now: () => clock.now,
    currentTick: () => 1,
    maxSpeedMps: 50,
    onLogicError: (hook) => errors.push(hook),
  });
  logic.create();
  const inbox = new Map<number, ServerFrame[]>();
  const join = (clientId: number) => {
    const avatarId = logic.spawnAvatar(clientId, O, { displayName: `c${clientId}` });
    inbox.set(clientId, []);
    const refusal = logic.join({
      clientId,
      userId: `u${clientId}`,
      avatarId,
      displayName: `c${clientId}`,
      incognito: false,
      send: (bytes) => inbox.get(clientId)?.push(decodeServerFrame(bytes)),
    });
    return { avatarId, refusal };
  };
  const spawnObject = (clientId: number, props = {}) =>
    logic.spawnRequest(clientId, { kind: 'object', position: O, rotation: Q, props });
  return { clock, playground, logic, errors, inbox, join, spawnObject };
}

function ownerUpdates(playground: Playground): Map<number, number> {
  const out = new Map<number, number>();
  for (const u of playground.takeChanges()?.updates ?? []) if (u.owner !== undefined) out.set(u.id, u.owner);
  return out;
}

test('racing authority requests: the first wins, the others are told who holds it, one OWNER update', () => {
  const { logic, playground, join } = setup();
  for (const id of [1, 2, 3]) join(id);
  const box = logic.api.spawn({ kind: 'object' });
  playground.takeChanges();
  const results = [2, 3, 1].map((c) => logic.authorityRequest(c, AuthorityAction.REQUEST, box, 0));
  assert.deepEqual(results[0], { ok: true, value: box });
  for (const r of results.slice(1)) assert.equal(r.ok ? '' : r.error, 'PROTOCOL_AUTHORITY_HELD');
  assert.equal(playground.get(box)?.owner, 2);
  assert.deepEqual([...ownerUpdates(playground)], [[box, 2]]);
  // Asking again for what one holds is fine.
  assert.deepEqual(logic.authorityRequest(2, AuthorityAction.REQUEST, box, 0), { ok: true, value: box });
});

test('release returns authority to the server; transfer only by the owner to a member', () => {
  const { logic, playground, join } = setup();
  for (const id of [1, 2]) join(id);
  const box = logic.api.spawn({ kind: 'object' });
  assert.equal(logic.authorityRequest(1, AuthorityAction.REQUEST, box, 0).ok, true);
  const err = (r: ReturnType<typeof logic.authorityRequest>) => (r.ok ? 'ok' : r.error);
  assert.equal(err(logic.authorityRequest(2, AuthorityAction.TRANSFER, box, 2)), 'PROTOCOL_NOT_OWNER');
  assert.equal(err(logic.authorityRequest(2, AuthorityAction.RELEASE, box, 0)), 'PROTOCOL_NOT_OWNER');
  assert.equal(err(logic.authorityRequest(1, AuthorityAction.TRANSFER, box, 99)), 'PROTOCOL_UNKNOWN_CLIENT');
  assert.equal(err(logic.authorityRequest(1, AuthorityAction.TRANSFER, box, 2)), 'ok');
  assert.equal(playground.get(box)?.owner, 2);
  assert.equal(err(logic.authorityRequest(2, AuthorityAction.RELEASE, box, 0)), 'ok');
  assert.equal(playground.get(box)?.owner, 0);
  assert.equal(err(logic.authorityRequest(1, AuthorityAction.REQUEST, 999, 0)), 'PROTOCOL_UNKNOWN_ENTITY');
});

test('avatars: held by their client, never released, transferred or despawned by it', () => {
  const { logic, join } = setup();
  const a = join(1).avatarId;
  join(2);
  const err = (r: { ok: boolean; error?: string }) => (r.ok ? 'ok' : r.error);
  assert.equal(err(logic.authorityRequest(2, AuthorityAction.REQUEST, a, 0)), 'PROTOCOL_AUTHORITY_HELD');
  assert.equal(err(logic.authorityRequest(1, AuthorityAction.RELEASE, a, 0)), 'PROTOCOL_FORBIDDEN_BY_RULE');
  assert.equal(err(logic.authorityRequest(1, AuthorityAction.TRANSFER, a, 2)), 'PROTOCOL_FORBIDDEN_BY_RULE');
  assert.equal(err(logic.despawnRequest(1, a)), 'PROTOCOL_FORBIDDEN_BY_RULE');
});

test('on leave, the avatar goes and authority returns to the server; spawned objects stay', () => {
  const { logic, playground, join, spawnObject } = setup();
  const { avatarId } = join(1);
  join(2);
  const mine = spawnObject(1);
  assert.ok(mine.ok);
  const other = logic.api.spawn({ kind: 'object' });
  logic.authorityRequest(1, AuthorityAction.REQUEST, other, 0);
  playground.takeChanges();
  logic.leave(1);
  assert.equal(playground.get(avatarId), undefined);
  assert.equal(playground.get(mine.value)?.owner, 0);
  assert.equal(playground.get(other)?.owner, 0);
  const changes = playground.takeChanges();
  assert.deepEqual(changes?.removes, [avatarId]);
  // Now client 2 may grab and remove the orphan.
  assert.equal(logic.authorityRequest(2, AuthorityAction.REQUEST, mine.value, 0).ok, true);
  assert.equal(logic.despawnRequest(2, mine.value).ok, true);
});

test('updates to an entity the client does not own are refused and change nothing', () => {
  const { logic, playground, join } = setup();
  join(1);
  join(2);
  const box = logic.api.spawn({ kind: 'object', props: { color: 'red' } });
  logic.authorityRequest(1, AuthorityAction.REQUEST, box, 0);
  const before = structuredClone(playground.get(box));
  const r = logic.setEntity(2, box, { props: { color: 'blue' }, position: { x: 1, y: 0, z: 0 } }, undefined);
  assert.equal(r.ok ? '' : r.error, 'PROTOCOL_NOT_OWNER');
  const m = logic.checkMove(2, box, { x: 1, y: 0, z: 0 }, Q);
  assert.equal(m.ok ? '' : m.error, 'PROTOCOL_NOT_OWNER');
  assert.deepEqual(playground.get(box), before);
  const u = logic.setEntity(2, 12345, { props: {} }, undefined);
  assert.equal(u.ok ? '' : u.error, 'PROTOCOL_UNKNOWN_ENTITY');
  // The owner may.
  const ok = logic.setEntity(1, box, { props: { color: 'blue' }, position: { x: 1, y: 0, z: 0 } }, undefined);
  assert.equal(ok.ok, true);
  assert.equal(playground.get(box)?.props.color, 'blue');
  assert.deepEqual(ok.ok && ok.position, { x: 1, y: 0, z: 0 });
});

test('per-kind limits: bounds, speed and update rate; a refused update applies nothing', () => {
  const type: PlaygroundType = {
    name: 'limits',
    kinds: {
      puck: {
        props: { hits: { type: 'number', integer: true, min: 0 } },
        grabbable: true,
        bounds: { min: { x: -10, y: 0, z: -10 }, max: { x: 10, y: 1, z: 10 } },
        maxSpeedMps: 10,
        maxUpdatesPerSec: 2,
      },
    },
  };
  const { logic, playground, join, clock } = setup(type);
  join(1);
  const puck = logic.api.spawn({ kind: 'puck' });
  logic.authorityRequest(1, AuthorityAction.REQUEST, puck, 0);
  const err = (r: { ok: boolean; error?: string }) => (r.ok ? 'ok' : r.error);
  // Out of the kind's box (but in the world).
  assert.equal(err(logic.checkMove(1, puck, { x: 0, y: 5, z: 0 }, Q)), 'PROTOCOL_INVALID_TRANSFORM');
  // Faster than 10 m/s: the allowance is 5 m (0.5 s of slack).
  assert.equal(err(logic.checkMove(1, puck, { x: 9, y: 0, z: 0 }, Q)), 'PROTOCOL_INVALID_TRANSFORM');
  clock.now += 1000;
  assert.equal(err(logic.checkMove(1, puck, { x: 9, y: 0, z: 0 }, Q)), 'PROTOCOL_INVALID_TRANSFORM');
  assert.equal(err(logic.checkMove(1, puck, { x: 4, y: 0, z: 0 }, Q)), 'ok');
  // Two updates per second (burst 2): the third within the same instant is refused.
  assert.equal(err(logic.checkMove(1, puck, { x: 4, y: 0, z: 0 }, Q)), 'PROTOCOL_ENTITY_RATE_LIMITED');
  clock.now += 500;
  // Props invalid → the valid transform in the same update is not applied either.
  const r = logic.setEntity(1, puck, { position: { x: 5, y: 0, z: 0 }, props: { hits: -1 } }, undefined);
  assert.equal(err(r), 'PROTOCOL_INVALID_PROPS');
  assert.equal(playground.get(puck)?.props.hits, undefined);
});

test('spawns: kind allowed, per-client limit, props validated with defaults, transform checked', () => {
  const { logic, playground, join, spawnObject } = setup();
  join(1);
  join(2);
  const err = (r: { ok: boolean; error?: string }) => (r.ok ? 'ok' : r.error);
  const first = spawnObject(1, { label: 'hi' });
  assert.ok(first.ok);
  assert.deepEqual(playground.get(first.value)?.props, { color: '#8899aa', label: 'hi', shape: 'box' });
  assert.equal(playground.get(first.value)?.owner, 1);
  for (let i = 1; i < 16; i++) assert.equal(err(spawnObject(1)), 'ok');
  assert.equal(err(spawnObject(1)), 'PROTOCOL_SPAWN_LIMIT');
  assert.equal(err(spawnObject(2)), 'ok', 'the limit is per client');
  assert.equal(err(spawnObject(2, { shape: 'cone' })), 'PROTOCOL_INVALID_PROPS');
  assert.equal(err(spawnObject(2, { color: 'x'.repeat(17) })), 'PROTOCOL_INVALID_PROPS');
  assert.equal(
    err(logic.spawnRequest(2, { kind: 'avatar', position: O, rotation: Q, props: {} })),
    'PROTOCOL_FORBIDDEN_BY_RULE',
  );
  assert.equal(
    err(logic.spawnRequest(2, { kind: 'object', position: { x: 1e6, y: 0, z: 0 }, rotation: Q, props: {} })),
    'PROTOCOL_INVALID_TRANSFORM',
  );
  // Despawning one frees a slot.
  assert.equal(err(logic.despawnRequest(2, first.value)), 'PROTOCOL_NOT_OWNER');
  assert.equal(err(logic.despawnRequest(1, first.value)), 'ok');
  assert.equal(err(spawnObject(1)), 'ok');
});

test('open-world relays messages to everyone else with the sender as from', () => {
  const { logic, join, inbox } = setup();
  for (const id of [1, 2, 3]) join(id);
  assert.deepEqual(logic.message(1, 'wave', { at: 1 }), { ok: true, value: 0 });
  assert.deepEqual(inbox.get(1), []);
  for (const id of [2, 3]) {
    assert.deepEqual(inbox.get(id), [{ op: ServerOp.MESSAGE, from: 1, type: 'wave', payload: { at: 1 } }]);
  }
});

test('hooks: a join refused by rule leaves no trace; tick-driven entities; errors are contained', () => {
  let ticks = 0;
  const type: PlaygroundType<{ beacon: number }> = {
    name: 'hooks',
    state: () => ({ beacon: 0 }),
    kinds: { beacon: { props: { phase: { type: 'number', min: 0, max: 1000 } } } },
    onCreate(api) {
      api.state.beacon = api.spawn({ kind: 'beacon', props: { phase: 0 } });
    },
    onJoin(api, member) {
      if (member.displayName === 'c3') return api.refuseJoin('No c3 here');
      if (member.displayName === 'c4') throw new Error('boom on join');
      return undefined;
    },
    onMessage(api, _from, { type }) {
      if (type === 'bad') api.spawn({ kind: 'nope' });
      if (type === 'throw') throw new Error('boom');
    },
    onTick(api, { tick }) {
      ticks++;
      if (tick === 2) throw new Error('boom on tick');
      api.setEntity(api.state.beacon, { props: { phase: tick } });
    },
  };
  const { logic, playground, join, errors } = setup(type);
  join(1);
  const refused = join(3);
  assert.deepEqual(refused.refusal, { error: 'PROTOCOL_JOIN_REFUSED', message: 'No c3 here' });
  assert.equal(playground.get(refused.avatarId), undefined);
  const failed = join(4);
  assert.equal(failed.refusal?.error, 'PROTOCOL_JOIN_REFUSED');
  assert.equal(logic.memberCount, 1);

  const beacon = logic.api.entities('beacon')[0];
  assert.ok(beacon);
  logic.tick(1, 50);
  logic.tick(2, 50);
  logic.tick(3, 50);
  assert.equal(ticks, 3);
  assert.equal(playground.get(beacon.id)?.props.phase, 3, 'the tick after the failing one ran');

  for (const t of ['bad', 'throw']) {
    const r = logic.message(1, t, null);
    assert.equal(r.ok ? '' : r.error, 'PROTOCOL_LOGIC_ERROR');
  }
  assert.deepEqual(errors, ['onJoin', 'onTick', 'onMessage', 'onMessage']);
});

test('a type without onMessage refuses messages', () => {
  const { logic, join } = setup({ name: 'quiet' });
  join(1);
  const r = logic.message(1, 'hi', null);
  assert.equal(r.ok ? '' : r.error, 'PROTOCOL_FORBIDDEN_BY_RULE');
});

test('meeting room: first member hosts, only hosts open the door, locked meetings refuse joins', () => {
  const { logic, playground, join, inbox, clock } = setup(meetingRoom);
  const host = join(1);
  join(2);
  const door = logic.api.entities('door')[0];
  assert.ok(door);
  assert.equal(playground.get(host.avatarId)?.props.role, 'host');
  logic.message(2, 'door.open', {});
  assert.equal(playground.get(door.id)?.props.open, false);
  assert.equal(inbox.get(2)?.at(-1)?.op, ServerOp.MESSAGE);
  logic.message(1, 'door.open', {});
  assert.equal(playground.get(door.id)?.props.open, true);
  // The board: grabbed by one, written, cleared by the host.
  const board = logic.api.entities('whiteboard')[0];
  assert.ok(board);
  assert.equal(logic.authorityRequest(2, AuthorityAction.REQUEST, board.id, 0).ok, true);
  assert.equal(logic.setEntity(2, board.id, { props: { text: 'agenda' } }, undefined).ok, true);
  const moved = logic.setEntity(2, board.id, { position: { x: 1, y: 1.5, z: -4 } }, undefined);
  assert.equal(moved.ok ? '' : moved.error, 'PROTOCOL_INVALID_TRANSFORM');
  logic.message(1, 'whiteboard.clear', {});
  assert.equal(playground.get(board.id)?.owner, 0);
  assert.equal(playground.get(board.id)?.props.text, '');
  // The clock follows the tick.
  clock.now += 3_200;
  logic.tick(10, 50);
  assert.equal(logic.api.entities('clock')[0]?.props.elapsedS, 3);
  // Locking.
  logic.message(1, 'meeting.lock', { locked: true });
  assert.deepEqual(join(3).refusal, { error: 'PROTOCOL_JOIN_REFUSED', message: 'The meeting is locked' });
  // The host leaves: the earliest remaining member hosts.
  logic.leave(1);
  const two = logic.api.member(2);
  assert.equal(two && playground.get(two.avatarId)?.props.role, 'host');
});
