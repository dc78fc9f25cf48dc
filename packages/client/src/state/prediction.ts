import type { Props, Quat, Vec3 } from '@plexus/protocol';
import { type ServerState, sameJson } from './entity-mirror.ts';

/** How close a server transform must be to a sent one to count as the same (quantisation, f32). */
export const MatchTolerance = {
  /** Metres per axis. */
  positionM: 0.02,
  /** Minimum |dot| of the two quaternions (0.9999 ≈ 1.6°). */
  rotationDot: 0.9999,
} as const;

interface TransformEntry {
  seq: number;
  position: Vec3;
  rotation: Quat;
}

interface PropsEntry {
  seq: number;
  props: Props;
}

interface History {
  transforms: TransformEntry[];
  props: PropsEntry[];
}

/** Sequence numbers of the newest recorded transform and props of an entity. */
export interface Mark {
  transform: number;
  props: number;
}

/** Which parts of a predicted entity agree with the server. */
export interface Agreement {
  transform: boolean;
  props: boolean;
}

/**
 * Remembers, for every predicted entity, the states the client sent that the server has not yet
 * echoed (bounded), so that a server state can be judged: a state the client sent at some point
 * (the server is merely behind) agrees; anything else is the server disagreeing.
 *
 * Transform and props are judged separately: the server may change one (e.g. playground logic
 * setting a prop) while accepting the other.
 */
export class Predictor {
  private readonly histories = new Map<number, History>();
  private readonly capacity: number;
  private seq = 0;

  constructor(capacity = 64) {
    this.capacity = capacity;
  }

  /** Starts tracking `id` from `base`, the server state at the moment prediction starts. */
  start(id: number, base: ServerState): void {
    const seq = ++this.seq;
    this.histories.set(id, {
      transforms: [{ seq, position: base.position, rotation: base.rotation }],
      props: [{ seq, props: base.props }],
    });
  }

  /** Records the entity's whole local state after a change was sent. */
  sent(id: number, state: { position: Vec3; rotation: Quat; props: Props }, props: boolean): void {
    const history = this.histories.get(id);
    if (!history) return;
    const seq = ++this.seq;
    push(
      history.transforms,
      { seq, position: { ...state.position }, rotation: { ...state.rotation } },
      this.capacity,
    );
    if (props) push(history.props, { seq, props: state.props }, this.capacity);
  }

  /** The newest recorded transform and props per tracked entity: a verification mark. */
  marks(): Map<number, Mark> {
    const marks = new Map<number, Mark>();
    for (const [id, h] of this.histories) {
      marks.set(id, { transform: h.transforms.at(-1)?.seq ?? 0, props: h.props.at(-1)?.seq ?? 0 });
    }
    return marks;
  }

  /**
   * Judges a server state of `id`. A part agrees when it matches a state the client recorded — at
   * or after `since` when given: after a verification point the server has seen everything up to
   * the mark, so lagging behind it means a change was refused. Agreeing parts drop the older
   * history; disagreeing parts restart from the server state.
   */
  check(id: number, server: ServerState, since?: Mark): Agreement {
    const history = this.histories.get(id);
    if (!history) return { transform: true, props: true };
    const t = findLast(history.transforms, since?.transform ?? 0, (e) => sameTransform(e, server));
    const p = findLast(history.props, since?.props ?? 0, (e) => sameJson(e.props, server.props));
    if (t >= 0) history.transforms.splice(0, t);
    else
      history.transforms = [
        { seq: ++this.seq, position: { ...server.position }, rotation: { ...server.rotation } },
      ];
    if (p >= 0) history.props.splice(0, p);
    else history.props = [{ seq: ++this.seq, props: server.props }];
    return { transform: t >= 0, props: p >= 0 };
  }

  /** Stops tracking `id`. */
  forget(id: number): void {
    this.histories.delete(id);
  }

  clear(): void {
    this.histories.clear();
  }
}

function push<T>(list: T[], entry: T, capacity: number): void {
  list.push(entry);
  if (list.length > capacity) list.shift();
}

function findLast<T extends { seq: number }>(list: T[], sinceSeq: number, match: (e: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i] as T;
    if (e.seq < sinceSeq) return -1;
    if (match(e)) return i;
  }
  return -1;
}

/** True when two transforms are equal within {@link MatchTolerance}. */
export function sameTransform(
  a: { position: Vec3; rotation: Quat },
  b: { position: Vec3; rotation: Quat },
): boolean {
  const tol = MatchTolerance.positionM;
  if (
    Math.abs(a.position.x - b.position.x) > tol ||
    Math.abs(a.position.y - b.position.y) > tol ||
    Math.abs(a.position.z - b.position.z) > tol
  ) {
    return false;
  }
  const dot =
    a.rotation.x * b.rotation.x +
    a.rotation.y * b.rotation.y +
    a.rotation.z * b.rotation.z +
    a.rotation.w * b.rotation.w;
  return Math.abs(dot) >= MatchTolerance.rotationDot;
}
