import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorityAction,
  ErrorCodes,
  encodeAuthority,
  encodeMove,
  encodeSetEntity,
  encodeSpawn,
  type FrameOf,
  type ServerFrame,
  ServerOp,
} from '@plexus/protocol';
import { type Stack, startStack } from '../testing/stack.ts';

type MoveAck = FrameOf<ServerFrame, typeof ServerOp.MOVE_ACK>;
const Q = { x: 0, y: 0, z: 0, w: 1 };

// A member's move acknowledgements (docs/protocol.md §5.10) over real sockets: what a tick applied,
// what was refused when it arrived, and what could not land because its entity changed hands.
describe('MOVE_ACK of a v3 member', () => {
  let stack: Stack;
  let n = 0;
  before(async () => {
    stack = await startStack({});
  });
  after(() => stack.close());

  async function joined(pg: string) {
    const c = await stack.connect();
    const ticket = await stack.balancer.ticket({
      aud: stack.server.serverId,
      pg,
      prof: { firstName: `M${++n}` },
    });
    const { welcome } = await c.join(ticket);
    return { c, clientId: welcome.clientId, selfId: welcome.selfId };
  }

  test('applied, refused on arrival, and refused at the tick because the entity changed hands', async () => {
    const a = await joined('acks');
    const b = await joined('acks');
    a.c.send(encodeSpawn(1, 'object', { x: 1, y: 0, z: 1 }, Q, {}));
    const box = (await a.c.result(1)).value;

    a.c.send(encodeSetEntity(box, { position: { x: 1.5, y: 0, z: 1 } }, 1));
    let ack = await a.c.next<MoveAck>((f) => f.op === ServerOp.MOVE_ACK);
    assert.deepEqual(ack, { op: ServerOp.MOVE_ACK, lastAppliedSeq: 1, refused: [] });

    // Out of the world's bounds: refused as it arrives.
    a.c.send(encodeSetEntity(box, { position: { x: 1e6, y: 0, z: 1 } }, 2));
    ack = await a.c.next<MoveAck>((f) => f.op === ServerOp.MOVE_ACK);
    assert.deepEqual(ack.refused, [
      { entityId: box, seq: 2, code: ErrorCodes.PROTOCOL_INVALID_TRANSFORM.code },
    ]);
    assert.equal(ack.lastAppliedSeq, 1);

    // Accepted and queued, then handed to B before the tick: it does not land, and says so. Both
    // frames are sent in one turn; should a tick fall between them, the move landed — try again.
    let seq = 2;
    let handedOver: MoveAck | undefined;
    for (let attempt = 0; attempt < 5 && !handedOver; attempt++) {
      a.c.send(encodeSpawn(10 + attempt, 'object', { x: 1, y: 0, z: 1 }, Q, {}));
      const item = (await a.c.result(10 + attempt)).value;
      seq++;
      a.c.send(encodeSetEntity(item, { position: { x: 2, y: 0, z: 1 } }, seq));
      a.c.send(encodeAuthority(20 + attempt, AuthorityAction.TRANSFER, item, b.clientId));
      assert.equal((await a.c.result(20 + attempt)).code, 0);
      ack = await a.c.next<MoveAck>((f) => f.op === ServerOp.MOVE_ACK);
      if (ack.refused.length === 0) {
        assert.deepEqual(ack, { op: ServerOp.MOVE_ACK, lastAppliedSeq: seq, refused: [] });
        continue;
      }
      handedOver = ack;
      assert.deepEqual(ack.refused, [{ entityId: item, seq, code: ErrorCodes.PROTOCOL_NOT_OWNER.code }]);
    }
    assert.ok(handedOver, 'a move whose entity changed hands before the tick is named refused');
    assert.equal(
      b.c.frames.some((f) => f.op === ServerOp.MOVE_ACK),
      false,
      'B moved nothing: no MOVE_ACK',
    );
    a.c.close();
    b.c.close();
  });

  test('moves sent in one turn: each entity lands where its last move put it, every seq acknowledged', async () => {
    const a = await joined('bunched');
    const b = await joined('bunched');
    a.c.send(encodeSpawn(1, 'object', { x: 1, y: 0, z: 1 }, Q, {}));
    const box = (await a.c.result(1)).value;
    const avatar = await b.c.until(() => b.c.mirror().get(a.selfId), 3_000, "A's avatar");
    const { x, y, z } = avatar.position;
    // Interleaved, so a move must not be overwritten by the next frame of another entity.
    a.c.send(encodeMove(a.selfId, { x: x + 0.5, y, z }, Q, 1));
    a.c.send(encodeMove(box, { x: 1.5, y: 0, z: 1 }, Q, 2));
    a.c.send(encodeMove(a.selfId, { x: x + 1, y, z }, Q, 3));
    a.c.send(encodeMove(box, { x: 2, y: 0, z: 1 }, Q, 4));
    await a.c.until(
      () => a.c.frames.some((f) => f.op === ServerOp.MOVE_ACK && f.lastAppliedSeq === 4),
      3_000,
      'seq 4 acknowledged',
    );
    const acks = a.c.frames.filter((f): f is MoveAck => f.op === ServerOp.MOVE_ACK);
    assert.deepEqual(
      acks.flatMap((f) => f.refused),
      [],
      'nothing refused',
    );
    const near = (
      p: { x: number; y: number; z: number } | undefined,
      q: { x: number; y: number; z: number },
    ) => p !== undefined && Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z) < 0.01;
    await b.c.until(
      () =>
        near(b.c.mirror().get(a.selfId)?.position, { x: x + 1, y, z }) &&
        near(b.c.mirror().get(box)?.position, { x: 2, y: 0, z: 1 }),
      3_000,
      'both entities at their last move',
    );
    a.c.close();
    b.c.close();
  });
});
