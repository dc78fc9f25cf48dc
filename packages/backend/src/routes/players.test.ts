import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PLAYER_DATA_MAX_BYTES, type PlayersJoinResult, type PlayersSaveResult } from '@plexus/protocol';
import { forEachEngine } from '../storage/engines.test-support.ts';
import {
  code,
  failure,
  OPERATOR_KEY,
  post,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';
import { partnerRpc, startEngineBackend } from './continuity.test-support.ts';

const root = tempRoot();
after(() => root.remove());
const rot = { x: 0, y: 0.6, z: 0, w: 0.8 };

forEachEngine('a returning user gets back the record saved by the last server', async (db, { t }) => {
  const { app, clock } = await startEngineBackend(db, t);
  const join = (userId: string, serverId = 'ds-a') =>
    partnerRpc<PlayersJoinResult>(app, 'players.join', { serverId, userId, playgroundId: 'pg-1' });

  assert.deepEqual((await join('ada')).body.data, { record: null, inbox: [] });
  const saved = await partnerRpc<PlayersSaveResult>(app, 'players.save', {
    serverId: 'ds-a',
    playgroundId: 'pg-1',
    players: [
      { userId: 'ada', position: { x: 1, y: 0, z: 2 }, data: { coins: 3 } },
      { userId: 'bob', position: { x: 5, y: 0, z: 5 } },
    ],
  });
  assert.equal(saved.status, 200);
  assert.deepEqual(saved.body.data, { saved: 2 });

  clock.now += 5_000;
  const left = await partnerRpc<PlayersSaveResult>(app, 'players.leave', {
    serverId: 'ds-a',
    playgroundId: 'pg-1',
    userId: 'ada',
    position: { x: 7, y: 0, z: 8 },
    rotation: rot,
    sessionMs: 5_000,
  });
  assert.equal(left.status, 200);
  assert.deepEqual(left.body.data, { saved: 1 });

  // Back a day later, on another server: the last position, rotation and data are there.
  clock.now += 86_400_000;
  const back = await join('ada', 'ds-b');
  assert.deepEqual(back.body.data, {
    record: {
      userId: 'ada',
      playgroundId: 'pg-1',
      position: { x: 7, y: 0, z: 8 },
      rotation: rot,
      data: { coins: 3 },
      updatedAt: clock.now - 86_400_000,
    },
    inbox: [],
  });
  const bob = await join('bob');
  assert.deepEqual(bob.body.data?.record?.position, { x: 5, y: 0, z: 5 });
  assert.equal(bob.body.data?.record?.rotation, null);
  assert.deepEqual(bob.body.data?.record?.data, {});
});

describe('player RPC input', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('players'));
  });
  after(() => backend.close());
  const save = (players: unknown[]) =>
    partnerRpc(backend.app, 'players.save', { serverId: 'ds-a', playgroundId: 'pg-1', players });

  test('player RPCs need the partner key', async () => {
    for (const method of ['players.join', 'players.save', 'players.leave']) {
      const url = `/api/v0/partnerRpc/${method}`;
      assert.deepEqual(failure(await post(backend.app, url, {})), code('AUTH_PARTNER_KEY_REQUIRED'));
      assert.deepEqual(
        failure(await post(backend.app, url, {}, OPERATOR_KEY)),
        code('AUTH_PARTNER_KEY_REQUIRED'),
      );
    }
  });

  test('data above PLAYER_DATA_MAX_BYTES is refused and nothing of the batch is saved', async () => {
    const data = { blob: 'x'.repeat(PLAYER_DATA_MAX_BYTES) };
    const res = await save([
      { userId: 'ok', position: { x: 1, y: 1, z: 1 } },
      { userId: 'big', data },
    ]);
    assert.deepEqual(failure(res), code('PLAYER_DATA_TOO_LARGE'));
    assert.match(res.body.error.message, /user big/);
    const leave = await partnerRpc(backend.app, 'players.leave', {
      serverId: 'ds-a',
      playgroundId: 'pg-1',
      userId: 'big',
      data,
      sessionMs: 1,
    });
    assert.deepEqual(failure(leave), code('PLAYER_DATA_TOO_LARGE'));
    const join = await partnerRpc<PlayersJoinResult>(backend.app, 'players.join', {
      serverId: 'ds-a',
      userId: 'ok',
      playgroundId: 'pg-1',
    });
    assert.equal(join.body.data?.record, null);
  });

  test('batches above 500, bad vectors, bad ids and unknown keys are bad requests', async () => {
    const many = Array.from({ length: 501 }, (_, i) => ({ userId: `u${i}` }));
    assert.deepEqual(failure(await save(many)), code('COMMON_BAD_REQUEST'));
    assert.equal((await save(many.slice(0, 500))).status, 200);
    for (const player of [
      { userId: '' },
      { userId: 'u', position: { x: 1, y: 2 } },
      { userId: 'u', rotation: { x: 0, y: 0, z: 0 } },
      { userId: 'u', data: [1, 2] },
      { userId: 'u', extra: 1 },
    ]) {
      assert.deepEqual(failure(await save([player])), code('COMMON_BAD_REQUEST'), JSON.stringify(player));
    }
    const join = await partnerRpc(backend.app, 'players.join', {
      serverId: 'ds-a',
      userId: 'u',
      playgroundId: 'no spaces',
    });
    assert.deepEqual(failure(join), code('COMMON_BAD_REQUEST'));
    const leave = await partnerRpc(backend.app, 'players.leave', {
      serverId: 'ds-a',
      playgroundId: 'pg-1',
      userId: 'u',
    });
    assert.deepEqual(failure(leave), code('COMMON_BAD_REQUEST'));
    assert.match(leave.body.error.message, /sessionMs/);
  });
});
