import type { Logger } from '@plexus/kit';
import {
  type ChunkLayout,
  ClientOp,
  chunkLayoutFor,
  type DisplayProfile,
  ErrorCodes,
  type ErrorName,
  encodeError,
  encodeMoveAck,
  encodeRedirect,
  encodeResult,
  type FrameHandlers,
  MOVE_ACK_VERSION,
  type Quat,
  type RedirectPayload,
  type RefusedMove,
  type Vec3,
  WireLimits,
} from '@plexus/protocol';
import type { VerifiedTicket } from '../control/ticket-verifier.ts';
import type { MemberLink, PlaygroundFrame } from '../transport/link.ts';
import { MoveQueue } from './move-queue.ts';
import type { Outcome, PlaygroundLogic } from './playground-logic.ts';

/**
 * A user's stay in one playground, kept across the connections that carry it: a dropped connection
 * leaves it waiting in an away seat, a resume hands it to the new connection, a checkpoint carries
 * it to another server.
 */
export interface Presence {
  userId: string;
  /** From the user's latest ticket; null for a presence restored from a checkpoint until they return. */
  profile: DisplayProfile | null;
  avatarId: number;
  /** Wall-clock ms when the stay began (sessionMs on leave). */
  joinedAt: number;
  /** Player data set by playground logic (PlayerRecord.data). */
  data: Record<string, unknown>;
  /** `data` changed since the last players.save that included it. */
  dataChanged: boolean;
  /** The avatar's transform in the last accepted players.save, or null. */
  saved: { position: Vec3; rotation: Quat } | null;
  /** Wall-clock ms of that save (presence refresh). */
  savedAt: number;
}

/** What a member needs of the room that owns it. */
export interface MemberRoom {
  readonly playgroundId: string;
  readonly logic: PlaygroundLogic;
  /** False while the playground drains: it takes no more input. */
  readonly live: boolean;
  /** A frame was refused (metrics). */
  refused(name: ErrorName): void;
  /** The resume token WELCOME carries, if the server issues them. */
  resumeToken(member: Member): string | undefined;
}

export interface MemberInit {
  ticket: VerifiedTicket;
  presence: Presence;
  resumed: boolean;
}

/** Bound of queued moves per member: at most one per owned entity, and never more than this. */
const MAX_QUEUED_MOVES = 64;
/** Bound of server MESSAGEs and EVENTs held for a member between its admission and its WELCOME. */
const MAX_HELD_MESSAGES = 64;
const MAX_HELD_EVENTS = 256;

type PlaygroundOpcode = PlaygroundFrame['op'];

/**
 * A connected member of a room (docs/architecture.md, "Rooms own members"): its presence, the input
 * it queued for the next tick, and its replica state (welcomed, keyframe owed, stuck since). It
 * reaches its socket only through the narrow {@link MemberLink}; the room's tick applies its moves
 * and sends its frames (replication/send-tick.ts).
 */
export class Member {
  readonly link: MemberLink;
  readonly clientId: number;
  readonly userId: string;
  readonly presence: Presence;
  /** This admission resumed an earlier presence (WELCOME.resumed). */
  readonly resumed: boolean;
  /** The verified ticket (its profile travels with a drain). */
  readonly ticket: VerifiedTicket;
  readonly log: Logger;
  /** False until WELCOME and the first keyframe went out (at admission). */
  welcomed = false;
  /** A delta was skipped (backpressure): the next frame this member gets is a keyframe. */
  needsKeyframe = false;
  /** Since when the member has been above the buffered-bytes bound (ms, monotonic), or null. */
  stuckSince: number | null = null;
  /** Latest accepted move per owned entity, applied at the next tick. */
  readonly moves = new MoveQueue(MAX_QUEUED_MOVES);
  /** The playground moved away: however the connection ends now, the presence travels. */
  moving = false;
  private readonly room: MemberRoom;
  /** Server MESSAGEs sent by playground logic before WELCOME went out (flushed right after it). */
  private held: Uint8Array[] = [];
  /** EVENT frames for the member before WELCOME went out (its offline inbox among them). */
  private heldEvents: Uint8Array[] = [];
  /** A v3 session: its moves carry sequence numbers and get a MOVE_ACK (docs/protocol.md §5.10). */
  private readonly acks: boolean;
  readonly chunkLayout: ChunkLayout;
  /** Highest sequence number of its moves applied, and the highest one a MOVE_ACK carried. */
  private appliedSeq = 0;
  private ackedSeq = 0;
  /** Moves refused since the last MOVE_ACK (the newest, bounded by the frame's limit). */
  private refusedMoves: RefusedMove[] = [];

  constructor(link: MemberLink, init: MemberInit, room: MemberRoom) {
    this.link = link;
    this.clientId = link.clientId;
    this.userId = init.ticket.sub;
    this.presence = init.presence;
    this.resumed = init.resumed;
    this.ticket = init.ticket;
    this.room = room;
    this.log = link.log.child({ playgroundId: room.playgroundId });
    this.acks = (link.protocolVersion ?? 2) >= MOVE_ACK_VERSION;
    this.chunkLayout = chunkLayoutFor(link.protocolVersion ?? 2);
  }

  get avatarId(): number {
    return this.presence.avatarId;
  }

  get profile(): DisplayProfile {
    return this.ticket.prof;
  }

  get bufferedAmount(): number {
    return this.link.bufferedAmount;
  }

  /** One handler per playground opcode: the playground's logic decides. */
  private readonly handlers: FrameHandlers<PlaygroundOpcode, PlaygroundFrame> = {
    [ClientOp.MOVE]: (f) => {
      const verdict = this.room.logic.checkMove(this.clientId, f.entityId, f.position, f.rotation);
      if (!verdict.ok) this.refuseMove(f.entityId, f.seq, verdict.error, verdict.message);
      else this.queueMove(f.entityId, verdict.position, verdict.rotation, f.seq);
    },
    [ClientOp.SET_ENTITY]: (f) => {
      const change = {
        ...(f.position ? { position: f.position } : {}),
        ...(f.rotation ? { rotation: f.rotation } : {}),
        ...(f.props ? { props: f.props } : {}),
      };
      const verdict = this.room.logic.setEntity(
        this.clientId,
        f.entityId,
        change,
        this.moves.get(f.entityId),
      );
      if (!verdict.ok) this.refuseMove(f.entityId, f.seq, verdict.error, verdict.message);
      else if (verdict.position) this.queueMove(f.entityId, verdict.position, verdict.rotation, f.seq);
    },
    [ClientOp.SPAWN]: (f) => this.sendResult(f.requestId, this.room.logic.spawnRequest(this.clientId, f)),
    [ClientOp.DESPAWN]: (f) =>
      this.sendResult(f.requestId, this.room.logic.despawnRequest(this.clientId, f.entityId)),
    [ClientOp.AUTHORITY]: (f) =>
      this.sendResult(
        f.requestId,
        this.room.logic.authorityRequest(this.clientId, f.action, f.entityId, f.targetClientId),
      ),
    [ClientOp.MESSAGE]: (f) => {
      const outcome = this.room.logic.message(this.clientId, f.type, f.payload);
      if (!outcome.ok) this.notify(outcome.error, outcome.message);
    },
  };

  /**
   * A frame from the member's connection. A draining playground takes no more input (its final
   * checkpoint is being written and moved), but a request still gets its one RESULT.
   */
  input(frame: PlaygroundFrame): void {
    if (this.room.live) {
      (this.handlers[frame.op] as (f: PlaygroundFrame) => void)(frame);
    } else if ('requestId' in frame) {
      this.sendResult(frame.requestId, {
        ok: false,
        error: 'PROTOCOL_SHUTTING_DOWN',
        message: 'The playground is moving to another server',
      });
    }
  }

  /**
   * A later move of the same entity within the tick replaces the earlier one (acking its seq covers
   * the earlier one's). Copied: the frame may be the connection's reused one.
   */
  private queueMove(entityId: number, position: Vec3, rotation: Quat, seq: number | undefined): void {
    if (!this.moves.put(entityId, position, rotation, seq) && seq !== undefined) {
      this.moveRefused(entityId, seq, 'PROTOCOL_RATE_LIMITED');
    }
  }

  /** A refused move or transform change: its ERROR frame, and on a v3 session its MOVE_ACK entry. */
  private refuseMove(entityId: number, seq: number | undefined, name: ErrorName, message?: string): void {
    this.notify(name, message);
    if (seq !== undefined) this.moveRefused(entityId, seq, name);
  }

  /** The tick applied a queued move. */
  moveApplied(seq: number | undefined): void {
    if (seq !== undefined && seq > this.appliedSeq) this.appliedSeq = seq;
  }

  /** A move with `seq` did not land (refused, or its entity changed hands before the tick). */
  moveRefused(entityId: number, seq: number, name: ErrorName): void {
    if (!this.acks) return;
    if (this.refusedMoves.length >= WireLimits.moveAckRefusals) this.refusedMoves.shift();
    this.refusedMoves.push({ entityId, seq, code: ErrorCodes[name].code });
  }

  /**
   * After the tick's frame: a v3 member gets one MOVE_ACK when a move was applied or refused since
   * the last one. One over the buffered-bytes bound gets nothing now and the whole answer later.
   */
  sendMoveAck(): void {
    const ack = this.takeMoveAck();
    if (ack) this.link.send(ack);
  }

  /** The MOVE_ACK due now, if any (it then counts as sent). */
  private takeMoveAck(): Uint8Array | null {
    if (!this.acks || !this.welcomed || this.stuckSince !== null) return null;
    if (this.appliedSeq === this.ackedSeq && this.refusedMoves.length === 0) return null;
    const ack = encodeMoveAck(this.appliedSeq, this.refusedMoves);
    this.ackedSeq = this.appliedSeq;
    this.refusedMoves = [];
    return ack;
  }

  /** The one RESULT frame of a request: code 0 and the entity id, or the error's code and message. */
  private sendResult(requestId: number, outcome: Outcome): void {
    if (outcome.ok) {
      this.link.send(encodeResult(requestId, 0, outcome.value, ''));
      return;
    }
    this.room.refused(outcome.error);
    this.log.debug({ error: outcome.error, reason: outcome.message, requestId }, 'request refused');
    this.link.send(encodeResult(requestId, ErrorCodes[outcome.error].code, 0, outcome.message));
  }

  /** A non-fatal error: one ERROR frame, the connection stays open. */
  private notify(name: ErrorName, message?: string): void {
    this.room.refused(name);
    this.log.debug({ error: name, reason: message }, 'frame refused');
    this.link.send(encodeError(ErrorCodes[name].code, name, message ?? ErrorCodes[name].message));
  }

  send(bytes: Uint8Array): void {
    this.link.send(bytes);
  }

  /** A STATE frame, with the MOVE_ACK due after it in the same write (protocol.md §5.10). */
  sendState(bytes: Uint8Array): void {
    const ack = this.takeMoveAck();
    if (ack) this.link.sendState(bytes, ack);
    else this.link.sendState(bytes);
  }

  refuse(name: ErrorName, message?: string): void {
    this.link.refuse(name, message);
  }

  /** A server MESSAGE from playground logic: held until WELCOME went out, then sent in order. */
  sendMessage(bytes: Uint8Array): void {
    if (this.welcomed) this.link.send(bytes);
    else if (this.held.length < MAX_HELD_MESSAGES) this.held.push(bytes);
    else this.log.debug('message dropped: too many before WELCOME');
  }

  /** An EVENT frame: held until WELCOME went out, then sent in order. */
  sendEvent(bytes: Uint8Array): void {
    if (this.welcomed) this.link.send(bytes);
    else if (this.heldEvents.length < MAX_HELD_EVENTS) this.heldEvents.push(bytes);
    else this.log.debug('event dropped: too many before WELCOME');
  }

  /** WELCOME and the first keyframe, at admission; then what was held for it. */
  sendWelcome(playgroundId: string, keyframe: Uint8Array): void {
    this.link.sendWelcome(
      {
        playgroundId,
        selfId: this.avatarId,
        resumed: this.resumed,
        resumeToken: this.room.resumeToken(this),
      },
      keyframe,
    );
    this.welcomed = true;
    this.needsKeyframe = false;
    const held = [...this.held, ...this.heldEvents];
    this.held = [];
    this.heldEvents = [];
    for (const bytes of held) this.link.send(bytes);
  }

  /**
   * The playground moved (drain): one REDIRECT with the new endpoint and ticket. The client closes
   * the socket once it switched; the presence travels with the playground's checkpoint.
   */
  redirect(payload: RedirectPayload): void {
    if (this.link.isClosed) return;
    this.moving = true;
    this.link.send(encodeRedirect(payload));
  }

  /** Closes a connection whose playground moved elsewhere (its presence is not ended here). */
  closeMoved(code: number, reason: string): void {
    this.moving = true;
    this.link.close(code, reason);
  }
}
