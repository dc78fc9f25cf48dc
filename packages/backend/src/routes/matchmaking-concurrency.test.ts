import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, DEV_SECRETS } from '@plexus/kit';
import { type Envelope, ErrorCodes, HttpPaths } from '@plexus/protocol';
import { loadBackendConfig } from '../config.ts';
import { startBackend } from '../start.ts';
import { createEngineTarget, ENGINES } from '../storage/engines.test-support.ts';

// 200 simultaneous matchmaking requests over real HTTP against a listening backend, on each engine:
// seats are decided in transactions holding the playground's lock, so no instance is ever overfilled.

const CALLS = 200;

async function call<T>(
  base: string,
  path: string,
  body: unknown,
  bearer?: string,
): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

const ok = async <T>(pending: Promise<{ status: number; body: Envelope<T> }>): Promise<T> => {
  const res = await pending;
  assert.equal(res.status, 200, JSON.stringify(res.body.error));
  return res.body.data as T;
};

/** Players per instance. */
function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

for (const engine of ENGINES) {
  test(`${CALLS} simultaneous requests never overfill an instance [${engine}]`, {
    timeout: 120_000,
  }, async (t) => {
    const target = await createEngineTarget(engine, t);
    if (!target) return;
    const config = loadBackendConfig({ ...target.env, PLEXUS_BACKEND_PORT: '0' });
    const backend = await startBackend(config, {
      logger: createLogger({ component: 'backend', level: 'silent' }),
    });
    t.after(() => backend.close());
    const base = backend.url;
    const operator = (method: string, body: unknown) =>
      ok(call(base, `${HttpPaths.operatorRpcPrefix}${method}`, body, DEV_SECRETS.operatorKey));
    const partner = <T>(path: string, body: unknown) => call<T>(base, path, body, DEV_SECRETS.partnerKey);

    const guests = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        ok(
          call<{ sessionId: string; user: { id: string } }>(base, `${HttpPaths.rpcPrefix}auth.guest`, {
            firstName: `G${i}`,
          }),
        ),
      ),
    );
    const userIds = guests.map((g) => g.user.id);
    await operator('playgrounds.create', {
      id: 'rush',
      name: 'Rush',
      type: 'rush',
      capacity: 7,
      maxInstances: 30,
    });
    await operator('playgrounds.create', {
      id: 'crush',
      name: 'Crush',
      type: 'crush',
      capacity: 10,
      maxInstances: 15,
    });
    await operator('playgrounds.create', {
      id: 'party-hall',
      name: 'Parties',
      type: 'party',
      capacity: 20,
      maxInstances: 20,
    });

    // findPlayground: 200 players, capacity 7 → 28 full instances and one with the last 4.
    const found = await Promise.all(
      userIds.map((userId) =>
        ok(
          partner<{ playgroundId: string }>(HttpPaths.matchmakingFind, {
            userId,
            criteria: { playgroundType: 'rush' },
          }),
        ),
      ),
    );
    const rush = tally(found.map((f) => f.playgroundId));
    assert.ok(
      [...rush.values()].every((n) => n <= 7),
      JSON.stringify([...rush]),
    );
    assert.equal(rush.size, 29);
    assert.deepEqual([...rush.values()].sort((a, b) => a - b).slice(0, 2), [4, 7]);

    // joinPlayground: room for 150; the other 50 are told the playground is full.
    const joined = await Promise.all(
      userIds.map((userId) =>
        partner<{ playgroundId: string }>(HttpPaths.matchmakingJoin, { userId, playgroundId: 'crush' }),
      ),
    );
    const seated = joined.filter((r) => r.status === 200).map((r) => r.body.data?.playgroundId ?? '');
    const refused = joined.filter((r) => r.status !== 200);
    assert.equal(seated.length, 150);
    assert.ok(refused.every((r) => r.body.error.code === ErrorCodes.MATCH_PLAYGROUND_FULL.code));
    const crush = tally(seated);
    assert.equal(crush.size, 15);
    assert.ok([...crush.values()].every((n) => n === 10));

    // Parties: 25 parties of 8, every member asking at once; two parties fit an instance of 20.
    const parties: { partyId: string; members: string[] }[] = [];
    for (let p = 0; p < CALLS / 8; p++) {
      const group = guests.slice(p * 8, p * 8 + 8);
      const [lead, ...rest] = group;
      const created = await ok(
        call<{ partyId: string; code: string }>(
          base,
          `${HttpPaths.rpcPrefix}party.create`,
          {},
          lead?.sessionId,
        ),
      );
      for (const member of rest) {
        await ok(call(base, `${HttpPaths.rpcPrefix}party.join`, { code: created.code }, member.sessionId));
      }
      parties.push({ partyId: created.partyId, members: group.map((g) => g.user.id) });
    }
    const partySeats = await Promise.all(
      parties.flatMap(({ partyId, members }) =>
        members.map(async (userId) => {
          const res = await ok(
            partner<{ playgroundId: string }>(HttpPaths.matchmakingFind, {
              userId,
              partyId,
              criteria: { playgroundType: 'party' },
            }),
          );
          return { partyId, playgroundId: res.playgroundId };
        }),
      ),
    );
    for (const { partyId } of parties) {
      const places = new Set(partySeats.filter((s) => s.partyId === partyId).map((s) => s.playgroundId));
      assert.equal(places.size, 1, `party ${partyId} was split: ${[...places]}`);
    }
    const halls = tally(partySeats.map((s) => s.playgroundId));
    assert.ok(
      [...halls.values()].every((n) => n <= 20 && n % 8 === 0),
      JSON.stringify([...halls]),
    );
    assert.equal(halls.size, 13);
  });
}
