import type { Entity, OpenWorldKinds, Playground, Quat, RequestOutcome, Vec3 } from '@plexus/client';

/** How far in front of the avatar a held or spawned object sits, metres. */
const HOLD_DISTANCE_M = 0.9;
/** How close the avatar must be to grab with the E key, metres. */
const REACH_M = 1.8;
/** At most 20 SET_ENTITY frames per second for the held object (the server allows 60/s). */
const SEND_INTERVAL_MS = 50;
const COLOURS = ['#e76f51', '#f4a261', '#e9c46a', '#2a9d8f', '#8ab17d', '#9b5de5', '#00bbf9'];

/**
 * Shared objects of the open-world playground: spawn one in front of the avatar, grab one (an
 * authority request: refused while someone else holds it), carry it in front of the avatar, release
 * it. `notice` shows a short message (refusals, someone taking an object away).
 */
export class SharedObjects {
  /** Id of the object this page holds, if any. */
  held: number | undefined;
  private readonly pg: Playground<OpenWorldKinds>;
  private readonly notice: (text: string) => void;
  private lastSentMs = 0;
  private lastTarget: Vec3 | undefined;
  private spawned = 0;

  constructor(pg: Playground<OpenWorldKinds>, notice: (text: string) => void) {
    this.pg = pg;
    this.notice = notice;
    pg.on('authorityChanged', (entity, _from, to) => {
      if (entity.id === this.held && to !== pg.clientId) {
        this.held = undefined;
        this.notice(`${holderName(pg, to) ?? 'The server'} took the ${labelOf(entity)}`);
      }
    });
    pg.on('entityRemoved', (entity) => {
      if (entity.id === this.held) this.held = undefined;
    });
  }

  /** Spawns an object in front of the avatar and puts it down (releases it) for anyone to grab. */
  async spawn(position: Vec3, rotation: Quat): Promise<RequestOutcome> {
    this.spawned++;
    const outcome = await this.pg.spawn({
      kind: 'object',
      position: ahead(position, rotation, HOLD_DISTANCE_M * 1.5),
      props: {
        color: COLOURS[Math.floor(Math.random() * COLOURS.length)] ?? '#8899aa',
        label: `Box ${this.spawned}`,
        shape: this.spawned % 2 === 0 ? 'sphere' : 'box',
      },
    });
    if (!outcome.ok) {
      this.notice(`Cannot spawn: ${outcome.error.message}`);
      return outcome;
    }
    // The spawner holds a new object; put it down so that anyone may grab it.
    await this.pg.releaseAuthority(outcome.entityId);
    return outcome;
  }

  /** Grabs object `id`, or releases it when this page holds it. */
  async toggle(id: number): Promise<RequestOutcome> {
    if (this.held === id) return this.release();
    if (this.held !== undefined) await this.release();
    const outcome = await this.pg.requestAuthority(id);
    if (outcome.ok) {
      this.held = id;
      this.lastTarget = undefined;
    } else {
      const entity = this.pg.entities.get(id);
      const holder = entity ? holderName(this.pg, entity.owner) : undefined;
      this.notice(
        outcome.error.is('PROTOCOL_AUTHORITY_HELD') && holder
          ? `${holder} is holding it`
          : `Cannot grab: ${outcome.error.message}`,
      );
    }
    return outcome;
  }

  /** Puts the held object down where it is. */
  async release(): Promise<RequestOutcome> {
    const id = this.held;
    this.held = undefined;
    if (id === undefined) return { ok: true, entityId: 0 };
    return this.pg.releaseAuthority(id);
  }

  /** The object nearest to `position` within reach (for the E key). */
  nearest(position: Vec3, reachM = REACH_M): Entity | undefined {
    let best: Entity | undefined;
    let bestDistance = reachM;
    for (const entity of this.pg.entitiesOf('object')) {
      const d = Math.hypot(entity.position.x - position.x, entity.position.z - position.z);
      if (d <= bestDistance) {
        bestDistance = d;
        best = entity as Entity;
      }
    }
    return best;
  }

  /** Keeps the held object in front of the avatar; sends at most every SEND_INTERVAL_MS. */
  carry(position: Vec3, rotation: Quat, timeMs: number): void {
    const id = this.held;
    if (id === undefined || !this.pg.isOwner(id) || timeMs - this.lastSentMs < SEND_INTERVAL_MS) return;
    const target = ahead(position, rotation, HOLD_DISTANCE_M);
    const last = this.lastTarget;
    if (last && Math.hypot(last.x - target.x, last.z - target.z) < 0.005) return;
    if (this.pg.setEntity(id, { position: target, rotation })) {
      this.lastTarget = target;
      this.lastSentMs = timeMs;
    }
  }
}

/** The display name of the client `owner` (its avatar's), undefined for the server or unknown. */
export function holderName(pg: Playground, owner: number): string | undefined {
  if (owner === 0) return undefined;
  for (const entity of pg.entities.values()) {
    if (entity.kind === 'avatar' && entity.owner === owner) {
      const name = entity.props.displayName;
      return typeof name === 'string' && name ? name : `client ${owner}`;
    }
  }
  return `client ${owner}`;
}

function labelOf(entity: Entity): string {
  const label = entity.props.label;
  return typeof label === 'string' && label ? label : 'object';
}

/** The point `distance` metres in front of a transform (forward is -z rotated by the yaw). */
function ahead(position: Vec3, rotation: Quat, distance: number): Vec3 {
  const yaw = 2 * Math.atan2(rotation.y, rotation.w);
  return {
    x: position.x - Math.sin(yaw) * distance,
    y: position.y,
    z: position.z - Math.cos(yaw) * distance,
  };
}
