import type { JsonValue, Props, Quat, Vec3 } from '@plexus/protocol';
import type { Entity } from './state/entity-mirror.ts';

/**
 * Declares the props of each entity kind of a playground type, for TypeScript only (the server
 * validates them against its own schemas). Declare kinds with type aliases (an `interface` lacks
 * the index signature `Props` needs):
 *
 * ```ts
 * type Kinds = { object: { color: string; label?: string; shape: 'box' | 'ball' } };
 * const pg = await client.join<Kinds>({ playgroundId: 'room' });
 * await pg.spawn({ kind: 'object', position, props: { color: '#f80', shape: 'box' } }); // checked
 * for (const o of pg.entitiesOf('object')) o.props.color; // string
 * ```
 */
export type KindMap = { [kind: string]: Props };

/** Kind names of a {@link KindMap}. */
export type KindName<K extends KindMap> = keyof K & string;

/** The kinds of the default "open-world" playground type, as its schemas declare them. */
export type OpenWorldKinds = {
  avatar: { displayName: string; anim?: 'idle' | 'walk' | 'run' | 'jump' | 'sit' | 'wave' };
  /** Defaults filled by the server: color `#8899aa`, label `''`, shape `box`. */
  object: { color?: string; label?: string; shape?: 'box' | 'sphere' };
};

/** An entity whose props have the type declared for its kind. */
export type TypedEntity<P extends Props = Props> = Omit<Entity, 'props'> & { readonly props: P };

/** A change of props: the keys given replace the current ones; a key set to null is deleted. */
export type PropsChange<P extends Props> = { [Key in keyof P]?: P[Key] | null };

/** What {@link Playground.setEntity} changes; omitted fields keep their value. */
export interface EntityChange<P extends Props = Props> {
  position?: Vec3;
  rotation?: Quat;
  props?: PropsChange<P>;
}

/** What {@link Playground.spawn} creates. */
export interface SpawnInput<Kind extends string = string, P extends Props = Props> {
  kind: Kind;
  position: Vec3;
  /** Default: the identity rotation. */
  rotation?: Quat;
  /** Default: `{}` (the server fills defaults of its schema). */
  props?: P;
}

/** A custom message relayed by the server (`from` = sender's client id; 0 = the playground logic). */
export interface PlaygroundMessage {
  from: number;
  type: string;
  payload: JsonValue;
}

/** An entity as `sample()` returns it for drawing one frame. */
export interface EntitySample {
  id: number;
  kind: string;
  owner: number;
  props: Props;
  /** Interpolated (remote) or predicted (changed locally) position. */
  position: Vec3;
  rotation: Quat;
  /** True when the transform is this client's local prediction (an entity it moves). */
  predicted: boolean;
}
