/**
 * Byte limits of the variable-length fields of every frame (docs/protocol.md §3–4 and §7), defined
 * here once: decoders read strings against them, the frame table lists which apply to each opcode,
 * and senders check against them before encoding. A frame exceeding one is malformed.
 */
export const WireLimits = {
  ticketBytes: 4096,
  kindBytes: 64,
  propsBytes: 16 * 1024,
  welcomeBytes: 4096,
  errorNameBytes: 64,
  errorMessageBytes: 1024,
  resultMessageBytes: 1024,
  messageTypeBytes: 64,
  /** Payload of one custom message (JSON text). */
  messagePayloadBytes: 8 * 1024,
  redirectBytes: 8 * 1024,
  /** EVENT_MAX_PAYLOAD_BYTES of payload plus the envelope's other fields. */
  eventBytes: 12 * 1024,
  /** Refused moves one MOVE_ACK names (a count, not bytes). */
  moveAckRefusals: 64,
} as const;

export type WireLimitName = keyof typeof WireLimits;

/** The custom-message limits, by the name the SDK and playground API check them under. */
export const EntityLimits = {
  messageTypeBytes: WireLimits.messageTypeBytes,
  messagePayloadBytes: WireLimits.messagePayloadBytes,
} as const;
