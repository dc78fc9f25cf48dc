import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CataloguePlayground } from '@plexus/protocol';
import { failure, PARTNER_KEY, startTestBackend, type TestBackend, tempRoot } from '../test-support.ts';
import { code, createPlayground, dataOf, find, guest, operatorRpc } from './playgrounds.test-support.ts';

const root = tempRoot();
after(() => root.remove());

type PlaygroundResult = { playground: CataloguePlayground };
type ListResult = { playgrounds: CataloguePlayground[]; nextCursor: string | null };

const expo = {
  id: 'expo-hall',
  name: 'Expo hall',
  type: 'expo',
  capacity: 2,
  visibility: 'public',
  tags: ['tech', 'demo'],
  region: 'eu-west',
  maxInstances: 3,
};

describe('operator key', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('key'));
  });
  after(() => backend.close());

  const methods = [
    'playgrounds.create',
    'playgrounds.list',
    'playgrounds.get',
    'playgrounds.update',
    'playgrounds.close',
    'analytics.summary',
    'analytics.export',
  ];

  test('every operator RPC without the operator key is OPERATOR_KEY_REQUIRED 401', async () => {
    for (const method of methods) {
      for (const key of [null, 'wrong-operator-key', PARTNER_KEY]) {
        assert.deepEqual(
          failure(await operatorRpc(backend.app, method, {}, key)),
          code('OPERATOR_KEY_REQUIRED'),
          method,
        );
      }
      // The key is checked before the body is read.
      assert.deepEqual(
        failure(await operatorRpc(backend.app, method, '{nope', null)),
        code('OPERATOR_KEY_REQUIRED'),
      );
    }
  });

  test('the partner RPCs do not take the operator key, and the catalogue is not a player RPC', async () => {
    // find() sends the partner key: reaching the user check proves the key was accepted.
    const res = await find(backend.app, { userId: 'x' });
    assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(
      failure(await operatorRpc(backend.app, 'matchmaking.findPlayground', { userId: 'x' })),
      code('COMMON_NOT_FOUND'),
    );
  });
});

describe('playground catalogue', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('catalogue'));
  });
  after(() => backend.close());

  test('create returns the playground; a public one has no invite code', async () => {
    const playground = await createPlayground(backend.app, expo);
    assert.deepEqual(playground, {
      ...expo,
      inviteCode: null,
      closedAt: null,
      population: 0,
      createdAt: backend.clock.now,
      updatedAt: backend.clock.now,
    });
    const again = await operatorRpc(backend.app, 'playgrounds.create', expo);
    assert.deepEqual(failure(again), code('MATCH_PLAYGROUND_EXISTS'));
    const got = dataOf(
      await operatorRpc<PlaygroundResult>(backend.app, 'playgrounds.get', { id: 'expo-hall' }),
    );
    assert.deepEqual(got.playground, playground);
  });

  test('defaults: public, no tags, no region, one instance; a private one gets an invite code', async () => {
    const minimal = await createPlayground(backend.app, {
      id: 'minimal',
      name: 'M',
      type: 'lobby',
      capacity: 5,
    });
    assert.equal(minimal.visibility, 'public');
    assert.deepEqual([minimal.tags, minimal.region, minimal.maxInstances], [[], '', 1]);
    const secret = await createPlayground(backend.app, {
      id: 'board-room',
      name: 'Board room',
      type: 'meeting',
      capacity: 8,
      visibility: 'private',
      tags: ['exec', 'exec'],
    });
    assert.match(secret.inviteCode ?? '', /^[A-Z2-9]{12}$/);
    assert.deepEqual(secret.tags, ['exec'], 'duplicate tags are dropped');
  });

  test('bad create bodies are COMMON_BAD_REQUEST naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...expo, id: 'has#hash' }, 'id'],
      [{ ...expo, id: 'public-lobby-9' }, 'id'],
      [{ ...expo, id: 'x'.repeat(57) }, 'id'],
      [{ ...expo, id: '' }, 'id'],
      [{ ...expo, type: 'Expo' }, 'type'],
      [{ ...expo, capacity: 0 }, 'capacity'],
      [{ ...expo, capacity: 1.5 }, 'capacity'],
      [{ ...expo, maxInstances: 0 }, 'maxInstances'],
      [{ ...expo, maxInstances: 1001 }, 'maxInstances'],
      [{ ...expo, visibility: 'secret' }, 'visibility'],
      [{ ...expo, tags: ['Bad Tag'] }, 'tags.0'],
      [{ ...expo, tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, 'tags'],
      [{ ...expo, region: 'EU' }, 'region'],
      [{ ...expo, name: '   ' }, 'name'],
      [{ ...expo, extra: 1 }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await operatorRpc(backend.app, 'playgrounds.create', { ...body, id: body.id ?? 'bad' });
      assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'), JSON.stringify(body));
      assert.match(
        res.body.error.message,
        new RegExp(`${field.replace('.', '\\.')}:|Unrecognized key`),
        field,
      );
    }
    const noId = { ...expo, id: undefined };
    assert.deepEqual(
      failure(await operatorRpc(backend.app, 'playgrounds.create', noId)),
      code('COMMON_BAD_REQUEST'),
    );
  });

  test('get, update and close of an unknown id are MATCH_PLAYGROUND_NOT_FOUND 404', async () => {
    for (const method of ['playgrounds.get', 'playgrounds.update', 'playgrounds.close']) {
      assert.deepEqual(
        failure(await operatorRpc(backend.app, method, { id: 'nowhere' })),
        code('MATCH_PLAYGROUND_NOT_FOUND'),
      );
      assert.deepEqual(failure(await operatorRpc(backend.app, method, {})), code('COMMON_BAD_REQUEST'));
    }
  });

  test('update changes only the given fields; visibility drives the invite code', async () => {
    await createPlayground(backend.app, {
      id: 'studio',
      name: 'Studio',
      type: 'art',
      capacity: 4,
      tags: ['paint'],
    });
    backend.clock.now += 1000;
    const update = (patch: Record<string, unknown>) =>
      operatorRpc<PlaygroundResult>(backend.app, 'playgrounds.update', { id: 'studio', ...patch });

    const renamed = dataOf(await update({ name: 'Big studio', capacity: 6, tags: ['sculpt'] })).playground;
    assert.deepEqual(
      [renamed.name, renamed.capacity, renamed.tags, renamed.type, renamed.updatedAt],
      ['Big studio', 6, ['sculpt'], 'art', backend.clock.now],
    );
    const byTag = async (tag: string) =>
      dataOf(await operatorRpc<ListResult>(backend.app, 'playgrounds.list', { tag })).playgrounds.map(
        (p) => p.id,
      );
    assert.deepEqual(await byTag('sculpt'), ['studio'], 'the tag index follows the update');
    assert.deepEqual(await byTag('paint'), []);

    const hidden = dataOf(await update({ visibility: 'private' })).playground;
    assert.match(hidden.inviteCode ?? '', /^[A-Z2-9]{12}$/);
    const same = dataOf(await update({ name: 'Studio' })).playground;
    assert.equal(same.inviteCode, hidden.inviteCode, 'an unrelated edit keeps the code');
    const rotated = dataOf(await update({ rotateInviteCode: true })).playground;
    assert.notEqual(rotated.inviteCode, hidden.inviteCode);
    const shown = dataOf(await update({ visibility: 'public' })).playground;
    assert.equal(shown.inviteCode, null);
    assert.deepEqual(failure(await update({ rotateInviteCode: true })), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(failure(await update({ id: 'x#2' })), code('MATCH_PLAYGROUND_NOT_FOUND'));
    assert.deepEqual(failure(await update({ capacity: -1 })), code('COMMON_BAD_REQUEST'));
  });

  test('close stops new joins, is idempotent, and hides the playground from lists by default', async () => {
    await createPlayground(backend.app, { id: 'closing', name: 'C', type: 'closing-type', capacity: 4 });
    const { user } = await guest(backend.app);
    const closedAt = backend.clock.now;
    const closed = dataOf(
      await operatorRpc<PlaygroundResult>(backend.app, 'playgrounds.close', { id: 'closing' }),
    );
    assert.equal(closed.playground.closedAt, closedAt);
    backend.clock.now += 5000;
    const again = dataOf(
      await operatorRpc<PlaygroundResult>(backend.app, 'playgrounds.close', { id: 'closing' }),
    );
    assert.equal(again.playground.closedAt, closedAt, 'the first close time is kept');

    const list = async (body: Record<string, unknown>) =>
      dataOf(
        await operatorRpc<ListResult>(backend.app, 'playgrounds.list', { type: 'closing-type', ...body }),
      ).playgrounds.length;
    assert.equal(await list({}), 0);
    assert.equal(await list({ includeClosed: true }), 1);
    // Matchmaking no longer picks it: the type falls back to an auto-opened playground.
    const seat = dataOf(
      await find(backend.app, { userId: user.id, criteria: { playgroundType: 'closing-type' } }),
    );
    assert.equal(seat.playgroundId, 'public-closing-type-1');
  });

  test('list filters by type, tag, region and visibility and pages by id', async () => {
    const base = { type: 'paged', capacity: 3 };
    for (const [id, extra] of [
      ['p-a', { tags: ['x'], region: 'eu' }],
      ['p-b', { tags: ['x', 'y'], region: 'us' }],
      ['p-c', { visibility: 'private', region: 'eu' }],
      ['p-d', {}],
      ['p-e', { tags: ['y'] }],
    ] as const) {
      await createPlayground(backend.app, { id, name: id, ...base, ...extra });
    }
    const ids = async (body: Record<string, unknown>) => {
      const result = dataOf(
        await operatorRpc<ListResult>(backend.app, 'playgrounds.list', { type: 'paged', ...body }),
      );
      return { ids: result.playgrounds.map((p) => p.id), next: result.nextCursor };
    };
    assert.deepEqual((await ids({})).ids, ['p-a', 'p-b', 'p-c', 'p-d', 'p-e']);
    assert.deepEqual((await ids({ tag: 'x' })).ids, ['p-a', 'p-b']);
    assert.deepEqual((await ids({ region: 'eu' })).ids, ['p-a', 'p-c']);
    assert.deepEqual((await ids({ visibility: 'private' })).ids, ['p-c']);
    const first = await ids({ limit: 2 });
    assert.deepEqual(first, { ids: ['p-a', 'p-b'], next: 'p-b' });
    const second = await ids({ limit: 2, cursor: first.next });
    assert.deepEqual(second, { ids: ['p-c', 'p-d'], next: 'p-d' });
    assert.deepEqual(await ids({ limit: 2, cursor: second.next }), { ids: ['p-e'], next: null });
    for (const bad of [
      { limit: 0 },
      { limit: 201 },
      { tag: 'A' },
      { visibility: 'x' },
      { includeClosed: 'yes' },
    ]) {
      assert.deepEqual(
        failure(await operatorRpc(backend.app, 'playgrounds.list', bad)),
        code('COMMON_BAD_REQUEST'),
        JSON.stringify(bad),
      );
    }
  });
});
