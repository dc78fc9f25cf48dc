/** First byte of every binary frame. Client → server opcodes are < 0x80, server → client ≥ 0x80. */
export const ClientOp = {
  HELLO: 0x01,
  MOVE: 0x02,
  PING: 0x03,
  LEAVE: 0x04,
} as const;

export const ServerOp = {
  WELCOME: 0x81,
  STATE: 0x82,
  PONG: 0x83,
  ERROR: 0x84,
} as const;

export type ClientOpcode = (typeof ClientOp)[keyof typeof ClientOp];
export type ServerOpcode = (typeof ServerOp)[keyof typeof ServerOp];

/** Bits of the STATE frame's flags byte. */
export const StateFlags = {
  /** The frame is a full snapshot: entities not listed must be dropped. */
  KEYFRAME: 0x01,
} as const;

/** Bits of an entity update's field mask. */
export const UpdateFields = {
  POSITION: 0x01,
  ROTATION: 0x02,
  PROPS: 0x04,
} as const;

/** Owner id meaning "the server owns this entity". Client ids start at 1. */
export const SERVER_OWNER = 0;
