/** Version of the client ↔ dedicated-server wire protocol; sent first in HELLO. */
export const PROTOCOL_VERSION = 2;

/** Version of the dedicated-server ↔ balancer control channel; sent in the register message. */
export const CONTROL_PROTOCOL_VERSION = 1;
