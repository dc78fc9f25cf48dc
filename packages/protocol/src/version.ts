/** Version of the client ↔ dedicated-server wire protocol; sent first in HELLO. */
export const PROTOCOL_VERSION = 6;

/**
 * The versions a dedicated server accepts in HELLO (docs/protocol.md §8). A version-2 session runs
 * as before; from 3 on, moves carry a sequence number and the server acknowledges them (MOVE_ACK);
 * from 4 on, STATE updates may carry a yaw or a position without y (compact updates); from 5 on, an
 * update's id delta and its usual fields share one varuint (packed heads); from 6 on, a walking,
 * turning avatar's offsets and yaw share five bytes (packed motion).
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [2, 3, 4, 5, 6];

/** The first version whose moves carry a `seq` that MOVE_ACK acknowledges. */
export const MOVE_ACK_VERSION = 3;

/** The first version whose STATE updates use the compact fields (YAW, POSITION_XZ). */
export const COMPACT_UPDATES_VERSION = 4;

/** The first version whose STATE updates start with a packed head (id delta and fields together). */
export const PACKED_HEADS_VERSION = 5;

/** The first version whose walking, turning updates carry their offsets and yaw in 40 bits. */
export const PACKED_MOTION_VERSION = 6;

/** Version of the dedicated-server ↔ balancer control channel; sent in the register message. */
export const CONTROL_PROTOCOL_VERSION = 1;
