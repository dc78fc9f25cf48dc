import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CHECKPOINT_MAX_BYTES,
  type CheckpointClaimResult,
  type CheckpointWriteResult,
  type PlaygroundCheckpoint,
} from '@plexus/protocol';
import { forEachEngine } from '../storage/engines.test-support.ts';
import {
  code,
  failure,
  OPERATOR_KEY,
  PARTNER_KEY,
  post,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';
import { metricValue, operatorRpc, partnerRpc, startEngineBackend } from './continuity.test-support.ts';

const root = tempRoot();
after(() => root.remove());

const state = (x: number): PlaygroundCheckpoint => ({
  type: 'open-world',
  nextEntityId: 3,
  entities: [
    {
      id: 1,
      kind: 'object',
      position: { x, y: 0, z: 0 },
      rotation: { x: 0, y: 0, z: 0, w: 1 },
      props: { color: 'red', tags: ['a', 1, true, null] },
      ownerUserId: 'user-a',
    },
  ],
  avatars: [
    {
      userId: 'user-a',
      entityId: 2,
      position: { x: 1, y: 2, z: 3 },
      rotation: { x: 0, y: 0, z: 0, w: 1 },
      props: {},
      joinedAt: 5,
      data: { score: 1 },
    },
  ],
  logic: { round: 2 },
});

forEachEngine(
  'fencing over RPC: a stale server is refused after another claims the playground',
  async (db, { t }) => {
    const { app, clock } = await startEngineBackend(db, t);
    const claimA = await partnerRpc<CheckpointClaimResult>(app, 'checkpoints.claim', {
      serverId: 'ds-a',
      playgroundId: 'pg-1',
    });
    assert.equal(claimA.status, 200);
    assert.deepEqual(claimA.body.data, { epoch: 1, checkpoint: null });

    const write = (serverId: string, epoch: number, version: number, x = version) =>
      partnerRpc<CheckpointWriteResult>(app, 'checkpoints.write', {
        serverId,
        playgroundId: 'pg-1',
        epoch,
        version,
        state: state(x),
      });
    const first = await write('ds-a', 1, 1);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.data, { epoch: 1, version: 1 });
    assert.equal((await write('ds-a', 1, 2)).status, 200);

    clock.now += 1000;
    const claimB = await partnerRpc<CheckpointClaimResult>(app, 'checkpoints.claim', {
      serverId: 'ds-b',
      playgroundId: 'pg-1',
    });
    assert.deepEqual(claimB.body.data, {
      epoch: 2,
      checkpoint: {
        playgroundId: 'pg-1',
        epoch: 1,
        version: 2,
        serverId: 'ds-a',
        state: state(2),
        savedAt: clock.now - 1000,
      },
    });

    const stale = await write('ds-a', 1, 3);
    assert.deepEqual(failure(stale), code('CHECKPOINT_STALE'));
    assert.match(stale.body.error.message, /stale epoch 1.*epoch 2/);
    const sneaky = await write('ds-a', 2, 3);
    assert.deepEqual(failure(sneaky), code('CHECKPOINT_STALE'));
    assert.match(sneaky.body.error.message, /not holder/);
    const older = await write('ds-b', 2, 2);
    assert.deepEqual(failure(older), code('CHECKPOINT_STALE'));
    assert.match(older.body.error.message, /old version 2, stored version is 2/);
    assert.deepEqual((await write('ds-b', 2, 3, 30)).body.data, { epoch: 2, version: 3 });

    const got = await operatorRpc(app, 'checkpoints.get', { playgroundId: 'pg-1' });
    assert.deepEqual(got.body.data, {
      playgroundId: 'pg-1',
      epoch: 2,
      holderServerId: 'ds-b',
      claimedAt: clock.now,
      checkpoint: {
        playgroundId: 'pg-1',
        epoch: 2,
        version: 3,
        serverId: 'ds-b',
        state: state(30),
        savedAt: clock.now,
      },
    });
    const sample = (outcome: string) =>
      metricValue(app, `plexus_backend_checkpoint_writes_total{outcome="${outcome}",component="backend"}`);
    assert.equal(await sample('accepted'), 3);
    assert.equal(await sample('stale'), 3);
    assert.equal(await metricValue(app, 'plexus_backend_checkpoint_claims_total{component="backend"}'), 2);
  },
);

describe('checkpoint RPC input', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('checkpoints'));
    await partnerRpc(backend.app, 'checkpoints.claim', { serverId: 'ds-a', playgroundId: 'pg-in' });
  });
  after(() => backend.close());
  const write = (body: Record<string, unknown>, key: string | undefined = PARTNER_KEY) =>
    post(
      backend.app,
      '/api/v0/partnerRpc/checkpoints.write',
      { serverId: 'ds-a', playgroundId: 'pg-in', epoch: 1, version: 1, state: state(0), ...body },
      key,
    );

  test('every checkpoint RPC needs the partner key; checkpoints.get for operators needs theirs', async () => {
    for (const method of ['checkpoints.claim', 'checkpoints.write', 'checkpoints.get']) {
      const url = `/api/v0/partnerRpc/${method}`;
      assert.deepEqual(failure(await post(backend.app, url, {})), code('AUTH_PARTNER_KEY_REQUIRED'));
      assert.deepEqual(
        failure(await post(backend.app, url, {}, OPERATOR_KEY)),
        code('AUTH_PARTNER_KEY_REQUIRED'),
      );
    }
    const operatorGet = '/api/v0/operatorRpc/checkpoints.get';
    assert.deepEqual(
      failure(await post(backend.app, operatorGet, {}, PARTNER_KEY)),
      code('OPERATOR_KEY_REQUIRED'),
    );
    const partnerGet = await partnerRpc(backend.app, 'checkpoints.get', { playgroundId: 'pg-in' });
    assert.equal(partnerGet.body.data?.holderServerId, 'ds-a');
  });

  test('bad ids, versions and checkpoint shapes are refused before anything is stored', async () => {
    const bad: Record<string, unknown>[] = [
      { serverId: 'ds a' },
      { playgroundId: '' },
      { playgroundId: 'x'.repeat(65) },
      { epoch: 0 },
      { version: 1.5 },
      { version: '2' },
      { state: { ...state(0), entities: undefined } },
      { state: { ...state(0), type: '' } },
      { state: { ...state(0), avatars: [{ userId: 'u', entityId: -1 }] } },
      { state: { ...state(0), entities: [{ ...state(0).entities[0], position: { x: 1, y: 2 } }] } },
      { unexpected: true },
    ];
    for (const body of bad) {
      assert.deepEqual(failure(await write(body)), code('COMMON_BAD_REQUEST'), JSON.stringify(body));
    }
    const claim = await partnerRpc(backend.app, 'checkpoints.claim', { serverId: 'ds-a' });
    assert.deepEqual(failure(claim), code('COMMON_BAD_REQUEST'));
    assert.match(claim.body.error.message, /playgroundId/);
    const got = await partnerRpc(backend.app, 'checkpoints.get', { playgroundId: 'pg-in' });
    assert.equal(got.body.data?.checkpoint, null);
  });

  test('a checkpoint above CHECKPOINT_MAX_BYTES is CHECKPOINT_TOO_LARGE; above 1 MiB the body is refused', async () => {
    const big = (bytes: number) => ({ ...state(0), logic: { blob: 'x'.repeat(bytes) } });
    const tooLarge = await write({ state: big(CHECKPOINT_MAX_BYTES) });
    assert.deepEqual(failure(tooLarge), code('CHECKPOINT_TOO_LARGE'));
    assert.match(tooLarge.body.error.message, /limit is 524288/);
    const fits = await write({ state: big(CHECKPOINT_MAX_BYTES - 1024) });
    assert.equal(fits.status, 200);
    assert.deepEqual(failure(await write({ state: big(1024 * 1024) })), code('COMMON_PAYLOAD_TOO_LARGE'));
    const metric = 'plexus_backend_checkpoint_writes_total{outcome="too_large",component="backend"}';
    assert.equal(await metricValue(backend.app, metric), 1);
  });
});
