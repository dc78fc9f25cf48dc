import type { EntityUpdate } from '@plexus/protocol';
import type { Cell, GridEntity } from './interest-grid.ts';

/**
 * What each cell's chunk carries when far clients get it only every few ticks (docs/protocol.md
 * §4.2): every field of its entities changed within the last `window` ticks, with its latest
 * value, so skipping ticks loses nothing. Keeps the list of cells with such an entity ("live").
 */
export class UpdateWindow {
  private readonly window: number;
  private live: Cell[] = [];
  private spare: Cell[] = [];

  constructor(window: number) {
    this.window = window;
  }

  /** True when no cell holds a change within the window. */
  get idle(): boolean {
    return this.live.length === 0;
  }

  /** Records `e`'s change `u` of tick `tick`: its fields' latest values and ticks; its cell goes live. */
  note(e: GridEntity, u: EntityUpdate, tick: number): void {
    if (u.position) {
      if (e.position?.y !== u.position.y) e.yAt = tick;
      e.position = u.position;
      e.positionAt = tick;
    }
    if (u.rotation) {
      e.rotation = u.rotation;
      e.rotationAt = tick;
    }
    if (u.props) {
      e.props = u.props;
      e.propsAt = tick;
    }
    if (u.owner !== undefined) {
      e.owner = u.owner;
      e.ownerAt = tick;
    }
    e.update = u;
    e.updateAt = tick;
    const cell = e.cell;
    if (!cell.live) {
      cell.live = true;
      this.live.push(cell);
    }
  }

  /**
   * Fills each live cell's `updates` with its entities' windowed fields and adds the cells that
   * have any to `out` (this tick's chunk cells); cells with none left stop being live.
   */
  collect(tick: number, out: Cell[]): void {
    const since = tick - this.window;
    const next = this.spare;
    next.length = 0;
    for (const cell of this.live) {
      for (const e of cell.entities) {
        const u = windowed(e, since, tick);
        if (u) cell.updates.push(u);
      }
      if (cell.updates.length > 0) {
        next.push(cell);
        out.push(cell);
      } else {
        cell.live = false;
      }
    }
    this.spare = this.live;
    this.live = next;
  }
}

/** The fields of `e` changed after tick `since`, as one update; null when none was. */
function windowed(e: GridEntity, since: number, tick: number): EntityUpdate | null {
  const position = e.positionAt > since;
  const rotation = e.rotationAt > since;
  const props = e.propsAt > since;
  const owner = e.ownerAt > since;
  if (!position && !rotation && !props && !owner) return null;
  // The common case (a moving entity, or a window of one tick): this tick's update says it all.
  const u = e.update;
  if (
    u &&
    e.updateAt === tick &&
    (!position || u.position) &&
    (!rotation || u.rotation) &&
    (!props || u.props) &&
    (!owner || u.owner !== undefined)
  )
    return u;
  const out: EntityUpdate = { id: e.id };
  if (position && e.position) out.position = e.position;
  if (rotation && e.rotation) out.rotation = e.rotation;
  if (props && e.props) out.props = e.props;
  if (owner) out.owner = e.owner as number;
  return out;
}
