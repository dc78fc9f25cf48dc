import { AuthorityAction, type AuthorityActionCode, ClientOp, ServerOp, UpdateFields } from '../opcodes.ts';
import type { JsonValue, Props, Quat, Vec3 } from '../types.ts';
import { type ByteReader, DecodeError } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { readQuat, readVec3, writeQuat, writeVec3 } from './geometry.ts';
import { parseJsonObject, parseJsonValue } from './json.ts';
import { WireLimits } from './limits.ts';
import type { FrameOf } from './session-frames.ts';

/**
 * Frames for entity management, authority and custom messages (docs/protocol.md §4–5). Requests
 * that expect an answer carry a client-chosen `requestId`; the server answers each with exactly
 * one RESULT frame carrying the same id.
 */

export type EntityClientFrame =
  | {
      op: typeof ClientOp.SET_ENTITY;
      entityId: number;
      position?: Vec3;
      rotation?: Quat;
      /** Top-level keys merged into the entity's props (a key set to null is deleted). */
      props?: Props;
      /** v3, with a transform: the change's move sequence number (acknowledged by MOVE_ACK). */
      seq?: number;
    }
  | {
      op: typeof ClientOp.SPAWN;
      requestId: number;
      kind: string;
      position: Vec3;
      rotation: Quat;
      props: Props;
    }
  | { op: typeof ClientOp.DESPAWN; requestId: number; entityId: number }
  | {
      op: typeof ClientOp.AUTHORITY;
      requestId: number;
      action: AuthorityActionCode;
      entityId: number;
      /** Client id to transfer to (TRANSFER only; 0 otherwise). */
      targetClientId: number;
    }
  | { op: typeof ClientOp.MESSAGE; type: string; payload: JsonValue };

export type EntityServerFrame =
  | {
      op: typeof ServerOp.RESULT;
      requestId: number;
      /** 0 on success, else an error code of errors.ts. */
      code: number;
      /** On success: the spawned entity id (SPAWN) or the entity id (others). */
      value: number;
      message: string;
    }
  | {
      op: typeof ServerOp.MESSAGE;
      /** Sender's client id; 0 = the server (playground logic). */
      from: number;
      type: string;
      payload: JsonValue;
    };

// ---------------------------------------------------------------- encoders

export function encodeSetEntity(
  entityId: number,
  change: { position?: Vec3; rotation?: Quat; props?: Props },
  seq?: number,
): Uint8Array {
  const fields =
    (change.position ? UpdateFields.POSITION : 0) |
    (change.rotation ? UpdateFields.ROTATION : 0) |
    (change.props ? UpdateFields.PROPS : 0);
  const w = new ByteWriter(64).u8(ClientOp.SET_ENTITY).varuint(entityId).u8(fields);
  if (change.position) writeVec3(w, change.position);
  if (change.rotation) writeQuat(w, change.rotation);
  if (change.props) w.string(JSON.stringify(change.props));
  if (seq !== undefined) w.varuint(seq);
  return w.finish();
}

export function encodeSpawn(
  requestId: number,
  kind: string,
  position: Vec3,
  rotation: Quat,
  props: Props,
): Uint8Array {
  const w = new ByteWriter(96).u8(ClientOp.SPAWN).varuint(requestId).string(kind);
  writeQuat(writeVec3(w, position), rotation);
  return w.string(JSON.stringify(props)).finish();
}

export function encodeDespawn(requestId: number, entityId: number): Uint8Array {
  return new ByteWriter(12).u8(ClientOp.DESPAWN).varuint(requestId).varuint(entityId).finish();
}

export function encodeAuthority(
  requestId: number,
  action: AuthorityActionCode,
  entityId: number,
  targetClientId = 0,
): Uint8Array {
  return new ByteWriter(20)
    .u8(ClientOp.AUTHORITY)
    .varuint(requestId)
    .u8(action)
    .varuint(entityId)
    .varuint(targetClientId)
    .finish();
}

export function encodeClientMessage(type: string, payload: JsonValue): Uint8Array {
  return new ByteWriter(64).u8(ClientOp.MESSAGE).string(type).string(JSON.stringify(payload)).finish();
}

export function encodeResult(requestId: number, code: number, value: number, message: string): Uint8Array {
  return new ByteWriter(32 + message.length)
    .u8(ServerOp.RESULT)
    .varuint(requestId)
    .varuint(code)
    .varuint(value)
    .string(message)
    .finish();
}

export function encodeServerMessage(from: number, type: string, payload: JsonValue): Uint8Array {
  return new ByteWriter(64)
    .u8(ServerOp.MESSAGE)
    .varuint(from)
    .string(type)
    .string(JSON.stringify(payload))
    .finish();
}

// ---------------------------------------------------------------- payload readers (the frame table's decoders)

export function readSetEntity(r: ByteReader): FrameOf<EntityClientFrame, typeof ClientOp.SET_ENTITY> {
  const entityId = r.varuint();
  const fields = r.u8();
  if (fields & ~(UpdateFields.POSITION | UpdateFields.ROTATION | UpdateFields.PROPS) || fields === 0) {
    throw new DecodeError('SET_ENTITY: invalid field bits');
  }
  const frame: FrameOf<EntityClientFrame, typeof ClientOp.SET_ENTITY> = { op: ClientOp.SET_ENTITY, entityId };
  if (fields & UpdateFields.POSITION) frame.position = readVec3(r);
  if (fields & UpdateFields.ROTATION) frame.rotation = readQuat(r);
  if (fields & UpdateFields.PROPS) frame.props = parseJsonObject(r.string(WireLimits.propsBytes));
  if (r.remaining > 0) frame.seq = r.varuint();
  return frame;
}

export function readSpawn(r: ByteReader): FrameOf<EntityClientFrame, typeof ClientOp.SPAWN> {
  return {
    op: ClientOp.SPAWN,
    requestId: r.varuint(),
    kind: r.string(WireLimits.kindBytes),
    position: readVec3(r),
    rotation: readQuat(r),
    props: parseJsonObject(r.string(WireLimits.propsBytes)),
  };
}

export function readDespawn(r: ByteReader): FrameOf<EntityClientFrame, typeof ClientOp.DESPAWN> {
  return { op: ClientOp.DESPAWN, requestId: r.varuint(), entityId: r.varuint() };
}

export function readAuthority(r: ByteReader): FrameOf<EntityClientFrame, typeof ClientOp.AUTHORITY> {
  const requestId = r.varuint();
  const action = r.u8();
  if (
    action !== AuthorityAction.REQUEST &&
    action !== AuthorityAction.RELEASE &&
    action !== AuthorityAction.TRANSFER
  ) {
    throw new DecodeError(`AUTHORITY: unknown action ${action}`);
  }
  return { op: ClientOp.AUTHORITY, requestId, action, entityId: r.varuint(), targetClientId: r.varuint() };
}

export function readClientMessage(r: ByteReader): FrameOf<EntityClientFrame, typeof ClientOp.MESSAGE> {
  const type = r.string(WireLimits.messageTypeBytes);
  if (type.length === 0) throw new DecodeError('MESSAGE: empty type');
  return { op: ClientOp.MESSAGE, type, payload: parseJsonValue(r.string(WireLimits.messagePayloadBytes)) };
}

export function readResult(r: ByteReader): FrameOf<EntityServerFrame, typeof ServerOp.RESULT> {
  return {
    op: ServerOp.RESULT,
    requestId: r.varuint(),
    code: r.varuint(),
    value: r.varuint(),
    message: r.string(WireLimits.resultMessageBytes),
  };
}

export function readServerMessage(r: ByteReader): FrameOf<EntityServerFrame, typeof ServerOp.MESSAGE> {
  return {
    op: ServerOp.MESSAGE,
    from: r.varuint(),
    type: r.string(WireLimits.messageTypeBytes),
    payload: parseJsonValue(r.string(WireLimits.messagePayloadBytes)),
  };
}
