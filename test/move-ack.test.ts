import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import {
  ByteReader,
  ErrorCodes,
  encodeHello,
  encodeMove,
  type FrameOf,
  PROTOCOL_VERSION,
  type ServerFrame,
  ServerOp,
  StateFlags,
} from '@plexus/protocol';
import { type Stack, startStack } from '@plexus/testkit';
import { post } from './helpers.ts';
import { type RawSocket, rawConnect, withTimeout } from './raw-socket.ts';

// Protocol v3's move acknowledgements (docs/protocol.md §5.10) on the wire, against real processes:
// a v3 client learns its version from WELCOME, gets MOVE_ACK for its applied moves and the refused
// one named; a v2 client on the same server gets neither. Then the STATE layouts of v3, v4 (compact
// updates), v5 (packed heads) and v6 (packed motion) side by side in one playground (§4, "STATE").
describe('protocol versions on the wire: move acknowledgements (v3), compact updates (v4), packed heads (v5), packed motion (v6)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 1 });
  });
  after(async () => {
    await stack?.stop();
  });

  async function grant(name: string, playgroundId: string): Promise<{ endpoint: string; ticket: string }> {
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await client.loginAsGuest({ firstName: name });
    const res = await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, {
      sessionId: client.sessionId,
      playgroundId,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  }

  /** Resolves with the first frame (from index `from` on) that `match` accepts. */
  function nextFrame<Op extends ServerFrame['op']>(
    sock: RawSocket,
    op: Op,
    from: number,
    what: string,
  ): Promise<FrameOf<ServerFrame, Op>> {
    const find = () =>
      sock.frames.slice(from).find((f) => f.op === op) as FrameOf<ServerFrame, Op> | undefined;
    return withTimeout(
      new Promise((resolve) => {
        const found = find();
        if (found) return resolve(found);
        const onMessage = (): void => {
          const f = find();
          if (!f) return;
          sock.ws.removeEventListener('message', onMessage);
          resolve(f);
        };
        sock.ws.addEventListener('message', onMessage);
      }),
      5000,
      what,
    );
  }

  async function join(version: number, name: string) {
    const g = await grant(name, 'move-acks');
    const sock = rawConnect(g.endpoint);
    await sock.opened;
    sock.send(encodeHello(version, g.ticket));
    const welcome = await nextFrame(sock, ServerOp.WELCOME, 0, 'WELCOME');
    const keyframe = await nextFrame(sock, ServerOp.STATE, 0, 'the keyframe');
    const self = keyframe.spawns.find((e) => e.id === welcome.welcome.selfId);
    assert.ok(self, 'the own avatar is in the keyframe');
    return { sock, welcome, self };
  }

  test('a v3 client gets MOVE_ACK for applied moves and the refused move named; a v2 client gets none', async () => {
    assert.ok(PROTOCOL_VERSION >= 3, 'the SDK speaks v3 or later');
    const v3 = await join(3, 'Vera');
    assert.equal(v3.welcome.protocolVersion, 3, 'WELCOME names the version after its body');
    assert.equal(v3.welcome.welcome.protocolVersion, 3);
    const id = v3.welcome.welcome.selfId;
    const { x, y, z } = v3.self.position;
    const rotation = v3.self.rotation;

    let from = v3.sock.frames.length;
    v3.sock.send(encodeMove(id, { x: x + 0.1, y, z }, rotation, 1));
    v3.sock.send(encodeMove(id, { x: x + 0.2, y, z }, rotation, 2));
    let ack = await nextFrame(v3.sock, ServerOp.MOVE_ACK, from, 'the ack of moves 1–2');
    if (ack.lastAppliedSeq === 1)
      ack = await nextFrame(v3.sock, ServerOp.MOVE_ACK, v3.sock.frames.indexOf(ack) + 1, 'move 2');
    assert.deepEqual(ack, { op: ServerOp.MOVE_ACK, lastAppliedSeq: 2, refused: [] });

    // Far beyond the speed limit: refused, named by entity and seq; the last applied stays 2.
    from = v3.sock.frames.length;
    v3.sock.send(encodeMove(id, { x: x + 900, y, z }, rotation, 3));
    ack = await nextFrame(v3.sock, ServerOp.MOVE_ACK, from, 'the ack of the refused move');
    assert.deepEqual(ack, {
      op: ServerOp.MOVE_ACK,
      lastAppliedSeq: 2,
      refused: [{ entityId: id, seq: 3, code: ErrorCodes.PROTOCOL_INVALID_TRANSFORM.code }],
    });
    const error = v3.sock.frames.slice(from).find((f) => f.op === ServerOp.ERROR);
    assert.equal(
      error?.op === ServerOp.ERROR && error.name,
      'PROTOCOL_INVALID_TRANSFORM',
      'the ERROR frame as in v2',
    );

    // A v2 client: today's WELCOME (no trailing version), moves without seq, no MOVE_ACK ever.
    const v2 = await join(2, 'Otto');
    assert.equal('protocolVersion' in v2.welcome, false);
    assert.equal(v2.welcome.welcome.protocolVersion, 2);
    const other = v2.welcome.welcome.selfId;
    const movedX = v2.self.position.x + 0.1;
    from = v2.sock.frames.length;
    v2.sock.send(encodeMove(other, { ...v2.self.position, x: movedX }, v2.self.rotation));
    // The move shows in v3's STATE; by then v2's tick frames (same tick) are in too. WELCOME leaves
    // at admission, so the move may land in the very tick that first shows v2's avatar to v3: then
    // it arrives as that SPAWN's position rather than as an update.
    const moved = (e: { id: number; position?: { x: number } | undefined }): boolean =>
      e.id === other && e.position !== undefined && Math.abs(e.position.x - movedX) < 0.01;
    await withTimeout(
      new Promise<void>((resolve) => {
        const seen = (): boolean =>
          v3.sock.frames.some(
            (f) => f.op === ServerOp.STATE && (f.updates.some(moved) || f.spawns.some(moved)),
          );
        if (seen()) return resolve();
        const onMessage = (): void => {
          if (!seen()) return;
          v3.sock.ws.removeEventListener('message', onMessage);
          resolve();
        };
        v3.sock.ws.addEventListener('message', onMessage);
      }),
      5000,
      "the v2 client's move",
    );
    const v2From = from;
    from = v2.sock.frames.length;
    // One more round trip on v2's socket: a later v3 move's STATE reaching v2 comes after any ack of its move.
    v3.sock.send(encodeMove(id, { x: x + 0.3, y, z }, rotation, 4));
    await nextFrame(v2.sock, ServerOp.STATE, from, "v3's next move at v2");
    assert.equal(
      v2.sock.frames.slice(v2From).some((f) => f.op === ServerOp.MOVE_ACK),
      false,
      'no MOVE_ACK for a v2 session',
    );
    v2.sock.ws.close();
    v3.sock.ws.close();
  });

  test('protocol v4 to v6: compact updates reach all three, packed heads v5 and v6, packed motion only v6; a v3 client gets the v3 layout', async () => {
    const mover = await join(6, 'Mona');
    assert.equal(mover.welcome.protocolVersion, 6);
    const v6 = await join(6, 'Ada');
    const v5 = await join(5, 'Eve');
    const v4 = await join(4, 'Ida');
    const v3 = await join(3, 'Tom');
    const id = mover.welcome.welcome.selfId;
    const { x, y, z } = mover.self.position;
    const from = [v6, v5, v4, v3].map((s) => s.sock.frames.length);
    // Walking and turning on level ground for longer than the update window (4 ticks).
    for (let i = 1; i <= 12; i++) {
      const half = i / 20;
      mover.sock.send(
        encodeMove(id, { x: x + i * 0.05, y, z }, { x: 0, y: Math.sin(half), z: 0, w: Math.cos(half) }, i),
      );
      await new Promise((r) => setTimeout(r, 60));
    }
    const last = { x: x + 0.6, z };
    const states = (sock: RawSocket, start: number) =>
      sock.frames.flatMap((f, i) =>
        i >= start && f.op === ServerOp.STATE ? [{ f, raw: sock.raw[i] as Uint8Array }] : [],
      );
    const updatesOf = (sock: RawSocket, start: number) =>
      states(sock, start)
        .flatMap(({ f }) => f.updates)
        .filter((u) => u.id === id);
    /** The flags byte of a STATE frame: after the opcode and the varuint tick. */
    const flagsOf = (raw: Uint8Array) => {
      const r = new ByteReader(raw);
      r.u8();
      r.varuint();
      return r.u8();
    };
    await withTimeout(
      (async () => {
        for (const [k, s] of [v6, v5, v4, v3].entries()) {
          const at = (u: { position?: { x: number }; positionXZ?: { x: number } }) =>
            Math.abs((u.position?.x ?? u.positionXZ?.x ?? 0) - last.x) < 0.001;
          while (!updatesOf(s.sock, from[k] as number).some(at)) await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      5000,
      'the last move at every client',
    );
    const [at6, at5, at4, at3] = [v6, v5, v4, v3].map((s, k) => updatesOf(s.sock, from[k] as number));
    for (const at of [at6, at5, at4]) {
      assert.ok(
        at?.some((u) => u.positionXZ),
        'y left out once the v4, v5 or v6 client holds it',
      );
      const lastXZ = at?.findLast((u) => u.positionXZ)?.positionXZ;
      assert.ok(lastXZ && Math.abs(lastXZ.x - last.x) < 0.001 && Math.abs(lastXZ.z - last.z) < 0.001);
    }
    assert.equal(
      at3?.some((u) => u.positionXZ),
      false,
      'a v3 session never sees the compact fields',
    );
    assert.ok(at3?.every((u) => u.position && u.position.y === y));
    const layoutFlags = StateFlags.PACKED_HEADS | StateFlags.PACKED_MOTION;
    const flagSets = (s: RawSocket, start: number) =>
      new Set(states(s, start).map(({ raw }) => flagsOf(raw) & layoutFlags));
    const [f6, f5, f4, f3] = [v6, v5, v4, v3].map((s, k) => [...flagSets(s.sock, from[k] as number)]);
    assert.deepEqual(f6, [layoutFlags], 'every STATE of a v6 session has packed heads and packed motion');
    assert.deepEqual(f5, [StateFlags.PACKED_HEADS], 'every STATE of a v5 session has packed heads alone');
    assert.deepEqual([f4, f3], [[0], [0]], 'never those of v4 and v3');
    for (const s of [mover, v6, v5, v4, v3]) s.sock.ws.close();
  });
});
