import type { Vec3 } from '@plexus/protocol';
import { type PropsSchema, schemaProblem } from './props-schema.ts';
import { WORLD_BOUNDS } from './transform-rules.ts';

/** An axis-aligned box (metres) an entity's position must stay in, inside the world bounds. */
export interface Bounds {
  min: Vec3;
  max: Vec3;
}

/** What an entity kind is: its props schema, who may create and hold it, and its limits. */
export interface EntityKind {
  /** The typed properties; keys not listed are refused. Default: none. */
  props?: PropsSchema;
  /** Clients may SPAWN this kind, at most `maxPerClient` alive each (and `maxTotal` in all). */
  clientSpawn?: { maxPerClient: number; maxTotal?: number };
  /** Clients may DESPAWN an entity of this kind whose authority they hold. Default: `clientSpawn` set. */
  clientDespawn?: boolean;
  /** A server-owned entity of this kind is granted to the first client that requests it. */
  grabbable?: boolean;
  /** Its owner may not RELEASE or TRANSFER it (avatars). */
  authorityFixed?: boolean;
  /** Where it may be; default the world bounds. */
  bounds?: Bounds;
  /** Fastest accepted client movement (m/s); default the server's `maxSpeedMps`. */
  maxSpeedMps?: number;
  /** Client updates (MOVE / SET_ENTITY) per second per entity, burst of one second; default unlimited. */
  maxUpdatesPerSec?: number;
}

/**
 * The built-in avatar kind: one per client, owned by it for its whole stay. Its profile props are
 * written by the server; the client may set `anim`.
 */
export const AVATAR_KIND: EntityKind = {
  props: {
    displayName: { type: 'string', maxLength: 512, serverOnly: true },
    firstName: { type: 'string', maxLength: 256, serverOnly: true },
    lastName: { type: 'string', maxLength: 256, serverOnly: true },
    companyName: { type: 'string', maxLength: 256, serverOnly: true },
    companyTitle: { type: 'string', maxLength: 256, serverOnly: true },
    avatar: { type: 'string', maxLength: 2048, serverOnly: true },
    avatar3D: { type: 'json', maxBytes: 8192, serverOnly: true },
    anonymous: { type: 'boolean', serverOnly: true },
    /** Animation state, chosen by the client. */
    anim: { type: 'enum', values: ['idle', 'walk', 'run', 'jump', 'sit', 'wave'] },
    /** Free for playground logic (roles, badges…). */
    role: { type: 'string', maxLength: 32, serverOnly: true },
  },
  authorityFixed: true,
};

export const AVATAR = 'avatar';

const KIND_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Checks a kind definition (at load time); returns a problem or null. */
export function kindProblem(name: string, kind: EntityKind): string | null {
  if (!KIND_NAME.test(name)) return `kind name "${name}" must be 1–64 of A-Z a-z 0-9 _ . : -`;
  const schema = kind.props ? schemaProblem(kind.props) : null;
  if (schema) return `kind ${name}: ${schema}`;
  if (
    kind.clientSpawn &&
    !(Number.isInteger(kind.clientSpawn.maxPerClient) && kind.clientSpawn.maxPerClient >= 0)
  )
    return `kind ${name}: clientSpawn.maxPerClient must be an integer ≥ 0`;
  if (kind.maxSpeedMps !== undefined && !(kind.maxSpeedMps > 0))
    return `kind ${name}: maxSpeedMps must be > 0`;
  if (kind.maxUpdatesPerSec !== undefined && !(kind.maxUpdatesPerSec > 0))
    return `kind ${name}: maxUpdatesPerSec must be > 0`;
  return null;
}

/** True when `p` lies in the kind's bounds (the world bounds are checked separately). */
export function inKindBounds(kind: EntityKind, p: Vec3): boolean {
  const b = kind.bounds;
  if (!b) return true;
  return (
    p.x >= b.min.x && p.x <= b.max.x && p.y >= b.min.y && p.y <= b.max.y && p.z >= b.min.z && p.z <= b.max.z
  );
}

/** The world bounds as a box, for documentation and clamping in logic. */
export const WORLD_BOX: Bounds = {
  min: { x: -WORLD_BOUNDS.maxAbsXZ, y: WORLD_BOUNDS.minY, z: -WORLD_BOUNDS.maxAbsXZ },
  max: { x: WORLD_BOUNDS.maxAbsXZ, y: WORLD_BOUNDS.maxY, z: WORLD_BOUNDS.maxAbsXZ },
};
