import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PartyView } from '@plexus/protocol';
import { forEachEngine } from '../storage/engines.test-support.ts';
import {
  failure,
  OPERATOR_KEY,
  post,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';
import {
  code,
  createPlayground,
  dataOf,
  find,
  guest,
  join,
  operatorRpc,
  SEAT_TTL_MS,
  startMatchBackend,
} from './playgrounds.test-support.ts';

const root = tempRoot();
after(() => root.remove());

const seatOf = async (res: Promise<{ status: number; body: { data: { playgroundId: string } | null } }>) => {
  const r = await res;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data?.playgroundId;
};

/** Guests keyed by the given names (each also the first name). */
async function named<K extends string>(
  app: Parameters<typeof guest>[0],
  names: readonly K[],
): Promise<Record<K, { sessionId: string; id: string }>> {
  const entries: [K, { sessionId: string; id: string }][] = [];
  for (const name of names) {
    const g = await guest(app, name);
    entries.push([name, { sessionId: g.sessionId, id: g.user.id }]);
  }
  return Object.fromEntries(entries) as Record<K, { sessionId: string; id: string }>;
}

async function users(app: Parameters<typeof guest>[0], n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await guest(app, `U${i}`)).user.id);
  return ids;
}

forEachEngine(
  'a full instance opens the next one, up to maxInstances; then MATCH_PLAYGROUND_FULL',
  async (db, { t }) => {
    const { app, clock } = await startMatchBackend(db, t);
    await createPlayground(app, {
      id: 'expo-hall',
      name: 'Expo',
      type: 'expo',
      capacity: 2,
      maxInstances: 3,
    });
    const ids = await users(app, 7);
    const criteria = { playgroundType: 'expo' };
    const seats: (string | undefined)[] = [];
    for (const userId of ids.slice(0, 6)) seats.push(await seatOf(find(app, { userId, criteria })));
    assert.deepEqual(seats, [
      'expo-hall',
      'expo-hall',
      'expo-hall#2',
      'expo-hall#2',
      'expo-hall#3',
      'expo-hall#3',
    ]);
    const full = await find(app, { userId: ids[6], criteria });
    assert.deepEqual(failure(full), code('MATCH_PLAYGROUND_FULL'));
    // Asking again keeps the seat (and refreshes it).
    assert.equal(await seatOf(find(app, { userId: ids[2], criteria })), 'expo-hall#2');

    // Seats are reservations: once they age out, their room is free again, lowest instance first.
    clock.now += SEAT_TTL_MS - 1;
    assert.equal(
      await seatOf(find(app, { userId: ids[2], criteria })),
      'expo-hall#2',
      'refreshed just in time',
    );
    clock.now += 1;
    assert.equal(await seatOf(find(app, { userId: ids[6], criteria })), 'expo-hall');
    const population = dataOf(
      await operatorRpc<{ playground: { population: number } }>(app, 'playgrounds.get', { id: 'expo-hall' }),
    );
    assert.equal(population.playground.population, 2, 'ids[2] (refreshed) and ids[6]');
  },
);

forEachEngine(
  'criteria match open public catalogue playgrounds by type, tags and region, else fall back',
  async (db, { t }) => {
    const { app } = await startMatchBackend(db, t);
    await createPlayground(app, {
      id: 'eu-tech',
      name: 'EU',
      type: 'expo',
      capacity: 10,
      tags: ['tech', 'b2b'],
      region: 'eu',
    });
    await createPlayground(app, {
      id: 'us-tech',
      name: 'US',
      type: 'expo',
      capacity: 10,
      tags: ['tech'],
      region: 'us',
    });
    await createPlayground(app, {
      id: 'secret',
      name: 'S',
      type: 'expo',
      capacity: 10,
      visibility: 'private',
      region: 'ap',
    });
    await createPlayground(app, { id: 'lobby-main', name: 'Lobby', type: 'lobby', capacity: 10 });
    const [a, b, c, d, e, f] = await users(app, 6);
    assert.equal(
      await seatOf(find(app, { userId: a, criteria: { playgroundType: 'expo', region: 'us' } })),
      'us-tech',
    );
    assert.equal(
      await seatOf(find(app, { userId: b, criteria: { playgroundType: 'expo', tags: ['tech', 'b2b'] } })),
      'eu-tech',
    );
    // Oldest matching playground first.
    assert.equal(await seatOf(find(app, { userId: c, criteria: { playgroundType: 'expo' } })), 'eu-tech');
    // A private playground is never matched: region ap has only the private one → auto-opened fallback.
    assert.equal(
      await seatOf(find(app, { userId: d, criteria: { playgroundType: 'expo', region: 'ap' } })),
      'public-expo-1',
    );
    assert.equal(
      await seatOf(find(app, { userId: e, criteria: { playgroundType: 'expo', tags: ['nope'] } })),
      'public-expo-1',
    );
    // No criteria: type lobby, and a catalogue lobby wins over the auto-opened ones.
    assert.equal(await seatOf(find(app, { userId: f })), 'lobby-main');
    // Unknown criteria keys are ignored; bad known ones are refused.
    assert.equal(
      await seatOf(find(app, { userId: f, criteria: { playgroundType: 'lobby', future: 1 } })),
      'lobby-main',
    );
    for (const criteria of [
      { tags: 'tech' },
      { tags: ['UP'] },
      { region: 'EU' },
      { playgroundType: 'A B' },
    ]) {
      assert.deepEqual(failure(await find(app, { userId: f, criteria })), code('COMMON_BAD_REQUEST'));
    }
  },
);

forEachEngine(
  'joinPlayground: ad-hoc ids unchanged, catalogue ids to an instance with room',
  async (db, { t }) => {
    const { app } = await startMatchBackend(db, t);
    await createPlayground(app, {
      id: 'expo-hall',
      name: 'Expo',
      type: 'expo',
      capacity: 1,
      maxInstances: 3,
    });
    const [a, b, c, d] = await users(app, 4);
    assert.equal(await seatOf(join(app, { userId: a, playgroundId: 'my-room' })), 'my-room');
    assert.equal(await seatOf(join(app, { userId: a, playgroundId: 'my-room#7' })), 'my-room#7');
    assert.equal(
      await seatOf(join(app, { userId: a, playgroundId: 'expo-hall#3' })),
      'expo-hall#3',
      'explicit instance',
    );
    assert.equal(
      await seatOf(join(app, { userId: a, playgroundId: 'expo-hall' })),
      'expo-hall#3',
      'keeps its seat',
    );
    assert.equal(await seatOf(join(app, { userId: b, playgroundId: 'expo-hall' })), 'expo-hall');
    // An explicit instance that is full gives the lowest one with room instead.
    assert.equal(await seatOf(join(app, { userId: c, playgroundId: 'expo-hall#3' })), 'expo-hall#2');
    assert.deepEqual(
      failure(await join(app, { userId: d, playgroundId: 'expo-hall' })),
      code('MATCH_PLAYGROUND_FULL'),
    );
    for (const playgroundId of ['expo-hall#4', 'expo-hall#1', 'expo-hall#02', 'expo-hall#x']) {
      assert.deepEqual(
        failure(await join(app, { userId: d, playgroundId })),
        code('MATCH_PLAYGROUND_NOT_FOUND'),
        playgroundId,
      );
    }
    assert.deepEqual(
      failure(await join(app, { userId: 'nobody', playgroundId: 'expo-hall' })),
      code('COMMON_BAD_REQUEST'),
    );
    for (const body of [
      { userId: d },
      { userId: d, playgroundId: 'a b' },
      { userId: d, playgroundId: 'x', extra: 1 },
    ]) {
      assert.deepEqual(failure(await join(app, body)), code('COMMON_BAD_REQUEST'));
    }
  },
);

forEachEngine(
  'private and closed playgrounds: by invite code only (or back to a held seat); closed keeps only existing seats',
  async (db, { t }) => {
    const { app } = await startMatchBackend(db, t);
    const room = await createPlayground(app, {
      id: 'board',
      name: 'Board',
      type: 'meeting',
      capacity: 5,
      visibility: 'private',
    });
    const inviteCode = room.inviteCode ?? '';
    const [a, b, c] = await users(app, 3);
    // Issue 10 item 2: the id alone (it shows in listings and URLs) does not open it.
    assert.deepEqual(
      failure(await join(app, { userId: a, playgroundId: 'board' })),
      code('MATCH_INVITE_INVALID'),
    );
    assert.equal(await seatOf(join(app, { userId: a, playgroundId: 'board', inviteCode })), 'board');
    assert.equal(
      await seatOf(join(app, { userId: a, playgroundId: 'board' })),
      'board',
      'back to a held seat',
    );
    assert.equal(
      await seatOf(join(app, { userId: b, playgroundId: 'board', inviteCode: inviteCode.toLowerCase() })),
      'board',
    );
    assert.deepEqual(
      failure(await join(app, { userId: c, playgroundId: 'board', inviteCode: 'WRONGCODE' })),
      code('MATCH_INVITE_INVALID'),
    );
    assert.deepEqual(
      failure(await join(app, { userId: c, playgroundId: 'ad-hoc', inviteCode })),
      code('MATCH_INVITE_INVALID'),
    );
    // Never matched, even when asked for its type.
    assert.equal(
      await seatOf(find(app, { userId: c, criteria: { playgroundType: 'meeting' } })),
      'public-meeting-1',
    );

    dataOf(await operatorRpc(app, 'playgrounds.close', { id: 'board' }));
    assert.equal(
      await seatOf(join(app, { userId: a, playgroundId: 'board' })),
      'board',
      'a seat holder may come back',
    );
    assert.deepEqual(
      failure(await join(app, { userId: c, playgroundId: 'board' })),
      code('MATCH_PLAYGROUND_CLOSED'),
    );
  },
);

forEachEngine('a party lands in one instance with room for all, or nowhere', async (db, { t }) => {
  const { app } = await startMatchBackend(db, t);
  await createPlayground(app, { id: 'arena', name: 'Arena', type: 'arena', capacity: 4, maxInstances: 2 });
  const { lead, m2, m3, m4, m5, solo1, solo2, outsider } = await named(app, [
    'lead',
    'm2',
    'm3',
    'm4',
    'm5',
    'solo1',
    'solo2',
    'outsider',
  ]);
  const party = (method: string, who: { sessionId: string }, body: Record<string, unknown> = {}) =>
    post<Record<string, unknown>>(app, `/api/v0/rpc/party.${method}`, body, who.sessionId);
  const criteria = { playgroundType: 'arena' };

  // Two solo players take instance 1; a party of three cannot fit there (2 + 3 > 4) → instance 2.
  assert.equal(await seatOf(find(app, { userId: solo1.id, criteria })), 'arena');
  assert.equal(await seatOf(find(app, { userId: solo2.id, criteria })), 'arena');
  const created = dataOf(await party('create', lead)) as { partyId: string; code: string };
  for (const member of [m2, m3]) dataOf(await party('join', member, { code: created.code }));
  const partyId = created.partyId;
  assert.equal(await seatOf(find(app, { userId: lead.id, criteria, partyId })), 'arena#2');
  // The others get the seat the party already holds, whatever their criteria.
  assert.equal(await seatOf(find(app, { userId: m2.id, partyId })), 'arena#2');
  assert.equal(await seatOf(find(app, { userId: m3.id, criteria, partyId })), 'arena#2');
  // A member who joins later sits beside the party while its instance has room…
  dataOf(await party('join', m4, { code: created.code }));
  assert.equal(await seatOf(find(app, { userId: m4.id, criteria, partyId })), 'arena#2');
  // …and is refused, not split off, once it has none.
  dataOf(await party('join', m5, { code: created.code }));
  assert.deepEqual(
    failure(await find(app, { userId: m5.id, criteria, partyId })),
    code('MATCH_PARTY_NO_ROOM'),
  );

  assert.deepEqual(
    failure(await find(app, { userId: outsider.id, criteria, partyId })),
    code('MATCH_PARTY_NOT_MEMBER'),
  );
  assert.deepEqual(
    failure(await find(app, { userId: outsider.id, criteria, partyId: 'no-such-party' })),
    code('MATCH_PARTY_NOT_FOUND'),
  );
});

forEachEngine('a new party needs one instance with room for every member', async (db, { t }) => {
  const { app } = await startMatchBackend(db, t, { playgroundCapacity: 3 });
  await createPlayground(app, { id: 'duo', name: 'Duo', type: 'duo', capacity: 2, maxInstances: 5 });
  const { lead, m2, m3 } = await named(app, ['lead', 'm2', 'm3']);
  const party = (method: string, who: { sessionId: string }, body: Record<string, unknown> = {}) =>
    post<Record<string, unknown>>(app, `/api/v0/rpc/party.${method}`, body, who.sessionId);
  const { partyId, code: partyCode } = dataOf(await party('create', lead)) as {
    partyId: string;
    code: string;
  };
  dataOf(await party('join', m2, { code: partyCode }));
  dataOf(await party('join', m3, { code: partyCode }));
  // Three members never fit a capacity-2 instance: nobody is seated.
  assert.deepEqual(
    failure(await find(app, { userId: lead.id, criteria: { playgroundType: 'duo' }, partyId })),
    code('MATCH_PARTY_NO_ROOM'),
  );
  const population = dataOf(
    await operatorRpc<{ playground: { population: number } }>(app, 'playgrounds.get', { id: 'duo' }),
  );
  assert.equal(population.playground.population, 0);
  // Auto-opened playgrounds seat parties too (capacity 3 here).
  assert.equal(
    await seatOf(find(app, { userId: m2.id, criteria: { playgroundType: 'casual' }, partyId })),
    'public-casual-1',
  );
  assert.equal(await seatOf(find(app, { userId: m3.id, partyId })), 'public-casual-1');
  const solo = await guest(app, 'Solo');
  assert.equal(
    await seatOf(find(app, { userId: solo.user.id, criteria: { playgroundType: 'casual' } })),
    'public-casual-2',
  );
});

describe('party and catalogue player RPCs', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('party'));
  });
  after(() => backend.close());

  const rpc = (method: string, sessionId: string | undefined, body: unknown = {}) =>
    post<Record<string, unknown>>(backend.app, `/api/v0/rpc/${method}`, body, sessionId);

  test('every party and playground RPC needs a live session', async () => {
    for (const method of [
      'party.create',
      'party.join',
      'party.leave',
      'party.get',
      'playgrounds.browse',
      'playgrounds.resolveInvite',
    ]) {
      assert.deepEqual(failure(await rpc(method, undefined)), code('AUTH_SESSION_REQUIRED'), method);
      assert.deepEqual(failure(await rpc(method, 'A'.repeat(43))), code('AUTH_INVALID_SESSION'), method);
    }
  });

  test('create, join, get and leave a party; leadership passes; the last one out deletes it', async () => {
    const ada = await guest(backend.app, 'Ada');
    const bob = await guest(backend.app, 'Bob');
    const eve = await guest(backend.app, 'Eve');
    dataOf(await rpc('profile.update', eve.sessionId, { privacyMode: 1 }));
    assert.deepEqual(dataOf(await rpc('party.get', ada.sessionId)), { party: null });

    const created = dataOf(await rpc('party.create', ada.sessionId)) as {
      partyId: string;
      code: string;
      leaderId: string;
    };
    assert.match(created.code, /^[A-Z2-9]{8}$/);
    assert.equal(created.leaderId, ada.user.id);
    backend.clock.now += 10;
    dataOf(await rpc('party.join', bob.sessionId, { code: created.code.toLowerCase() }));
    backend.clock.now += 10;
    const full = dataOf(
      await rpc('party.join', eve.sessionId, { code: created.code }),
    ) as unknown as PartyView;
    assert.deepEqual(full, {
      partyId: created.partyId,
      code: created.code,
      leaderId: ada.user.id,
      maxSize: 8,
      members: [
        { userId: ada.user.id, displayName: 'Ada', joinedAt: backend.clock.now - 20 },
        { userId: bob.user.id, displayName: 'Bob', joinedAt: backend.clock.now - 10 },
        { userId: eve.user.id, displayName: 'Anonymous', joinedAt: backend.clock.now },
      ],
    });
    // Eve sees herself; to the others the incognito member has no user id.
    const seenByBob = {
      ...full,
      members: full.members.map((m) => (m.userId === eve.user.id ? { ...m, userId: null } : m)),
    };
    assert.deepEqual(dataOf(await rpc('party.get', bob.sessionId)), { party: seenByBob });
    // Joining again changes nothing.
    assert.deepEqual(dataOf(await rpc('party.join', bob.sessionId, { code: created.code })), seenByBob);

    assert.deepEqual(dataOf(await rpc('party.leave', ada.sessionId)), { left: true });
    assert.deepEqual(dataOf(await rpc('party.leave', ada.sessionId)), { left: false });
    const afterLeave = dataOf(await rpc('party.get', bob.sessionId)) as {
      party: { leaderId: string; members: unknown[] };
    };
    assert.equal(afterLeave.party.leaderId, bob.user.id, 'the longest-standing member leads');
    assert.equal(afterLeave.party.members.length, 2);
    dataOf(await rpc('party.leave', bob.sessionId));
    dataOf(await rpc('party.leave', eve.sessionId));
    assert.deepEqual(
      failure(await rpc('party.join', ada.sessionId, { code: created.code })),
      code('MATCH_PARTY_NOT_FOUND'),
    );
  });

  test('a party holds at most 8; creating or joining another leaves the current one', async () => {
    const { first, ...others } = await named(backend.app, [
      'first',
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
      'p6',
      'p7',
      'late',
    ]);
    const { p1, late } = others;
    const rest = Object.values(others);
    const { code: partyCode, partyId } = dataOf(await rpc('party.create', first.sessionId)) as {
      code: string;
      partyId: string;
    };
    for (const m of rest.slice(0, 7)) dataOf(await rpc('party.join', m.sessionId, { code: partyCode }));
    assert.deepEqual(
      failure(await rpc('party.join', late.sessionId, { code: partyCode })),
      code('MATCH_PARTY_FULL'),
    );
    const own = dataOf(await rpc('party.create', p1.sessionId)) as { partyId: string };
    assert.notEqual(own.partyId, partyId);
    const old = dataOf(await rpc('party.get', first.sessionId)) as { party: { members: unknown[] } };
    assert.equal(old.party.members.length, 7, 'the creator of the new party left the old one');
    dataOf(await rpc('party.join', late.sessionId, { code: partyCode }));
    assert.deepEqual(
      failure(await rpc('party.join', first.sessionId, { code: 'NOSUCHCODE' })),
      code('MATCH_PARTY_NOT_FOUND'),
    );
    for (const body of [{}, { code: '' }, { code: 5 }, { code: partyCode, x: 1 }]) {
      assert.deepEqual(failure(await rpc('party.join', first.sessionId, body)), code('COMMON_BAD_REQUEST'));
    }
    assert.deepEqual(
      failure(await rpc('party.create', first.sessionId, { name: 'x' })),
      code('COMMON_BAD_REQUEST'),
    );
  });

  test('browse lists open public playgrounds with their population; resolveInvite opens private ones', async () => {
    const app = backend.app;
    await createPlayground(app, {
      id: 'gallery',
      name: 'Gallery',
      type: 'art',
      capacity: 10,
      tags: ['paint'],
      region: 'eu',
    });
    await createPlayground(app, {
      id: 'atelier',
      name: 'Atelier',
      type: 'art',
      capacity: 10,
      tags: ['sculpt'],
    });
    const vip = await createPlayground(app, {
      id: 'vip',
      name: 'VIP',
      type: 'art',
      capacity: 10,
      visibility: 'private',
    });
    await createPlayground(app, { id: 'shut', name: 'Shut', type: 'art', capacity: 10 });
    dataOf(await operatorRpc(app, 'playgrounds.close', { id: 'shut' }, OPERATOR_KEY));
    const viewer = await guest(app, 'Viewer');
    for (const name of ['V1', 'V2']) {
      const { user } = await guest(app, name);
      dataOf(await join(app, { userId: user.id, playgroundId: 'gallery' }));
    }
    const browse = async (body: Record<string, unknown>) =>
      dataOf(await rpc('playgrounds.browse', viewer.sessionId, { type: 'art', ...body })) as {
        playgrounds: { id: string; population: number }[];
        nextCursor: string | null;
      };
    const all = await browse({});
    assert.deepEqual(
      all.playgrounds.map((p) => p.id),
      ['atelier', 'gallery'],
    );
    assert.deepEqual(all.playgrounds[1], {
      id: 'gallery',
      name: 'Gallery',
      type: 'art',
      tags: ['paint'],
      region: 'eu',
      capacity: 10,
      maxInstances: 1,
      population: 2,
    });
    assert.deepEqual(
      (await browse({ tags: ['sculpt'] })).playgrounds.map((p) => p.id),
      ['atelier'],
    );
    assert.deepEqual(
      (await browse({ region: 'eu' })).playgrounds.map((p) => p.id),
      ['gallery'],
    );
    assert.deepEqual(await browse({ limit: 1 }).then((r) => r.nextCursor), 'atelier');
    assert.deepEqual(
      failure(await rpc('playgrounds.browse', viewer.sessionId, { visibility: 'private' })),
      code('COMMON_BAD_REQUEST'),
    );

    const resolve = (inviteCode: unknown) =>
      rpc('playgrounds.resolveInvite', viewer.sessionId, { inviteCode });
    assert.deepEqual(dataOf(await resolve(` ${vip.inviteCode?.toLowerCase()} `)), { playgroundId: 'vip' });
    assert.deepEqual(failure(await resolve('NOPE')), code('MATCH_INVITE_INVALID'));
    assert.deepEqual(failure(await resolve('')), code('COMMON_BAD_REQUEST'));
    dataOf(await operatorRpc(app, 'playgrounds.close', { id: 'vip' }));
    assert.deepEqual(failure(await resolve(vip.inviteCode)), code('MATCH_PLAYGROUND_CLOSED'));
  });
});
