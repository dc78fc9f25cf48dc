import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type OpenWorldKinds, type Playground, PlexusClient } from '@plexus/client';
import { type Stack, startStack } from '@plexus/testkit';
import { nextEvent } from './helpers.ts';

// Shared objects of the default open-world playground type through the SDK, against real
// processes: spawn, authority (grab, races, transfer, release, revocation on leave), moves with
// reconciliation, custom messages, despawn.
describe('entities and authority through the SDK', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 1 });
  });
  after(async () => {
    await stack?.stop();
  });

  async function joinAs(name: string, playgroundId: string): Promise<Playground<OpenWorldKinds>> {
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await client.loginAsGuest({ firstName: name });
    return client.join<OpenWorldKinds>({ playgroundId });
  }

  /** Resolves once `check()` holds, re-checking on every entity event of `pg`. */
  function until(pg: Playground, check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const offs: (() => void)[] = [];
      const done = (err?: Error): void => {
        clearTimeout(timer);
        for (const off of offs) off();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const recheck = (): void => {
        if (check()) done();
      };
      for (const event of ['entityAdded', 'entityChanged', 'entityRemoved', 'authorityChanged'] as const) {
        offs.push(pg.on(event, recheck));
      }
    });
  }

  const here = { x: 1, y: 0, z: 1 };

  test('a spawned object reaches everyone; racing grabs have exactly one winner everyone agrees on', async () => {
    const [a, b, c] = await Promise.all([
      joinAs('Ann', 'objects-race'),
      joinAs('Ben', 'objects-race'),
      joinAs('Cat', 'objects-race'),
    ]);
    const seenByB = nextEvent(b, 'entityAdded', (e: { kind: string }) => e.kind === 'object');
    const spawned = await a.spawn({
      kind: 'object',
      position: here,
      props: { color: '#ff0000', label: 'crate' },
    });
    assert.ok(spawned.ok, spawned.ok ? '' : spawned.error.message);
    const id = spawned.entityId;
    assert.equal(a.entities.get(id)?.owner, a.clientId, 'the spawner holds its new object');
    const [entity] = (await seenByB) as [{ id: number; props: Record<string, unknown> }];
    assert.equal(entity.id, id);
    assert.equal(entity.props.color, '#ff0000');
    assert.equal(entity.props.label, 'crate');

    // Held: nobody else may grab it.
    const refused = await b.requestAuthority(id);
    assert.equal(!refused.ok && refused.error.name, 'PROTOCOL_AUTHORITY_HELD');

    assert.equal((await a.releaseAuthority(id)).ok, true);
    await until(b, () => b.entities.get(id)?.owner === 0, 'the release');
    await until(c, () => c.entities.get(id)?.owner === 0, 'the release');

    const outcomes = await Promise.all([
      b.requestAuthority(id),
      c.requestAuthority(id),
      a.requestAuthority(id),
    ]);
    const winners = outcomes.filter((o) => o.ok);
    assert.equal(winners.length, 1, JSON.stringify(outcomes.map((o) => (o.ok ? 'ok' : o.error.name))));
    for (const o of outcomes) if (!o.ok) assert.equal(o.error.name, 'PROTOCOL_AUTHORITY_HELD');
    const winner = [b, c, a][outcomes.findIndex((o) => o.ok)] as Playground;
    for (const pg of [a, b, c]) {
      await until(pg, () => pg.entities.get(id)?.owner === winner.clientId, 'agreement on the owner');
      assert.equal(pg.isOwner(id), pg === winner);
    }
    await Promise.all([a.leave(), b.leave(), c.leave()]);
  });

  test('the holder moves the object smoothly for others; a refused move snaps back; transfer and release', async () => {
    const [a, b] = await Promise.all([joinAs('Ann', 'objects-move'), joinAs('Ben', 'objects-move')]);
    const spawned = await a.spawn({ kind: 'object', position: here });
    assert.ok(spawned.ok);
    const id = spawned.entityId;
    await until(b, () => b.entities.has(id), 'the spawn');
    const authority: string[] = [];
    b.on('authorityChanged', (e, from, to) => {
      if (e.id === id) authority.push(`${from}->${to}`);
    });

    // A legal move: applied locally at once, never corrected, seen by the other client.
    const corrected: number[] = [];
    a.on('corrected', (e) => corrected.push(e.id));
    assert.equal(a.setEntity(id, { position: { x: 2, y: 0, z: 1 } }), true);
    assert.equal(a.entities.get(id)?.position.x, 2);
    await until(b, () => Math.abs((b.entities.get(id)?.position.x ?? 0) - 2) < 0.01, 'the move');
    assert.equal(b.setEntity(id, { position: { x: 9, y: 0, z: 9 } }), false, 'B does not own it');

    // An illegal move (far beyond the speed limit): the server refuses it, A snaps back.
    const snapped = nextEvent(a, 'corrected', (e: { id: number }) => e.id === id);
    const refusal = nextEvent(a, 'error');
    a.setEntity(id, { position: { x: 900, y: 0, z: 1 } });
    const [error] = (await refusal) as [{ name: string }];
    assert.match(error.name, /PROTOCOL_INVALID_TRANSFORM|PROTOCOL_ENTITY_RATE_LIMITED/);
    await snapped;
    assert.ok(Math.abs((a.entities.get(id)?.position.x ?? 0) - 2) < 0.01, 'back where the server has it');
    assert.ok(Math.abs((b.entities.get(id)?.position.x ?? 0) - 2) < 0.01, 'B never saw the refused move');
    assert.deepEqual(corrected, [id]);

    // Transfer to B, then B releases it.
    assert.equal((await a.transferAuthority(id, b.clientId)).ok, true);
    await until(b, () => b.isOwner(id), 'the transfer');
    assert.equal(a.isOwner(id), false);
    assert.equal(b.setEntity(id, { position: { x: 2.5, y: 0, z: 1 } }), true);
    await until(a, () => Math.abs((a.entities.get(id)?.position.x ?? 0) - 2.5) < 0.01, "B's move");
    assert.equal((await b.releaseAuthority(id)).ok, true);
    await until(a, () => a.entities.get(id)?.owner === 0, 'the release');
    await until(b, () => b.entities.get(id)?.owner === 0, 'the release');
    assert.deepEqual(authority, [`${a.clientId}->${b.clientId}`, `${b.clientId}->0`]);
    await Promise.all([a.leave(), b.leave()]);
  });

  test('authority returns to the server when the holder leaves; despawn removes the object everywhere', async () => {
    const [a, b] = await Promise.all([joinAs('Ann', 'objects-leave'), joinAs('Ben', 'objects-leave')]);
    const first = await a.spawn({ kind: 'object', position: here });
    const second = await a.spawn({ kind: 'object', position: { x: 2, y: 0, z: 2 } });
    assert.ok(first.ok && second.ok);
    await until(b, () => b.entities.has(first.entityId) && b.entities.has(second.entityId), 'the spawns');

    assert.equal((await a.despawn(second.entityId)).ok, true);
    await until(b, () => !b.entities.has(second.entityId), 'the despawn');

    const revoked = nextEvent(
      b,
      'authorityChanged',
      (e: { id: number }, _from: number, to: number) => e.id === first.entityId && to === 0,
    );
    await a.leave();
    await revoked;
    assert.equal((await b.requestAuthority(first.entityId)).ok, true, 'free to grab again');
    await b.leave();
  });

  test('custom messages reach the other clients with the sender id', async () => {
    const [a, b, c] = await Promise.all([
      joinAs('Ann', 'objects-chat'),
      joinAs('Ben', 'objects-chat'),
      joinAs('Cat', 'objects-chat'),
    ]);
    const toB = nextEvent(b, 'message');
    const toC = nextEvent(c, 'message');
    let echoed = false;
    a.on('message', () => {
      echoed = true;
    });
    assert.equal(a.send('chat', { text: 'hello' }), true);
    for (const received of [await toB, await toC]) {
      assert.deepEqual(received[0], { from: a.clientId, type: 'chat', payload: { text: 'hello' } });
    }
    assert.throws(() => a.send('chat', 'x'.repeat(9000)), { name: 'COMMON_PAYLOAD_TOO_LARGE' });
    // Round trip to make sure no echo is still on its way to the sender.
    const back = nextEvent(a, 'message');
    b.send('ack', null);
    assert.equal(((await back)[0] as { from: number }).from, b.clientId);
    assert.equal(echoed, true, 'only the ack');
    await Promise.all([a.leave(), b.leave(), c.leave()]);
  });
});
