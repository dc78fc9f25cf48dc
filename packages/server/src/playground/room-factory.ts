import type { Logger } from '@plexus/kit';
import type { CheckpointClaimResult } from '@plexus/protocol';
import { restoreCheckpoint } from '../continuity/checkpoint-state.ts';
import type { ServerMetrics } from '../metrics.ts';
import { type InterestOptions, Replicator } from '../replication/replicator.ts';
import type { Member } from './member.ts';
import { Playground } from './playground.ts';
import { PlaygroundLogic } from './playground-logic.ts';
import type { Presences } from './presences.ts';
import { type HostCluster, type Room, stateRevision } from './room.ts';
import type { PlaygroundTypes } from './type-registry.ts';

export interface RoomFactoryOptions {
  types: PlaygroundTypes;
  logger: Logger;
  metrics: ServerMetrics;
  now: () => number;
  wallClock: () => number;
  maxSpeedMps: number;
  interest: InterestOptions;
  cluster?: HostCluster | undefined;
  presences: Presences;
  currentTick: () => number;
  /** Client ids for the absent users of a restored checkpoint. */
  allocateClientId: () => number;
}

/**
 * A new room for a playground id: its type's logic (with player data and event publishing wired to
 * the room's members and the cluster) and its replicator. Standalone (no cluster) it is live at
 * once; otherwise `ready` resolves once it was claimed and restored (or created afresh).
 */
export function openRoom(playgroundId: string, o: RoomFactoryOptions): Room {
  const { cluster } = o;
  const playground = new Playground(playgroundId);
  const type = o.types.resolve(playgroundId);
  const log = o.logger.child({ playgroundId });
  const members = new Map<number, Member>();
  // The logic's services reach the room only once it exists (a hook runs after construction).
  const logic = new PlaygroundLogic({
    type,
    playground,
    logger: log,
    now: o.now,
    currentTick: o.currentTick,
    maxSpeedMps: o.maxSpeedMps,
    onLogicError: (hook) => {
      o.metrics.logicErrors.inc({ hook });
      cluster?.logicError(playgroundId, hook);
    },
    services: {
      getPlayerData: (clientId) => {
        const data = members.get(clientId)?.presence.data;
        return data ? structuredClone(data) : undefined;
      },
      setPlayerData: (clientId, data) => {
        const presence = members.get(clientId)?.presence;
        if (!presence) return false;
        presence.data = data;
        presence.dataChanged = true;
        room.metaRevision++;
        return true;
      },
      publish: (params) => (cluster ? cluster.publish(params) : Promise.resolve(null)),
    },
  });
  const room: Room = {
    playground,
    members,
    byUser: new Map(),
    away: new Map(),
    emptySince: o.now(),
    logic,
    replicator: new Replicator(playground, { ...o.interest, ...type.interest }),
    state: cluster ? 'claiming' : 'live',
    ready: Promise.resolve(true),
    checkpoint: {
      epoch: 0,
      version: 0,
      acceptedRevision: -1,
      acceptedLogic: undefined,
      writing: null,
      savedAtMs: o.now(),
    },
    metaRevision: 0,
    inputSerial: 0,
    calm: { settled: false, inputSerial: 0, metaRevision: 0, atMs: 0 },
    saving: false,
    onMemberGone: null,
  };
  if (cluster) {
    room.ready = claimRoom(room, cluster, o, log);
  } else {
    log.info({ playgroundType: type.name }, 'playground created');
    room.logic.create();
  }
  return room;
}

/**
 * Claims the playground's epoch (this server becomes its only writer) and restores its latest
 * checkpoint — entities, and the avatars of absent users in away seats — or creates it afresh.
 * Never live without an epoch: false when the claim failed (the room is then `gone`).
 */
async function claimRoom(
  room: Room,
  cluster: HostCluster,
  o: RoomFactoryOptions,
  log: Logger,
): Promise<boolean> {
  let result: CheckpointClaimResult;
  try {
    result = await cluster.claim(room.playground.id);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'playground claim failed; joins are refused until it succeeds');
    room.state = 'gone';
    return false;
  }
  if (room.state !== 'claiming') return false; // the server stopped meanwhile
  room.checkpoint.epoch = result.epoch;
  room.checkpoint.version = result.checkpoint?.version ?? 0;
  room.checkpoint.savedAtMs = o.now();
  const stored = result.checkpoint;
  const restored = stored
    ? restoreCheckpoint(room, stored.state, {
        allocateClientId: o.allocateClientId,
        wallClock: o.wallClock,
        withAvatars: o.presences.graceful,
        log,
      })
    : null;
  room.state = 'live';
  const epoch = result.epoch;
  if (!restored) {
    room.logic.create();
    log.info({ playgroundType: room.logic.type.name, epoch }, 'playground created');
    return true;
  }
  // The users were last seen at the checkpoint: their downtime counts from its time.
  for (const r of restored) o.presences.park(room, r.presence, r.clientId, stored?.savedAt ?? o.wallClock());
  // The restored state is the stored checkpoint: nothing to write until something changes.
  room.checkpoint.acceptedRevision = stateRevision(room);
  room.checkpoint.acceptedLogic = JSON.stringify(stored?.state.logic);
  o.metrics.restores.inc();
  log.info(
    { playgroundType: room.logic.type.name, epoch, version: stored?.version, away: restored.length },
    'playground restored from its checkpoint',
  );
  return true;
}
