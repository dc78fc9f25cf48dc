import type { Logger } from '@plexus/kit';
import type {
  CheckpointAvatar,
  CheckpointEntity,
  JsonValue,
  PlaygroundCheckpoint,
  Props,
} from '@plexus/protocol';
import { SERVER_OWNER } from '@plexus/protocol';
import { z } from 'zod';
import { AVATAR } from '../playground/entity-kinds.ts';
import type { Presence } from '../playground/member.ts';
import type { Room } from '../playground/room.ts';

/**
 * What a checkpoint holds of a room, built between ticks: every entity but the avatars (ownership
 * by user id: client ids do not survive a move), the avatar of every present user — connected or
 * waiting for a resume — with their player data, the next entity id and the logic's own state.
 */
export function buildCheckpoint(room: Room, logicState: JsonValue | undefined): PlaygroundCheckpoint {
  const owners = new Map<number, string>();
  const avatars: CheckpointAvatar[] = [];
  const avatarIds = new Set<number>();
  const addAvatar = (clientId: number, presence: Presence) => {
    owners.set(clientId, presence.userId);
    const e = room.playground.get(presence.avatarId);
    if (!e) return;
    avatarIds.add(e.id);
    avatars.push({
      userId: presence.userId,
      entityId: e.id,
      position: e.position,
      rotation: e.rotation,
      props: e.props,
      joinedAt: presence.joinedAt,
      data: presence.data,
    });
  };
  for (const member of room.members.values()) addAvatar(member.clientId, member.presence);
  for (const seat of room.away.values()) addAvatar(seat.clientId, seat.presence);
  const entities: CheckpointEntity[] = [];
  for (const e of room.playground.all()) {
    // An avatar belongs to a presence; one without (its user is gone) does not travel.
    if (avatarIds.has(e.id) || e.kind === AVATAR) continue;
    entities.push({
      id: e.id,
      kind: e.kind,
      position: e.position,
      rotation: e.rotation,
      props: e.props,
      ownerUserId: e.owner === SERVER_OWNER ? null : (owners.get(e.owner) ?? null),
    });
  }
  const checkpoint: PlaygroundCheckpoint = {
    type: room.logic.type.name,
    nextEntityId: room.playground.nextId,
    entities,
    avatars,
  };
  if (logicState !== undefined) checkpoint.logic = logicState;
  return checkpoint;
}

const vec3 = z.object({ x: z.number(), y: z.number(), z: z.number() });
const quat = z.object({ x: z.number(), y: z.number(), z: z.number(), w: z.number() });
const props = z.record(z.string(), z.unknown());
const entityId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A checkpoint as read back: written by a server of this cluster, but checked before use. */
const checkpointSchema = z.object({
  type: z.string(),
  nextEntityId: entityId,
  entities: z.array(
    z.object({
      id: entityId,
      kind: z.string(),
      position: vec3,
      rotation: quat,
      props,
      ownerUserId: z.string().nullable(),
    }),
  ),
  avatars: z.array(
    z.object({
      userId: z.string().min(1),
      entityId,
      position: vec3,
      rotation: quat,
      props,
      joinedAt: z.number().optional(),
      data: props.optional(),
    }),
  ),
  logic: z.unknown().optional(),
});

/** A user of a restored checkpoint, waiting for a resume under `clientId`. */
export interface RestoredPresence {
  presence: Presence;
  clientId: number;
}

export interface RestoreOptions {
  /** Client ids for absent users (shared with the sockets' ids, so they never collide). */
  allocateClientId: () => number;
  wallClock: () => number;
  /** Restore the avatars of users present at checkpoint time (false when there is no resume grace). */
  withAvatars: boolean;
  log: Logger;
}

/**
 * Puts a checkpoint back into a fresh room: entities under their ids, each owned by an allocated
 * client id standing for its absent user, and the presences that wait for those users. Null when the
 * checkpoint cannot be used (unreadable, or of another playground type): the caller starts afresh.
 */
export function restoreCheckpoint(
  room: Room,
  stored: unknown,
  options: RestoreOptions,
): RestoredPresence[] | null {
  const parsed = checkpointSchema.safeParse(stored);
  const { log } = options;
  const nextId = (stored as { nextEntityId?: unknown } | null)?.nextEntityId;
  if (typeof nextId === 'number') room.playground.reserveIdsBelow(nextId);
  if (!parsed.success) {
    log.warn({ issues: parsed.error.issues.slice(0, 3).map((i) => i.message) }, 'checkpoint unreadable');
    return null;
  }
  const state = parsed.data;
  if (state.type !== room.logic.type.name) {
    log.warn({ checkpointType: state.type }, 'checkpoint of another playground type, not restored');
    return null;
  }
  const restored: RestoredPresence[] = [];
  const owners = new Map<string, number>();
  let dropped = 0;
  if (options.withAvatars) {
    for (const a of state.avatars) {
      if (owners.has(a.userId)) continue;
      const clientId = options.allocateClientId();
      const ok = room.logic.restoreEntity({
        id: a.entityId,
        kind: AVATAR,
        owner: clientId,
        position: a.position,
        rotation: a.rotation,
        props: a.props as Props,
      });
      if (!ok) {
        dropped++;
        continue;
      }
      owners.set(a.userId, clientId);
      restored.push({
        clientId,
        presence: {
          userId: a.userId,
          profile: null,
          avatarId: a.entityId,
          joinedAt: a.joinedAt ?? options.wallClock(),
          data: a.data ?? {},
          dataChanged: false,
          saved: null,
          savedAt: 0,
        },
      });
    }
  }
  for (const e of state.entities) {
    const owner = e.ownerUserId === null ? SERVER_OWNER : (owners.get(e.ownerUserId) ?? SERVER_OWNER);
    if (!room.logic.restoreEntity({ ...e, owner, props: e.props as Props })) dropped++;
  }
  room.playground.reserveIdsBelow(state.nextEntityId);
  if (dropped > 0) log.warn({ dropped }, 'checkpoint entities no longer valid here were dropped');
  room.logic.loadState(state.logic as JsonValue | undefined);
  return restored;
}
