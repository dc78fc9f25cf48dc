import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorityAction,
  ErrorCodes,
  encodeAuthority,
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
    return { c, clientId: welcome.clientId };
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
});
