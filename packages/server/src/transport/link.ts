import type { Logger } from '@plexus/kit';
import type { ClientFrame, ClientOp, ErrorName, FrameOf } from '@plexus/protocol';

/**
 * The seam between a client socket and the playground it joined (docs/architecture.md, "Rooms own
 * members"): the connection is transport — it knows no room — and the room's member reaches it only
 * through {@link MemberLink}.
 */

/**
 * Why a member's connection ended. `leave`: LEAVE frame; `fatal`: a protocol error; `drop`: the
 * socket went away (or idled out) — the presence waits for a resume; `replaced`: a newer connection
 * of the same user took over; `moved`: the playground went to another server.
 */
export type LeaveKind = 'leave' | 'fatal' | 'drop' | 'replaced' | 'moved';

/** Why an admission failed: the error and, for a playground's refusal, its reason. */
export interface Refusal {
  name: ErrorName;
  message?: string;
}

/** What WELCOME says about the member (the connection adds the server's side). */
export interface WelcomeInfo {
  playgroundId: string;
  selfId: number;
  resumed: boolean;
  resumeToken?: string | undefined;
}

/** The frames a member's playground handles; the connection handles the rest itself. */
export type PlaygroundFrame = FrameOf<
  ClientFrame,
  | typeof ClientOp.MOVE
  | typeof ClientOp.SET_ENTITY
  | typeof ClientOp.SPAWN
  | typeof ClientOp.DESPAWN
  | typeof ClientOp.AUTHORITY
  | typeof ClientOp.MESSAGE
>;

/** A client connection as its member sees it (ClientConnection implements it). */
export interface MemberLink {
  readonly clientId: number;
  readonly log: Logger;
  readonly isClosed: boolean;
  /**
   * The protocol version the client's HELLO announced (docs/protocol.md §8); absent means 2. From 3
   * on its moves carry sequence numbers and its member acknowledges them with MOVE_ACK.
   */
  readonly protocolVersion?: number;
  /** Bytes handed to the socket and not yet sent (backpressure). */
  readonly bufferedAmount: number;
  send(bytes: Uint8Array): void;
  /**
   * A STATE frame: the same bytes may go to many members, framed once (ws-frame.ts). A `trailer`
   * (the member's MOVE_ACK) follows it in the same socket write.
   */
  sendState(bytes: Uint8Array, trailer?: Uint8Array): void;
  /** The WELCOME of the handshake, then the first keyframe. */
  sendWelcome(welcome: WelcomeInfo, keyframe: Uint8Array): void;
  /** A fatal error: its ERROR frame, then its close code. */
  refuse(name: ErrorName, message?: string): void;
  close(code: number, reason: string): void;
}
