import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AuthorityAction,
  EntityLimits,
  ErrorCodes,
  encodeAuthority,
  encodeClientMessage,
  encodeDespawn,
  encodePing,
  encodeSetEntity,
  encodeSpawn,
  type ServerFrame,
  ServerOp,
} from '@plexus/protocol';
import { type Stack, startStack } from '../testing/stack.ts';
import type { TestClient } from '../testing/test-client.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };
const typeModule = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('entities, authority and messages over real sockets', () => {
  let stack: Stack;
  let ticketN = 0;

  before(async () => {
    stack = await startStack({
      playgroundTypes: [
        typeModule('../playground/types/meeting-room.ts'),
        typeModule('../testing/faulty-type.ts'),
      ],
      playgroundTypeMap: 'meeting-*=meeting-room,faulty-*=faulty',
      // A dropped owner's entities return to the server when its resume grace ends.
      resumeGraceMs: 300,
    });
  });
  after(() => stack.close());

  async function joined(pg: string, firstName = `P${++ticketN}`) {
    const c = await stack.connect();
    const { welcome } = await c.join(
      await stack.balancer.ticket({ aud: stack.server.serverId, pg, prof: { firstName } }),
    );
    return { c, clientId: welcome.clientId, selfId: welcome.selfId };
  }

  const errorOf = (c: TestClient, name: string) =>
    c.find<Extract<ServerFrame, { op: typeof ServerOp.ERROR }>>(
      (f) => f.op === ServerOp.ERROR && f.name === name,
    );

  /** Everyone's mirror shows `owner` for `entityId`. */
  const allSee = (clients: TestClient[], entityId: number, owner: number) =>
    Promise.all(
      clients.map((c) => c.until(() => c.mirror().get(entityId)?.owner === owner, 3_000, `owner ${owner}`)),
    );

  test('racing authority requests: exactly one winner, and everyone agrees through the OWNER update', async () => {
    const players = await Promise.all([1, 2, 3, 4].map(() => joined('race')));
    const [a] = players;
    assert.ok(a);
    a.c.send(encodeSpawn(1, 'object', { x: 1, y: 0, z: 1 }, Q, { label: 'prize' }));
    const spawned = await a.c.result(1);
    assert.equal(spawned.code, 0);
    const box = spawned.value;
    a.c.send(encodeAuthority(2, AuthorityAction.RELEASE, box));
    assert.equal((await a.c.result(2)).code, 0);
    const clients = players.map((p) => p.c);
    await allSee(clients, box, 0);

    // All four ask at once; frames from different sockets interleave in arrival order.
    for (const p of players) p.c.send(encodeAuthority(10, AuthorityAction.REQUEST, box));
    const results = await Promise.all(players.map((p) => p.c.result(10)));
    const winners = players.filter((_, i) => results[i]?.code === 0);
    assert.equal(winners.length, 1);
    for (const r of results) if (r.code !== 0) assert.equal(r.code, ErrorCodes.PROTOCOL_AUTHORITY_HELD.code);
    const winner = winners[0];
    assert.ok(winner);
    await allSee(clients, box, winner.clientId);
  });

  test("transfer by the owner, release, and revocation when a dropped owner's resume grace ends", async () => {
    const [a, b, c] = await Promise.all([joined('handover'), joined('handover'), joined('handover')]);
    const clients = [a.c, b.c, c.c];
    a.c.send(encodeSpawn(1, 'object', { x: 0, y: 0, z: 2 }, Q, {}));
    const box = (await a.c.result(1)).value;
    await allSee(clients, box, a.clientId);

    b.c.send(encodeAuthority(2, AuthorityAction.TRANSFER, box, c.clientId));
    assert.equal((await b.c.result(2)).code, ErrorCodes.PROTOCOL_NOT_OWNER.code);
    a.c.send(encodeAuthority(3, AuthorityAction.TRANSFER, box, b.clientId));
    assert.deepEqual(
      { code: (await a.c.result(3)).code, value: (await a.c.result(3)).value },
      { code: 0, value: box },
    );
    await allSee(clients, box, b.clientId);

    b.c.send(encodeAuthority(4, AuthorityAction.RELEASE, box));
    assert.equal((await b.c.result(4)).code, 0);
    await allSee(clients, box, 0);

    c.c.send(encodeAuthority(5, AuthorityAction.REQUEST, box));
    assert.equal((await c.c.result(5)).code, 0);
    await allSee(clients, box, c.clientId);
    c.c.close();
    await allSee([a.c, b.c], box, 0);
  });

  test('updates to an entity the client does not own are refused; the state does not change', async () => {
    const [a, b] = await Promise.all([joined('unowned'), joined('unowned')]);
    const start = { x: 2, y: 0, z: 2 };
    a.c.send(encodeSpawn(1, 'object', start, Q, { color: 'red' }));
    const box = (await a.c.result(1)).value;
    await b.c.until(() => b.c.mirror().get(box));

    b.c.send(encodeSetEntity(box, { position: { x: 3, y: 0, z: 2 }, props: { color: 'blue' } }));
    b.c.send(encodeSetEntity(b.selfId + 1000, { props: { color: 'blue' } }));
    b.c.send(encodeDespawn(2, box));
    assert.equal((await errorOf(b.c, 'PROTOCOL_NOT_OWNER')).name, 'PROTOCOL_NOT_OWNER');
    await errorOf(b.c, 'PROTOCOL_UNKNOWN_ENTITY');
    assert.equal((await b.c.result(2)).code, ErrorCodes.PROTOCOL_NOT_OWNER.code);
    // Still connected; a later legitimate change by the owner shows the refused one never happened.
    b.c.send(encodePing(1));
    await b.c.find((f) => f.op === ServerOp.PONG);
    a.c.send(encodeSetEntity(box, { props: { label: 'mine' } }));
    const seen = await b.c.until(() => {
      const e = b.c.mirror().get(box);
      return e?.props.label === 'mine' ? e : undefined;
    });
    assert.deepEqual(seen.position, start);
    assert.equal(seen.props.color, 'red');
  });

  test('speed and bounds limits, props schema and the spawn limit', async () => {
    const { c } = await joined('limits');
    c.send(encodeSpawn(1, 'object', { x: 0, y: 0, z: 3 }, Q, { shape: 'cone' }));
    assert.equal((await c.result(1)).code, ErrorCodes.PROTOCOL_INVALID_PROPS.code);
    c.send(encodeSpawn(2, 'object', { x: 0, y: 0, z: 3 }, Q, {}));
    const box = (await c.result(2)).value;
    c.send(encodeSetEntity(box, { position: { x: 500, y: 0, z: 3 } }));
    assert.match((await errorOf(c, 'PROTOCOL_INVALID_TRANSFORM')).message, /speed/);
    c.send(encodeSetEntity(box, { position: { x: 0, y: 20_000, z: 3 } }));
    c.send(encodeSetEntity(box, { props: { label: 'x'.repeat(33) } }));
    await errorOf(c, 'PROTOCOL_INVALID_PROPS');
    for (let i = 0; i < 15; i++) c.send(encodeSpawn(100 + i, 'object', { x: i, y: 0, z: 3 }, Q, {}));
    for (let i = 0; i < 15; i++) assert.equal((await c.result(100 + i)).code, 0);
    c.send(encodeSpawn(200, 'object', { x: 0, y: 0, z: 3 }, Q, {}));
    assert.equal((await c.result(200)).code, ErrorCodes.PROTOCOL_SPAWN_LIMIT.code);
    c.send(encodeDespawn(201, box));
    assert.deepEqual(await c.result(201).then((r) => [r.code, r.value]), [0, box]);
    await c.until(() => !c.mirror().has(box) && c.mirror().size > 15);
  });

  test('custom messages are relayed to the others with the sender id; oversized ones are malformed', async () => {
    const [a, b, c] = await Promise.all([joined('chat'), joined('chat'), joined('chat')]);
    const biggest = 'x'.repeat(EntityLimits.messagePayloadBytes - 2); // JSON string quotes
    a.c.send(encodeClientMessage('emote', { kind: 'wave' }));
    a.c.send(encodeClientMessage('big', biggest));
    for (const other of [b, c]) {
      const m = await other.c.find<Extract<ServerFrame, { op: typeof ServerOp.MESSAGE }>>(
        (f) => f.op === ServerOp.MESSAGE && f.type === 'big',
      );
      assert.equal(m.from, a.clientId);
      const first = other.c.frames.find((f) => f.op === ServerOp.MESSAGE);
      assert.deepEqual(first, {
        op: ServerOp.MESSAGE,
        from: a.clientId,
        type: 'emote',
        payload: { kind: 'wave' },
      });
    }
    assert.equal(
      a.c.frames.some((f) => f.op === ServerOp.MESSAGE),
      false,
    );
    a.c.send(encodeClientMessage('big', `${biggest}x`));
    assert.deepEqual(await a.c.refusal(), { name: 'PROTOCOL_MALFORMED_FRAME', code: 5001, closeCode: 4000 });
  });

  test('a playground type refuses a join by rule, drives an entity from its tick, and survives its own errors', async () => {
    const mallory = await stack.connect();
    mallory.hello(
      await stack.balancer.ticket({
        aud: stack.server.serverId,
        pg: 'faulty-1',
        prof: { firstName: 'Mallory' },
      }),
    );
    const refusal = await mallory.refusal();
    assert.deepEqual(refusal, {
      name: 'PROTOCOL_JOIN_REFUSED',
      code: ErrorCodes.PROTOCOL_JOIN_REFUSED.code,
      closeCode: 4013,
    });
    assert.equal(
      (mallory.frames.find((f) => f.op === ServerOp.ERROR) as { message: string }).message,
      'No Mallory allowed',
    );

    const { c } = await joined('faulty-1');
    const spinner = await c.until(() => [...c.mirror().values()].find((e) => e.kind === 'spin'));
    // Every other tick throws after turning the spinner: it keeps turning.
    const turns = Number(spinner.props.turns);
    await c.until(() => Number(c.mirror().get(spinner.id)?.props.turns) >= turns + 4, 3_000, 'spinner turns');
    c.send(encodeClientMessage('throw', null));
    assert.equal((await errorOf(c, 'PROTOCOL_LOGIC_ERROR')).name, 'PROTOCOL_LOGIC_ERROR');
    c.send(encodeClientMessage('hello', { n: 1 }));
    const echo = await c.find<Extract<ServerFrame, { op: typeof ServerOp.MESSAGE }>>(
      (f) => f.op === ServerOp.MESSAGE && f.type === 'echo',
    );
    assert.deepEqual(echo, { op: ServerOp.MESSAGE, from: 0, type: 'echo', payload: { n: 1 } });
    assert.ok(stack.logs.some((l) => l.includes('playground logic failed')));
  });

  test('meeting room over the wire: only the host opens the door', async () => {
    const host = await joined('meeting-a');
    const guest = await joined('meeting-a');
    const role = await host.c.find<Extract<ServerFrame, { op: typeof ServerOp.MESSAGE }>>(
      (f) => f.op === ServerOp.MESSAGE && f.type === 'role',
    );
    assert.deepEqual(role.payload, { role: 'host' });
    const door = await guest.c.until(() => [...guest.c.mirror().values()].find((e) => e.kind === 'door'));
    guest.c.send(encodeClientMessage('door.open', {}));
    await guest.c.find((f) => f.op === ServerOp.MESSAGE && f.type === 'denied');
    host.c.send(encodeClientMessage('door.open', {}));
    await guest.c.until(() => guest.c.mirror().get(door.id)?.props.open === true, 3_000, 'door open');
  });
});

test('a server whose playground type module cannot load does not start', async () => {
  await assert.rejects(
    startStack({ playgroundTypes: ['./no/such/type.ts'] }),
    /playgroundTypes: cannot load \.\/no\/such\/type\.ts/,
  );
  await assert.rejects(startStack({ playgroundTypeMap: 'x-*=nope' }), /unknown playground type "nope"/);
});
