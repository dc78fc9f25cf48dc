/** First byte of every binary frame. Client → server opcodes are < 0x80, server → client ≥ 0x80. */
export const ClientOp = {
  HELLO: 0x01,
  MOVE: 0x02,
  PING: 0x03,
  LEAVE: 0x04,
  SET_ENTITY: 0x05,
  SPAWN: 0x06,
  DESPAWN: 0x07,
  AUTHORITY: 0x08,
  MESSAGE: 0x09,
} as const;

export const ServerOp = {
  WELCOME: 0x81,
  STATE: 0x82,
  PONG: 0x83,
  ERROR: 0x84,
  RESULT: 0x85,
  MESSAGE: 0x86,
  /** The playground is moving: reconnect to `endpoint` with `ticket` (JSON RedirectPayload). */
  REDIRECT: 0x87,
  /** A published event for this client (JSON PlexusEventEnvelope). */
  EVENT: 0x88,
  /** The moves of a v3 session applied up to a sequence number, and those refused (§5.10). */
  MOVE_ACK: 0x89,
} as const;

export type ClientOpcode = (typeof ClientOp)[keyof typeof ClientOp];
export type ServerOpcode = (typeof ServerOp)[keyof typeof ServerOp];

/** Bits of the STATE frame's flags byte. */
export const StateFlags = {
  /** The frame is a full snapshot: entities not listed must be dropped. */
  KEYFRAME: 0x01,
  /**
   * Version 5: every update of the frame's chunks starts with a packed head, its id delta and
   * its fields in one varuint (docs/protocol.md §4, "STATE"). Sent to version-5 sessions only.
   */
  PACKED_HEADS: 0x02,
  /**
   * Version 6, always with PACKED_HEADS: an update of head form 1 (walking and turning) carries
   * its x and z offsets and a 12-bit yaw in five bytes (docs/protocol.md §4, "STATE"). Sent to
   * version-6 sessions only.
   */
  PACKED_MOTION: 0x04,
} as const;

/** Bits of an entity update's field mask. */
export const UpdateFields = {
  POSITION: 0x01,
  ROTATION: 0x02,
  PROPS: 0x04,
  /** The entity's authority changed: `owner` is the new owner's client id (0 = server). */
  OWNER: 0x08,
  /**
   * Version 4: the rotation is a turn about +y, sent as a u16 angle (docs/protocol.md §4,
   * "STATE"); never together with ROTATION.
   */
  YAW: 0x10,
  /**
   * Version 4: the position's x and z only; y is the one the client holds. Never together with
   * POSITION.
   */
  POSITION_XZ: 0x20,
} as const;

/** Actions of the AUTHORITY frame. */
export const AuthorityAction = {
  REQUEST: 1,
  RELEASE: 2,
  TRANSFER: 3,
} as const;

export type AuthorityActionCode = (typeof AuthorityAction)[keyof typeof AuthorityAction];

/** Owner id meaning "the server owns this entity". Client ids start at 1. */
export const SERVER_OWNER = 0;
