import { ClientOp, type ClientOpcode, ServerOp, type ServerOpcode } from '../opcodes.ts';
import { ByteReader, DecodeError } from './byte-reader.ts';
import {
  type EntityClientFrame,
  type EntityServerFrame,
  encodeAuthority,
  encodeClientMessage,
  encodeDespawn,
  encodeResult,
  encodeServerMessage,
  encodeSetEntity,
  encodeSpawn,
  readAuthority,
  readClientMessage,
  readDespawn,
  readResult,
  readServerMessage,
  readSetEntity,
  readSpawn,
} from './entity-frames.ts';
import { type WireLimitName, WireLimits } from './limits.ts';
import {
  encodeError,
  encodeEvent,
  encodeHello,
  encodeLeave,
  encodeMove,
  encodeMoveAck,
  encodePing,
  encodePong,
  encodeRedirect,
  encodeWelcome,
  type FrameOf,
  type MoveFrame,
  readError,
  readEvent,
  readHello,
  readMove,
  readMoveAck,
  readMoveInto,
  readPing,
  readPong,
  readRedirect,
  readWelcome,
  type SessionClientFrame,
  type SessionServerFrame,
} from './session-frames.ts';
import { encodeState, readState, type StateFrame } from './state.ts';

// The codecs of each frame group; this module is their one table (docs/architecture.md, "Adding a
// frame type").
export * from './limits.ts';
export * from './session-frames.ts';
export * from './state.ts';

export type ClientFrame = SessionClientFrame | EntityClientFrame;

export type ServerFrame =
  | SessionServerFrame
  | ({ op: typeof ServerOp.STATE } & StateFrame)
  | EntityServerFrame;

/** One opcode's entry in the frame table. */
export interface FrameCodec<F extends { op: number }> {
  readonly op: F['op'];
  /** Its name in docs/protocol.md §3–4. */
  readonly name: string;
  /** Reads the payload after the opcode byte; throws DecodeError for anything malformed. */
  decode(r: ByteReader): F;
  encode(frame: F): Uint8Array;
  /** The byte limits (of {@link WireLimits}) its variable-length fields are read against. */
  readonly limits: Partial<Record<WireLimitName, number>>;
  /** A request answered by exactly one RESULT with its `requestId` (docs/protocol.md §5.7). */
  readonly request: boolean;
}

/**
 * A codec for every opcode of `Op`: an opcode added to {@link ClientOp} or {@link ServerOp} without
 * an entry here (or without its frame type in the union) does not compile.
 */
export type FrameTable<Op extends number, F extends { op: number }> = {
  readonly [K in Op]: FrameCodec<Extract<F, { op: K }>>;
};

/** One handler per opcode of a frame union: a receiver that forgets an opcode does not compile. */
export type FrameHandlers<Op extends number, F extends { op: number }, R = void> = {
  readonly [K in Op]: (frame: Extract<F, { op: K }>) => R;
};

export type ClientFrameHandlers<R = void> = FrameHandlers<ClientOpcode, ClientFrame, R>;
export type ServerFrameHandlers<R = void> = FrameHandlers<ServerOpcode, ServerFrame, R>;

/** Calls the handler of `frame`'s opcode. */
export function dispatchFrame<F extends { op: number }, R>(
  handlers: { readonly [K in F['op']]: (frame: Extract<F, { op: K }>) => R },
  frame: F,
): R {
  return (handlers[frame.op as F['op']] as (f: F) => R)(frame);
}

const L = WireLimits;

/** Client → server frames (docs/protocol.md §3). */
export const clientFrames = {
  [ClientOp.HELLO]: {
    op: ClientOp.HELLO,
    name: 'HELLO',
    decode: readHello,
    encode: (f) => encodeHello(f.protocolVersion, f.ticket),
    limits: { ticketBytes: L.ticketBytes },
    request: false,
  },
  [ClientOp.MOVE]: {
    op: ClientOp.MOVE,
    name: 'MOVE',
    decode: readMove,
    encode: (f) => encodeMove(f.entityId, f.position, f.rotation, f.seq),
    limits: {},
    request: false,
  },
  [ClientOp.PING]: {
    op: ClientOp.PING,
    name: 'PING',
    decode: readPing,
    encode: (f) => encodePing(f.clientTimeMs),
    limits: {},
    request: false,
  },
  [ClientOp.LEAVE]: {
    op: ClientOp.LEAVE,
    name: 'LEAVE',
    decode: () => ({ op: ClientOp.LEAVE }),
    encode: () => encodeLeave(),
    limits: {},
    request: false,
  },
  [ClientOp.SET_ENTITY]: {
    op: ClientOp.SET_ENTITY,
    name: 'SET_ENTITY',
    decode: readSetEntity,
    encode: (f) => encodeSetEntity(f.entityId, f, f.seq),
    limits: { propsBytes: L.propsBytes },
    request: false,
  },
  [ClientOp.SPAWN]: {
    op: ClientOp.SPAWN,
    name: 'SPAWN',
    decode: readSpawn,
    encode: (f) => encodeSpawn(f.requestId, f.kind, f.position, f.rotation, f.props),
    limits: { kindBytes: L.kindBytes, propsBytes: L.propsBytes },
    request: true,
  },
  [ClientOp.DESPAWN]: {
    op: ClientOp.DESPAWN,
    name: 'DESPAWN',
    decode: readDespawn,
    encode: (f) => encodeDespawn(f.requestId, f.entityId),
    limits: {},
    request: true,
  },
  [ClientOp.AUTHORITY]: {
    op: ClientOp.AUTHORITY,
    name: 'AUTHORITY',
    decode: readAuthority,
    encode: (f) => encodeAuthority(f.requestId, f.action, f.entityId, f.targetClientId),
    limits: {},
    request: true,
  },
  [ClientOp.MESSAGE]: {
    op: ClientOp.MESSAGE,
    name: 'MESSAGE',
    decode: readClientMessage,
    encode: (f) => encodeClientMessage(f.type, f.payload),
    limits: { messageTypeBytes: L.messageTypeBytes, messagePayloadBytes: L.messagePayloadBytes },
    request: false,
  },
} as const satisfies FrameTable<ClientOpcode, ClientFrame>;

/** Server → client frames (docs/protocol.md §4). */
export const serverFrames = {
  [ServerOp.WELCOME]: {
    op: ServerOp.WELCOME,
    name: 'WELCOME',
    decode: readWelcome,
    encode: (f) => encodeWelcome(f.welcome, f.protocolVersion),
    limits: { welcomeBytes: L.welcomeBytes },
    request: false,
  },
  [ServerOp.STATE]: {
    op: ServerOp.STATE,
    name: 'STATE',
    decode: (r) => ({ op: ServerOp.STATE, ...readState(r) }),
    encode: (f) => encodeState(f),
    limits: { kindBytes: L.kindBytes, propsBytes: L.propsBytes },
    request: false,
  },
  [ServerOp.PONG]: {
    op: ServerOp.PONG,
    name: 'PONG',
    decode: readPong,
    encode: (f) => encodePong(f.clientTimeMs, f.serverTimeMs),
    limits: {},
    request: false,
  },
  [ServerOp.ERROR]: {
    op: ServerOp.ERROR,
    name: 'ERROR',
    decode: readError,
    encode: (f) => encodeError(f.code, f.name, f.message),
    limits: { errorNameBytes: L.errorNameBytes, errorMessageBytes: L.errorMessageBytes },
    request: false,
  },
  [ServerOp.RESULT]: {
    op: ServerOp.RESULT,
    name: 'RESULT',
    decode: readResult,
    encode: (f) => encodeResult(f.requestId, f.code, f.value, f.message),
    limits: { resultMessageBytes: L.resultMessageBytes },
    request: false,
  },
  [ServerOp.MESSAGE]: {
    op: ServerOp.MESSAGE,
    name: 'MESSAGE',
    decode: readServerMessage,
    encode: (f) => encodeServerMessage(f.from, f.type, f.payload),
    limits: { messageTypeBytes: L.messageTypeBytes, messagePayloadBytes: L.messagePayloadBytes },
    request: false,
  },
  [ServerOp.REDIRECT]: {
    op: ServerOp.REDIRECT,
    name: 'REDIRECT',
    decode: readRedirect,
    encode: (f) => encodeRedirect(f.redirect),
    limits: { redirectBytes: L.redirectBytes },
    request: false,
  },
  [ServerOp.EVENT]: {
    op: ServerOp.EVENT,
    name: 'EVENT',
    decode: readEvent,
    encode: (f) => encodeEvent(f.event),
    limits: { eventBytes: L.eventBytes },
    request: false,
  },
  [ServerOp.MOVE_ACK]: {
    op: ServerOp.MOVE_ACK,
    name: 'MOVE_ACK',
    decode: readMoveAck,
    encode: (f) => encodeMoveAck(f.lastAppliedSeq, f.refused),
    limits: { moveAckRefusals: L.moveAckRefusals },
    request: false,
  },
} as const satisfies FrameTable<ServerOpcode, ServerFrame>;

/** The opcodes the table marks as requests. */
type RequestOpcode = {
  [K in ClientOpcode]: (typeof clientFrames)[K]['request'] extends true ? K : never;
}[ClientOpcode];

/** A client frame that expects one RESULT. */
export type RequestFrame = FrameOf<ClientFrame, RequestOpcode>;

/** Whether the table marks `frame` as a request (the drain path still answers those). */
export function isRequestFrame(frame: ClientFrame): frame is RequestFrame {
  return clientFrames[frame.op].request;
}

function decodeWith<F extends { op: number }>(
  table: Readonly<Record<number, FrameCodec<F>>>,
  side: string,
  bytes: Uint8Array,
): F {
  const r = new ByteReader(bytes);
  const op = r.u8();
  const codec = Object.hasOwn(table, op) ? table[op] : undefined;
  if (!codec) throw new DecodeError(`unknown ${side} opcode 0x${op.toString(16)}`);
  const frame = codec.decode(r);
  r.end();
  return frame;
}

/** Decodes a client frame; throws DecodeError for anything malformed or unknown. */
export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  return decodeWith<ClientFrame>(clientFrames as Record<number, FrameCodec<ClientFrame>>, 'client', bytes);
}

/**
 * Decodes a MOVE (`bytes[0]` is its opcode) into `frame`, overwriting every field, so a receiver
 * can keep one frame per connection instead of allocating one per MOVE — the most frequent client
 * frame. Throws DecodeError exactly as {@link decodeClientFrame} would; the frame (and its
 * position and rotation objects) is only valid until the next decode into it.
 */
export function decodeMoveInto(bytes: Uint8Array, frame: MoveFrame): MoveFrame {
  const r = new ByteReader(bytes);
  if (r.u8() !== ClientOp.MOVE) throw new DecodeError('not a MOVE frame');
  readMoveInto(r, frame);
  r.end();
  return frame;
}

/** Decodes a server frame; throws DecodeError for anything malformed or unknown. */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  return decodeWith<ServerFrame>(serverFrames as Record<number, FrameCodec<ServerFrame>>, 'server', bytes);
}
