import type {
  AnalyticsEventInput,
  CheckpointClaimResult,
  EventsPublishParams,
  EventsPublishResult,
  PlayerRecord,
  PlayersJoinResult,
  Quat,
  Vec3,
} from '@plexus/protocol';
import type { Replicator } from '../replication/replicator.ts';
import type { Member, Presence } from './member.ts';
import type { Playground } from './playground.ts';
import type { PlaygroundLogic } from './playground-logic.ts';

/**
 * A presence without a connection: its avatar and the entities it holds stay, owned by `clientId`
 * (the dropped connection's id, or one allocated for a user restored from a checkpoint), until the
 * user resumes or the grace runs out.
 */
export interface AwaySeat {
  presence: Presence;
  clientId: number;
  /** Wall-clock ms since when the user has been away (a restored seat: its checkpoint's `savedAt`). */
  since: number;
  /** Grace timer; null while the room is frozen (the seat travels in the final checkpoint). */
  timer: NodeJS.Timeout | null;
}

/**
 * `claiming`: the epoch is being claimed (and the checkpoint restored); joiners wait.
 * `live`: hosted. `frozen`: draining, inputs ignored, nothing changes. `gone`: no longer hosted.
 */
export type RoomState = 'claiming' | 'live' | 'frozen' | 'gone';

/** Checkpoint bookkeeping of a room (continuity/checkpointer.ts). */
export interface CheckpointState {
  /** Fencing epoch from checkpoints.claim (0: standalone, never written). */
  epoch: number;
  /** Last version sent; the next write uses a higher one. */
  version: number;
  /** `stateRevision` of the last accepted checkpoint. */
  acceptedRevision: number;
  /** Logic state JSON of the last accepted checkpoint. */
  acceptedLogic: string | undefined;
  /** The write in flight, if any (at most one per room). */
  writing: Promise<CheckpointOutcome> | null;
  /**
   * When (the server's monotonic clock, ms) the state was last known saved: a checkpoint accepted or
   * the claim that restored it; the room's creation before that. Feeds `checkpointAgeMs` in load reports.
   */
  savedAtMs: number;
}

export type CheckpointOutcome = 'written' | 'unchanged' | 'stale' | 'failed';

/** A hosted playground and the clients in it. */
export interface Room {
  playground: Playground;
  /** clientId → member: the room owns its members (docs/architecture.md, "Rooms own members"). */
  members: Map<number, Member>;
  /** userId → member: one seat per identity per playground. */
  byUser: Map<string, Member>;
  /** userId → presence waiting for a resume. */
  away: Map<string, AwaySeat>;
  /** Monotonic ms since which the room has had no member nor away seat, or null. */
  emptySince: number | null;
  /** The playground type's rules and hooks (playground-logic.ts). */
  logic: PlaygroundLogic;
  /** Interest management and STATE encoding (replication/replicator.ts). */
  replicator: Replicator;
  state: RoomState;
  /** Resolves true once live, false when the claim failed (joiners are refused NOT_READY). */
  ready: Promise<boolean>;
  checkpoint: CheckpointState;
  /** Bumped by changes a checkpoint carries beyond entities (presences, player data). */
  metaRevision: number;
  /** Bumped by every playground frame a member sends (room-tick.ts: a calm room's ticks skip members). */
  inputSerial: number;
  /** What the last tick that went over every member found (room-tick.ts), updated in place. */
  calm: CalmMark;
  /** A players.save of this room is in flight. */
  saving: boolean;
  /** Called whenever a member leaves (drain waits for the room to empty). */
  onMemberGone: (() => void) | null;
}

/** A room's state when a tick last went over every member. */
export interface CalmMark {
  /** That tick left every member with nothing owed (sendTick's `settled`). */
  settled: boolean;
  inputSerial: number;
  metaRevision: number;
  /** Monotonic ms of that tick. */
  atMs: number;
}

/** What the host asks of the cluster (control RPCs through the balancers; start.ts wires them). */
export interface HostCluster {
  /** checkpoints.claim within its deadline; rejects when no balancer or backend answered. */
  claim(playgroundId: string): Promise<CheckpointClaimResult>;
  /** players.join; null when it failed (never rejects). */
  playerJoin(userId: string, playgroundId: string): Promise<PlayersJoinResult | null>;
  /**
   * The record the balancer sent beside this ticket (control `playerRecord`; null: the user has
   * none), taken once; undefined when none came.
   */
  prefetchedRecord(jti: string, userId: string, playgroundId: string): PlayerRecord | null | undefined;
  /** The record of a ticket whose HELLO came first, once it comes; `cancel` when no longer waiting. */
  recordArrival(
    jti: string,
    userId: string,
    playgroundId: string,
  ): { record: Promise<PlayerRecord | null>; cancel: () => void };
  /** players.leave, queued while no balancer is up. */
  playerLeave(playgroundId: string, presence: Presence, avatar: Transform | null): void;
  publish(params: EventsPublishParams): Promise<EventsPublishResult | null>;
  record(event: AnalyticsEventInput): void;
  logicError(playgroundId: string, hook: string): void;
}

export interface Transform {
  position: Vec3;
  rotation: Quat;
}

/** Changes whenever anything a checkpoint holds changed (both parts only grow). */
export function stateRevision(room: Room): number {
  return room.playground.revision + room.metaRevision;
}
