import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpPaths, type UserSimple } from '@plexus/protocol';
import {
  code,
  failure,
  PARTNER_KEY,
  post,
  rpcUrl,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';

const root = tempRoot();
after(() => root.remove());

async function guest(backend: TestBackend, firstName = 'Guest') {
  const res = await post<{ sessionId: string; user: UserSimple }>(backend.app, rpcUrl('auth.guest'), {
    firstName,
  });
  assert.equal(res.status, 200);
  return res.body.data as { sessionId: string; user: UserSimple };
}

/** `key` null sends no Authorization header. */
const authCheck = (backend: TestBackend, body: unknown, key: string | null = PARTNER_KEY) =>
  post<{ user: UserSimple }>(backend.app, HttpPaths.authCheck, body, key ?? undefined);

const findPlayground = (backend: TestBackend, body: unknown, key: string | null = PARTNER_KEY) =>
  post<{ playgroundId: string }>(backend.app, HttpPaths.matchmakingFind, body, key ?? undefined);

describe('authCheck.getUserBySessionId', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('authcheck'), { sessionTtlMs: 60_000 });
  });
  after(() => backend.close());

  test('returns exactly the User Simple fields of the session user', async () => {
    const reg = await post<{ sessionId: string; user: UserSimple }>(backend.app, rpcUrl('auth.register'), {
      email: 'ada@example.com',
      password: 'correct horse',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    const { sessionId } = reg.body.data as { sessionId: string };
    const plain = await authCheck(backend, { sessionId });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.body.error, { status: false, code: 0, message: '' });
    const user = plain.body.data?.user as UserSimple;
    assert.deepEqual(user, {
      id: user.id,
      firstName: 'Ada',
      lastName: 'Lovelace',
      privacyMode: 0,
      avatar: '',
      companyName: '',
      companyTitle: '',
    });

    const avatar3D = { assetId: 'a1', assetSkins: { hair: 'red' }, avatarUrl: '', avatarUserId: 'u9' };
    await post(
      backend.app,
      rpcUrl('profile.update'),
      { privacyMode: 1, avatar3D, companyName: 'ACME', companyTitle: 'CTO', avatar: 'https://x.io/a.png' },
      sessionId,
    );
    const full = await authCheck(backend, { sessionId });
    assert.deepEqual(full.body.data, {
      user: {
        id: user.id,
        firstName: 'Ada',
        lastName: 'Lovelace',
        privacyMode: 1,
        avatar: 'https://x.io/a.png',
        avatar3D,
        companyName: 'ACME',
        companyTitle: 'CTO',
      },
    });
  });

  test('missing or wrong partner key is AUTH_PARTNER_KEY_REQUIRED 401', async () => {
    const { sessionId } = await guest(backend);
    assert.deepEqual(
      failure(await authCheck(backend, { sessionId }, null)),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    assert.deepEqual(
      failure(await authCheck(backend, { sessionId }, 'wrong-key')),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    assert.deepEqual(
      failure(await authCheck(backend, { sessionId }, `${PARTNER_KEY}x`)),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    assert.deepEqual(
      failure(
        await post(backend.app, HttpPaths.authCheck, { sessionId }, undefined, {
          authorization: PARTNER_KEY,
        }),
      ),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    // A session id is not a partner key.
    assert.deepEqual(
      failure(await authCheck(backend, { sessionId }, sessionId)),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    // The key is checked before the body is even parsed.
    assert.deepEqual(
      failure(await authCheck(backend, '{not json', 'wrong')),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    assert.deepEqual(
      failure(await findPlayground(backend, { userId: 'x' }, null)),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
  });

  test('unknown session is AUTH_INVALID_SESSION 401', async () => {
    const res = await authCheck(backend, { sessionId: 'A'.repeat(43) });
    assert.deepEqual(failure(res), code('AUTH_INVALID_SESSION'));
    assert.equal(res.body.data, null);
  });

  test('expired session is AUTH_INVALID_SESSION 401', async () => {
    const { sessionId } = await guest(backend);
    const start = backend.clock.now;
    try {
      backend.clock.now = start + 59_999;
      assert.equal((await authCheck(backend, { sessionId })).status, 200);
      backend.clock.now = start + 60_000;
      assert.deepEqual(failure(await authCheck(backend, { sessionId })), code('AUTH_INVALID_SESSION'));
    } finally {
      backend.clock.now = start;
    }
  });

  test('revoked session (after logout) is AUTH_INVALID_SESSION 401', async () => {
    const { sessionId } = await guest(backend);
    assert.equal((await authCheck(backend, { sessionId })).status, 200);
    assert.equal((await post(backend.app, rpcUrl('auth.logout'), {}, sessionId)).status, 200);
    assert.deepEqual(failure(await authCheck(backend, { sessionId })), code('AUTH_INVALID_SESSION'));
  });

  test('bad bodies are enveloped 400s', async () => {
    assert.deepEqual(failure(await authCheck(backend, '{"sessionId":')), code('COMMON_MALFORMED_JSON'));
    assert.deepEqual(failure(await authCheck(backend, {})), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(failure(await authCheck(backend, { sessionId: 12 })), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(failure(await authCheck(backend, { sessionId: '' })), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(
      failure(await authCheck(backend, { sessionId: 'a', extra: 1 })),
      code('COMMON_BAD_REQUEST'),
    );
  });
});

describe('matchmaking.findPlayground', () => {
  test('fills a playground to capacity, then opens the next; a re-match keeps the seat', async () => {
    const backend = await startTestBackend(root.sub('fill'), { playgroundCapacity: 3 });
    try {
      const users = await Promise.all(Array.from({ length: 7 }, (_, i) => guest(backend, `U${i}`)));
      const ids: string[] = [];
      for (const { user } of users) {
        const res = await findPlayground(backend, { userId: user.id });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        ids.push(res.body.data?.playgroundId as string);
      }
      assert.deepEqual(ids, [
        'public-lobby-1',
        'public-lobby-1',
        'public-lobby-1',
        'public-lobby-2',
        'public-lobby-2',
        'public-lobby-2',
        'public-lobby-3',
      ]);
      const again = await findPlayground(backend, { userId: users[0]?.user.id });
      assert.equal(again.body.data?.playgroundId, 'public-lobby-1');
    } finally {
      await backend.close();
    }
  });

  test('playground types are separate pools; unknown criteria keys are ignored', async () => {
    const backend = await startTestBackend(root.sub('types'), { playgroundCapacity: 2 });
    try {
      const { user } = await guest(backend);
      const lobby = await findPlayground(backend, { userId: user.id });
      const expo = await findPlayground(backend, {
        userId: user.id,
        criteria: { playgroundType: 'expo-hall', region: 'eu', level: 3 },
      });
      assert.equal(lobby.body.data?.playgroundId, 'public-lobby-1');
      assert.equal(expo.body.data?.playgroundId, 'public-expo-hall-1');
      const both = await findPlayground(backend, { userId: user.id, criteria: {} });
      assert.equal(both.body.data?.playgroundId, 'public-lobby-1');
    } finally {
      await backend.close();
    }
  });

  test('seats older than the seat TTL stop counting', async () => {
    const backend = await startTestBackend(root.sub('ttl'), {
      playgroundCapacity: 1,
      matchmakingSeatTtlMs: 1_000,
    });
    try {
      const a = await guest(backend, 'A');
      const b = await guest(backend, 'B');
      assert.equal(
        (await findPlayground(backend, { userId: a.user.id })).body.data?.playgroundId,
        'public-lobby-1',
      );
      assert.equal(
        (await findPlayground(backend, { userId: b.user.id })).body.data?.playgroundId,
        'public-lobby-2',
      );
      backend.clock.now += 1_000;
      // Both seats are stale now: the lowest playground with room is public-lobby-1 again.
      assert.equal(
        (await findPlayground(backend, { userId: b.user.id })).body.data?.playgroundId,
        'public-lobby-1',
      );
      assert.equal(
        (await findPlayground(backend, { userId: a.user.id })).body.data?.playgroundId,
        'public-lobby-2',
      );
    } finally {
      await backend.close();
    }
  });

  test('bad input: missing userId, wrong types, bad playgroundType, unknown keys, unknown user', async () => {
    const backend = await startTestBackend(root.sub('bad'));
    try {
      const { user } = await guest(backend);
      const bad: unknown[] = [
        {},
        { userId: 5 },
        { userId: '' },
        { userId: user.id, criteria: { playgroundType: 'Lobby!' } },
        { userId: user.id, criteria: { playgroundType: 'x'.repeat(33) } },
        { userId: user.id, criteria: 'lobby' },
        { userId: user.id, extra: true },
        { userId: 'no-such-user' },
      ];
      for (const body of bad) {
        assert.deepEqual(
          failure(await findPlayground(backend, body)),
          code('COMMON_BAD_REQUEST'),
          JSON.stringify(body),
        );
      }
      assert.deepEqual(failure(await findPlayground(backend, '[')), code('COMMON_MALFORMED_JSON'));
    } finally {
      await backend.close();
    }
  });

  test('200 concurrent calls for distinct users never overfill a playground', async () => {
    const capacity = 7;
    const backend = await startTestBackend(root.sub('concurrent'), { playgroundCapacity: capacity });
    try {
      const users = await Promise.all(Array.from({ length: 200 }, (_, i) => guest(backend, `C${i}`)));
      const results = await Promise.all(
        users.map(({ user }) => findPlayground(backend, { userId: user.id })),
      );
      const population = new Map<string, number>();
      for (const res of results) {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const id = res.body.data?.playgroundId as string;
        population.set(id, (population.get(id) ?? 0) + 1);
      }
      for (const [id, n] of population) assert.ok(n <= capacity, `${id} has ${n} > ${capacity}`);
      assert.equal(population.size, Math.ceil(200 / capacity));
      const metrics = await backend.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(
        metrics.body,
        /plexus_backend_matchmaking_seats_total\{outcome="opened",component="backend"\} 29/,
      );
    } finally {
      await backend.close();
    }
  });
});

describe('users.getByIds', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('users-by-ids'), { sessionTtlMs: 60_000 });
  });
  after(() => backend.close());

  const byIds = (body: unknown, key: string | null = PARTNER_KEY) =>
    post<{ users: UserSimple[] }>(backend.app, HttpPaths.usersGetByIds, body, key ?? undefined);

  test('answers the current profile of each known id, leaving unknown ids out', async () => {
    const a = await guest(backend, 'Ada');
    const b = await guest(backend, 'Bob');
    const update = await post(backend.app, rpcUrl('profile.update'), { privacyMode: 1 }, a.sessionId);
    assert.equal(update.status, 200);
    const res = await byIds({ userIds: [a.user.id, 'no-such-user', b.user.id, a.user.id] });
    assert.equal(res.status, 200);
    const users = res.body.data?.users ?? [];
    assert.deepEqual(
      users.map((u) => [u.id, u.firstName, u.privacyMode]).sort(),
      [
        [a.user.id, 'Ada', 1],
        [b.user.id, 'Bob', 0],
      ].sort(),
    );
  });

  test('needs the partner key and a bounded, non-empty list', async () => {
    assert.deepEqual(failure(await byIds({ userIds: ['x'] }, null)), code('AUTH_PARTNER_KEY_REQUIRED'));
    assert.deepEqual(failure(await byIds({ userIds: [] })), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(
      failure(await byIds({ userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) })),
      code('COMMON_BAD_REQUEST'),
    );
    assert.deepEqual(failure(await byIds({ userIds: ['x'], extra: 1 })), code('COMMON_BAD_REQUEST'));
  });
});
