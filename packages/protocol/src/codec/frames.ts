import type { PlexusEventEnvelope } from '../cluster.ts';
import { ClientOp, ServerOp } from '../opcodes.ts';
import type { EntityState, Props, Quat, Vec3, Welcome } from '../types.ts';
import { ByteReader, DecodeError } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import {
  type EntityClientFrame,
  type EntityServerFrame,
  readAuthority,
  readClientMessage,
  readDespawn,
  readResult,
  readServerMessage,
  readSetEntity,
  readSpawn,
} from './entity-frames.ts';
import { parseJsonObject } from './json.ts';
import { readState } from './state.ts';

// The STATE codec (protocol v2: quantised, chunked by grid cell) lives in state.ts.
export * from './state.ts';

/** Byte limits of variable-length fields; a frame exceeding one is malformed. */
export const WireLimits = {
  ticketBytes: 4096,
  kindBytes: 64,
  propsBytes: 16 * 1024,
  welcomeBytes: 4096,
  errorNameBytes: 64,
  errorMessageBytes: 1024,
  redirectBytes: 8 * 1024,
  /** EVENT_MAX_PAYLOAD_BYTES of payload plus the envelope's other fields. */
  eventBytes: 12 * 1024,
} as const;

/** Payload of REDIRECT: where the playground now lives and a ticket to get in. */
export interface RedirectPayload {
  playgroundId: string;
  /** WebSocket URL of the new server. */
  endpoint: string;
  /** Join ticket for the new server (carries the user's resume token). */
  ticket: string;
  reason: 'drain' | 'rebalance';
}

export type ClientFrame =
  | { op: typeof ClientOp.HELLO; protocolVersion: number; ticket: string }
  | { op: typeof ClientOp.MOVE; entityId: number; position: Vec3; rotation: Quat }
  | { op: typeof ClientOp.PING; clientTimeMs: number }
  | { op: typeof ClientOp.LEAVE }
  | EntityClientFrame;

/** A changed entity in a STATE frame: only the fields present changed. */
export interface EntityUpdate {
  id: number;
  position?: Vec3;
  rotation?: Quat;
  props?: Props;
  /** New owner's client id (0 = server) when authority changed. */
  owner?: number;
}

export interface StateFrame {
  tick: number;
  keyframe: boolean;
  spawns: EntityState[];
  updates: EntityUpdate[];
  removes: number[];
}

export type ServerFrame =
  | { op: typeof ServerOp.WELCOME; welcome: Welcome }
  | ({ op: typeof ServerOp.STATE } & StateFrame)
  | { op: typeof ServerOp.PONG; clientTimeMs: number; serverTimeMs: number }
  | { op: typeof ServerOp.ERROR; code: number; name: string; message: string }
  | { op: typeof ServerOp.REDIRECT; redirect: RedirectPayload }
  | { op: typeof ServerOp.EVENT; event: PlexusEventEnvelope }
  | EntityServerFrame;

// ---------------------------------------------------------------- client → server

export function encodeHello(protocolVersion: number, ticket: string): Uint8Array {
  return new ByteWriter(64 + ticket.length)
    .u8(ClientOp.HELLO)
    .varuint(protocolVersion)
    .string(ticket)
    .finish();
}

export function encodeMove(entityId: number, position: Vec3, rotation: Quat): Uint8Array {
  const w = new ByteWriter(40).u8(ClientOp.MOVE).varuint(entityId);
  writeVec3(w, position);
  writeQuat(w, rotation);
  return w.finish();
}

export function encodePing(clientTimeMs: number): Uint8Array {
  return new ByteWriter(9).u8(ClientOp.PING).f64(clientTimeMs).finish();
}

export function encodeLeave(): Uint8Array {
  return Uint8Array.of(ClientOp.LEAVE);
}

/** Decodes a client frame; throws DecodeError for anything malformed or unknown. */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const r = new ByteReader(bytes);
  const op = r.u8();
  let frame: ClientFrame;
  switch (op) {
    case ClientOp.HELLO:
      frame = { op, protocolVersion: r.varuint(), ticket: r.string(WireLimits.ticketBytes) };
      break;
    case ClientOp.MOVE:
      frame = { op, entityId: r.varuint(), position: readVec3(r), rotation: readQuat(r) };
      break;
    case ClientOp.PING:
      frame = { op, clientTimeMs: r.f64() };
      break;
    case ClientOp.LEAVE:
      frame = { op };
      break;
    case ClientOp.SET_ENTITY:
      frame = readSetEntity(r);
      break;
    case ClientOp.SPAWN:
      frame = readSpawn(r);
      break;
    case ClientOp.DESPAWN:
      frame = readDespawn(r);
      break;
    case ClientOp.AUTHORITY:
      frame = readAuthority(r);
      break;
    case ClientOp.MESSAGE:
      frame = readClientMessage(r);
      break;
    default:
      throw new DecodeError(`unknown client opcode 0x${op.toString(16)}`);
  }
  r.end();
  return frame;
}

// ---------------------------------------------------------------- server → client

export function encodeWelcome(welcome: Welcome): Uint8Array {
  return new ByteWriter(256).u8(ServerOp.WELCOME).string(JSON.stringify(welcome)).finish();
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

/** Decodes a server frame; throws DecodeError for anything malformed or unknown. */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  const r = new ByteReader(bytes);
  const op = r.u8();
  let frame: ServerFrame;
  switch (op) {
    case ServerOp.WELCOME:
      frame = { op, welcome: parseJsonObject(r.string(WireLimits.welcomeBytes)) as unknown as Welcome };
      break;
    case ServerOp.STATE:
      frame = { op, ...readState(r) };
      break;
    case ServerOp.PONG:
      frame = { op, clientTimeMs: r.f64(), serverTimeMs: r.f64() };
      break;
    case ServerOp.ERROR:
      frame = {
        op,
        code: r.varuint(),
        name: r.string(WireLimits.errorNameBytes),
        message: r.string(WireLimits.errorMessageBytes),
      };
      break;
    case ServerOp.RESULT:
      frame = readResult(r);
      break;
    case ServerOp.MESSAGE:
      frame = readServerMessage(r);
      break;
    case ServerOp.REDIRECT:
      frame = {
        op,
        redirect: parseJsonObject(r.string(WireLimits.redirectBytes)) as unknown as RedirectPayload,
      };
      break;
    case ServerOp.EVENT:
      frame = {
        op,
        event: parseJsonObject(r.string(WireLimits.eventBytes)) as unknown as PlexusEventEnvelope,
      };
      break;
    default:
      throw new DecodeError(`unknown server opcode 0x${op.toString(16)}`);
  }
  r.end();
  return frame;
}

// ---------------------------------------------------------------- shared pieces

function writeVec3(w: ByteWriter, v: Vec3): void {
  w.f32(v.x).f32(v.y).f32(v.z);
}

function writeQuat(w: ByteWriter, q: Quat): void {
  w.f32(q.x).f32(q.y).f32(q.z).f32(q.w);
}

function readVec3(r: ByteReader): Vec3 {
  return { x: r.f32(), y: r.f32(), z: r.f32() };
}

function readQuat(r: ByteReader): Quat {
  return { x: r.f32(), y: r.f32(), z: r.f32(), w: r.f32() };
}
