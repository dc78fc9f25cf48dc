import type { PlexusEventEnvelope } from '../cluster.ts';
import { ClientOp, ServerOp } from '../opcodes.ts';
import type { Quat, Vec3, Welcome } from '../types.ts';
import { type ByteReader, DecodeError } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { writeQuat, writeVec3 } from './geometry.ts';
import { parseJsonObject } from './json.ts';
import { WireLimits } from './limits.ts';

/**
 * Frames of the session itself — handshake, movement, liveness, leaving, errors and the JSON
 * notices (docs/protocol.md §3–4). Each has an encoder and a payload reader; the frame table
 * (frames.ts) ties them to their opcode.
 */

/** Payload of REDIRECT: where the playground now lives and a ticket to get in. */
export interface RedirectPayload {
  playgroundId: string;
  /** WebSocket URL of the new server. */
  endpoint: string;
  /** Join ticket for the new server (carries the user's resume token). */
  ticket: string;
  reason: 'drain' | 'rebalance';
}

export type SessionClientFrame =
  | { op: typeof ClientOp.HELLO; protocolVersion: number; ticket: string }
  | {
      op: typeof ClientOp.MOVE;
      entityId: number;
      position: Vec3;
      rotation: Quat;
      /** v3: the move's sequence number, acknowledged by MOVE_ACK (absent on a v2 session). */
      seq?: number | undefined;
    }
  | { op: typeof ClientOp.PING; clientTimeMs: number }
  | { op: typeof ClientOp.LEAVE };

/** The member of a frame union with opcode `Op`. */
export type FrameOf<F extends { op: number }, Op extends F['op']> = Extract<F, { op: Op }>;

/** One move MOVE_ACK names as refused: its entity, its sequence number and the error's code. */
export interface RefusedMove {
  entityId: number;
  seq: number;
  code: number;
}

export type SessionServerFrame =
  | {
      op: typeof ServerOp.WELCOME;
      welcome: Welcome;
      /** The version of this session, when ≥ 3 (absent: version 2; docs/protocol.md §8). */
      protocolVersion?: number;
    }
  | { op: typeof ServerOp.MOVE_ACK; lastAppliedSeq: number; refused: RefusedMove[] }
  | { op: typeof ServerOp.PONG; clientTimeMs: number; serverTimeMs: number }
  | { op: typeof ServerOp.ERROR; code: number; name: string; message: string }
  | { op: typeof ServerOp.REDIRECT; redirect: RedirectPayload }
  | { op: typeof ServerOp.EVENT; event: PlexusEventEnvelope };

// ---------------------------------------------------------------- client → server

export function encodeHello(protocolVersion: number, ticket: string): Uint8Array {
  return new ByteWriter(64 + ticket.length)
    .u8(ClientOp.HELLO)
    .varuint(protocolVersion)
    .string(ticket)
    .finish();
}

/** MOVE; without `seq` these are the bytes of a version-2 session. */
export function encodeMove(entityId: number, position: Vec3, rotation: Quat, seq?: number): Uint8Array {
  const w = new ByteWriter(40).u8(ClientOp.MOVE).varuint(entityId);
  writeVec3(w, position);
  writeQuat(w, rotation);
  if (seq !== undefined) w.varuint(seq);
  return w.finish();
}

export function encodePing(clientTimeMs: number): Uint8Array {
  return new ByteWriter(9).u8(ClientOp.PING).f64(clientTimeMs).finish();
}

export function encodeLeave(): Uint8Array {
  return Uint8Array.of(ClientOp.LEAVE);
}

export function readHello(r: ByteReader): FrameOf<SessionClientFrame, typeof ClientOp.HELLO> {
  return { op: ClientOp.HELLO, protocolVersion: r.varuint(), ticket: r.string(WireLimits.ticketBytes) };
}

export type MoveFrame = FrameOf<SessionClientFrame, typeof ClientOp.MOVE>;

/** A MOVE frame to decode into ({@link decodeMoveInto}). */
export function emptyMoveFrame(): MoveFrame {
  return {
    op: ClientOp.MOVE,
    entityId: 0,
    position: { x: 0, y: 0, z: 0 },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
  };
}

export function readMove(r: ByteReader): MoveFrame {
  return readMoveInto(r, emptyMoveFrame());
}

/** Reads a MOVE payload into `frame`'s own fields and objects, overwriting them all. */
export function readMoveInto(r: ByteReader, frame: MoveFrame): MoveFrame {
  frame.entityId = r.varuint();
  const { position, rotation } = frame;
  position.x = r.f32();
  position.y = r.f32();
  position.z = r.f32();
  rotation.x = r.f32();
  rotation.y = r.f32();
  rotation.z = r.f32();
  rotation.w = r.f32();
  // A v2 frame has no `seq`: a fresh frame keeps none, a reused one loses the last one's.
  if (r.remaining > 0) frame.seq = r.varuint();
  else if (frame.seq !== undefined) frame.seq = undefined;
  return frame;
}

export function readPing(r: ByteReader): FrameOf<SessionClientFrame, typeof ClientOp.PING> {
  return { op: ClientOp.PING, clientTimeMs: r.f64() };
}

// ---------------------------------------------------------------- server → client

/** WELCOME; `protocolVersion` (≥ 3) trails the JSON body, absent for a version-2 session. */
export function encodeWelcome(welcome: Welcome, protocolVersion?: number): Uint8Array {
  const w = new ByteWriter(256).u8(ServerOp.WELCOME).string(JSON.stringify(welcome));
  if (protocolVersion !== undefined) w.varuint(protocolVersion);
  return w.finish();
}

export function encodeMoveAck(lastAppliedSeq: number, refused: readonly RefusedMove[]): Uint8Array {
  const w = new ByteWriter(8 + refused.length * 10)
    .u8(ServerOp.MOVE_ACK)
    .varuint(lastAppliedSeq)
    .varuint(refused.length);
  for (const m of refused) w.varuint(m.entityId).varuint(m.seq).u16(m.code);
  return w.finish();
}

export function encodePong(clientTimeMs: number, serverTimeMs: number): Uint8Array {
  return new ByteWriter(17).u8(ServerOp.PONG).f64(clientTimeMs).f64(serverTimeMs).finish();
}

export function encodeError(code: number, name: string, message: string): Uint8Array {
  return new ByteWriter(64 + message.length)
    .u8(ServerOp.ERROR)
    .varuint(code)
    .string(name)
    .string(message)
    .finish();
}

export function encodeRedirect(redirect: RedirectPayload): Uint8Array {
  return new ByteWriter(512).u8(ServerOp.REDIRECT).string(JSON.stringify(redirect)).finish();
}

export function encodeEvent(event: PlexusEventEnvelope): Uint8Array {
  return new ByteWriter(256).u8(ServerOp.EVENT).string(JSON.stringify(event)).finish();
}

export function readWelcome(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.WELCOME> {
  const frame: FrameOf<SessionServerFrame, typeof ServerOp.WELCOME> = {
    op: ServerOp.WELCOME,
    welcome: parseJsonObject(r.string(WireLimits.welcomeBytes)) as unknown as Welcome,
  };
  if (r.remaining > 0) frame.protocolVersion = r.varuint();
  return frame;
}

export function readMoveAck(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.MOVE_ACK> {
  const lastAppliedSeq = r.varuint();
  const count = r.varuint();
  if (count > WireLimits.moveAckRefusals)
    throw new DecodeError(`MOVE_ACK: more than ${WireLimits.moveAckRefusals} refusals`);
  const refused: RefusedMove[] = [];
  for (let i = 0; i < count; i++) refused.push({ entityId: r.varuint(), seq: r.varuint(), code: r.u16() });
  return { op: ServerOp.MOVE_ACK, lastAppliedSeq, refused };
}

export function readPong(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.PONG> {
  return { op: ServerOp.PONG, clientTimeMs: r.f64(), serverTimeMs: r.f64() };
}

export function readError(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.ERROR> {
  return {
    op: ServerOp.ERROR,
    code: r.varuint(),
    name: r.string(WireLimits.errorNameBytes),
    message: r.string(WireLimits.errorMessageBytes),
  };
}

export function readRedirect(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.REDIRECT> {
  return {
    op: ServerOp.REDIRECT,
    redirect: parseJsonObject(r.string(WireLimits.redirectBytes)) as unknown as RedirectPayload,
  };
}

export function readEvent(r: ByteReader): FrameOf<SessionServerFrame, typeof ServerOp.EVENT> {
  return {
    op: ServerOp.EVENT,
    event: parseJsonObject(r.string(WireLimits.eventBytes)) as unknown as PlexusEventEnvelope,
  };
}
