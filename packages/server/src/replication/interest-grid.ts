import { CHUNK_LAYOUTS, type EntityUpdate, type Props, type Quat, type Vec3 } from '@plexus/protocol';

/** An entity as the grid indexes it: where it is and which cell holds it. */
export interface GridEntity {
  readonly id: number;
  x: number;
  z: number;
  cell: Cell;
  /** Index in `cell.entities` (swap-remove keeps removal O(1)). */
  slot: number;
  /**
   * Small dense number of the entity (its bit in every client's known-set bitset), unique among
   * live entities; reused only once the replicator releases it (`releaseIndex`).
   */
  readonly index: number;
  /** SPAWN record bytes cached for one tick (many clients may need them in the same tick). */
  spawnBytes: Uint8Array | null;
  spawnTick: number;
  /**
   * The latest value of each field the playground changed, and the tick of that change: the
   * replicator resends a field while its change is within the update window (replicator.ts).
   */
  position: Vec3 | undefined;
  positionAt: number;
  /**
   * The tick its y last changed (its first move counts as one: the grid does not keep the
   * spawn's y). A compact update leaves y out for clients whose copy is newer (docs/protocol.md
   * §4, "STATE").
   */
  yAt: number;
  rotation: Quat | undefined;
  rotationAt: number;
  props: Props | undefined;
  propsAt: number;
  owner: number | undefined;
  ownerAt: number;
  /** The update this entity got at `updateAt` (reused as is when it holds every windowed field). */
  update: EntityUpdate | null;
  updateAt: number;
}

/**
 * Where a cell's chunks of one layout (protocol versions 2–3, 4, 5: `ChunkLayout`) lie in the
 * replicator's buffer of that layout, for the tick `tick`: the window's chunk [start, end), and the
 * same with only this tick's changes [freshStart, freshEnd) (update-window.ts resends a change for
 * a few ticks) for clients that got every cell last tick; that one is empty when no entity of the
 * cell changed now.
 */
export interface ChunkSpans {
  tick: number;
  start: number;
  end: number;
  freshStart: number;
  freshEnd: number;
}

/** One square of the grid: the entities in it and this tick's updates of them, encoded once. */
export interface Cell {
  readonly key: number;
  readonly cx: number;
  readonly cz: number;
  /** Chunk origin, whole metres (the cell's centre, so offsets stay within ±size/2). */
  readonly originXm: number;
  readonly originZm: number;
  readonly entities: GridEntity[];
  /** Updates of this tick, grouped here before the chunks are encoded; empty: no chunk. */
  readonly updates: EntityUpdate[];
  /** This tick's encoded chunks, one entry per layout (each encoded when a client needs it). */
  readonly spans: readonly ChunkSpans[];
  /** Scratch mark of the replicator's interest scan. */
  scan: number;
  /** In the replicator's list of cells with an entity changed within the update window. */
  live: boolean;
}

/** Bound of the dense window (8 MB of slots): 1 000 × 1 000 cells, 16 km square at 16 m cells. */
const MAX_DENSE_SLOTS = 1 << 20;
/** Cells added around the occupied box when the window grows, so it does not grow every tick. */
const DENSE_MARGIN = 8;

/** Cell indexes are clamped to ±MAX_INDEX (|x|, |z| ≤ 10 000 m at 1 m cells fits). */
const MAX_INDEX = 16_000;
const KEY_OFFSET = 1 << 14;

/** Never changed: older than any update window. */
const NEVER = -(2 ** 30);

/** Keys stay below 2³⁰ so they are small integers (fast Map hashing), never heap numbers. */
function cellKey(cx: number, cz: number): number {
  return (cx + KEY_OFFSET) * (1 << 15) + (cz + KEY_OFFSET);
}

/**
 * A uniform grid over the playground's ground plane (x, z). Cells exist only while they hold an
 * entity, so memory follows the entities, not the area they roam.
 */
export class InterestGrid {
  readonly cellSizeM: number;
  readonly cells = new Map<number, Cell>();
  readonly byId = new Map<number, GridEntity>();
  /** Live entities by `index` (holes where an entity was removed). */
  readonly byIndex: (GridEntity | undefined)[] = [];
  private readonly freeIndexes: number[] = [];
  /**
   * A dense window over the occupied cells (row-major, cells by index), so that an interest scan
   * reads array slots instead of hashing hundreds of keys per client. Grows to cover new cells;
   * beyond MAX_DENSE_SLOTS the grid falls back to the map alone.
   */
  private dense: (Cell | undefined)[] | null = [];
  private dMinX = 0;
  private dMinZ = 0;
  private dW = 0;
  private dH = 0;

  constructor(cellSizeM: number) {
    if (!Number.isInteger(cellSizeM) || cellSizeM < 1)
      throw new RangeError('cell size must be a whole number of metres');
    this.cellSizeM = cellSizeM;
  }

  cellIndex(v: number): number {
    const i = Math.floor(v / this.cellSizeM);
    return Math.min(MAX_INDEX, Math.max(-MAX_INDEX, i));
  }

  get(id: number): GridEntity | undefined {
    return this.byId.get(id);
  }

  cellAt(cx: number, cz: number): Cell | undefined {
    return this.cells.get(cellKey(cx, cz));
  }

  insert(id: number, x: number, z: number): GridEntity {
    const existing = this.byId.get(id);
    if (existing) {
      this.move(existing, x, z);
      return existing;
    }
    const cell = this.cellFor(this.cellIndex(x), this.cellIndex(z));
    const index = this.freeIndexes.pop() ?? this.byIndex.length;
    const e: GridEntity = {
      id,
      x,
      z,
      cell,
      slot: cell.entities.length,
      index,
      spawnBytes: null,
      spawnTick: -1,
      position: undefined,
      positionAt: NEVER,
      yAt: NEVER,
      rotation: undefined,
      rotationAt: NEVER,
      props: undefined,
      propsAt: NEVER,
      owner: undefined,
      ownerAt: NEVER,
      update: null,
      updateAt: NEVER,
    };
    cell.entities.push(e);
    this.byId.set(id, e);
    this.byIndex[index] = e;
    return e;
  }

  move(e: GridEntity, x: number, z: number): void {
    e.x = x;
    e.z = z;
    const cx = this.cellIndex(x);
    const cz = this.cellIndex(z);
    if (cx === e.cell.cx && cz === e.cell.cz) return;
    this.detach(e);
    const cell = this.cellFor(cx, cz);
    e.cell = cell;
    e.slot = cell.entities.length;
    cell.entities.push(e);
  }

  /**
   * Removes an entity; returns it (its `index` stays taken until `releaseIndex`), or undefined
   * when it was not in the grid.
   */
  remove(id: number): GridEntity | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    this.byId.delete(id);
    this.byIndex[e.index] = undefined;
    this.detach(e);
    return e;
  }

  /** Makes a removed entity's index available to a new entity. */
  releaseIndex(index: number): void {
    this.freeIndexes.push(index);
  }

  private cellFor(cx: number, cz: number): Cell {
    const key = cellKey(cx, cz);
    let cell = this.cells.get(key);
    if (!cell) {
      const half = Math.floor(this.cellSizeM / 2);
      cell = {
        key,
        cx,
        cz,
        originXm: cx * this.cellSizeM + half,
        originZm: cz * this.cellSizeM + half,
        entities: [],
        updates: [],
        spans: Array.from({ length: CHUNK_LAYOUTS }, () => ({
          tick: -1,
          start: 0,
          end: 0,
          freshStart: 0,
          freshEnd: 0,
        })),
        scan: 0,
        live: false,
      };
      this.cells.set(key, cell);
      this.placeDense(cell);
    }
    return cell;
  }

  private placeDense(cell: Cell): void {
    if (!this.dense) return;
    const x = cell.cx - this.dMinX;
    const z = cell.cz - this.dMinZ;
    if (x >= 0 && z >= 0 && x < this.dW && z < this.dH) {
      this.dense[z * this.dW + x] = cell;
      return;
    }
    // Grow the window to cover the new cell (and every existing one), with a margin.
    let minX = cell.cx;
    let maxX = cell.cx;
    let minZ = cell.cz;
    let maxZ = cell.cz;
    for (const c of this.cells.values()) {
      if (c.cx < minX) minX = c.cx;
      if (c.cx > maxX) maxX = c.cx;
      if (c.cz < minZ) minZ = c.cz;
      if (c.cz > maxZ) maxZ = c.cz;
    }
    minX -= DENSE_MARGIN;
    minZ -= DENSE_MARGIN;
    const w = maxX + DENSE_MARGIN - minX + 1;
    const h = maxZ + DENSE_MARGIN - minZ + 1;
    if (w * h > MAX_DENSE_SLOTS) {
      this.dense = null;
      return;
    }
    const dense = new Array<Cell | undefined>(w * h).fill(undefined);
    for (const c of this.cells.values()) dense[(c.cz - minZ) * w + (c.cx - minX)] = c;
    this.dense = dense;
    this.dMinX = minX;
    this.dMinZ = minZ;
    this.dW = w;
    this.dH = h;
  }

  private dropCell(cell: Cell): void {
    this.cells.delete(cell.key);
    if (this.dense) this.dense[(cell.cz - this.dMinZ) * this.dW + (cell.cx - this.dMinX)] = undefined;
  }

  private detach(e: GridEntity): void {
    const list = e.cell.entities;
    const last = list.pop() as GridEntity;
    if (last !== e) {
      list[e.slot] = last;
      last.slot = e.slot;
    }
    // An empty cell goes away unless it still carries this tick's chunk (dropped after the tick).
    if (list.length === 0 && e.cell.updates.length === 0) {
      this.dropCell(e.cell);
    }
  }

  /** Drops cells left empty after the tick's chunks were sent. */
  sweep(cells: readonly Cell[]): void {
    for (const cell of cells) {
      if (cell.entities.length === 0 && this.cells.get(cell.key) === cell) this.dropCell(cell);
    }
  }

  /**
   * Collects every cell within `radius` of (x, z) — its nearest point no farther — into `cells`,
   * with the squared distance of its farthest point in `farthest2` (all its entities are within
   * that) and of its nearest point in `nearest2`. The arrays are cleared first; reuse them across
   * calls.
   */
  cellsNear(
    x: number,
    z: number,
    radius: number,
    cells: Cell[],
    farthest2: number[],
    nearest2: number[],
  ): void {
    cells.length = 0;
    farthest2.length = 0;
    nearest2.length = 0;
    const size = this.cellSizeM;
    const r2 = radius * radius;
    const span = Math.ceil(radius / size);
    const cx0 = this.cellIndex(x);
    const cz0 = this.cellIndex(z);
    // Few occupied cells (a dense room): scanning them beats probing every candidate square.
    if (this.cells.size < (2 * span + 1) * (2 * span + 1)) {
      for (const cell of this.cells.values()) {
        if (Math.abs(cell.cx - cx0) > span || Math.abs(cell.cz - cz0) > span) continue;
        this.consider(cell, x, z, r2, cells, farthest2, nearest2);
      }
      return;
    }
    const dense = this.dense;
    if (dense) {
      const x0 = Math.max(cx0 - span - this.dMinX, 0);
      const x1 = Math.min(cx0 + span - this.dMinX, this.dW - 1);
      const z0 = Math.max(cz0 - span - this.dMinZ, 0);
      const z1 = Math.min(cz0 + span - this.dMinZ, this.dH - 1);
      for (let dz = z0; dz <= z1; dz++) {
        // Only the stretch of the row the circle can reach (one cell of slack each side; the
        // exact test is `consider`'s): about π/4 of the square's probes.
        const minZ = (dz + this.dMinZ) * size;
        const nz = z < minZ ? minZ - z : z > minZ + size ? z - minZ - size : 0;
        if (nz * nz > r2) continue;
        const half = Math.sqrt(r2 - nz * nz);
        const a = Math.max(x0, Math.floor((x - half) / size) - 1 - this.dMinX);
        const b = Math.min(x1, Math.floor((x + half) / size) + 1 - this.dMinX);
        const row = dz * this.dW;
        for (let dx = a; dx <= b; dx++) {
          const cell = dense[row + dx];
          if (cell) this.consider(cell, x, z, r2, cells, farthest2, nearest2);
        }
      }
      return;
    }
    for (let cz = cz0 - span; cz <= cz0 + span; cz++) {
      for (let cx = cx0 - span; cx <= cx0 + span; cx++) {
        const cell = this.cells.get(cellKey(cx, cz));
        if (cell) this.consider(cell, x, z, r2, cells, farthest2, nearest2);
      }
    }
  }

  /** Squared distance from (x, z) to the nearest point of `cell`. */
  nearest2(cell: Cell, x: number, z: number): number {
    const size = this.cellSizeM;
    const minX = cell.cx * size;
    const minZ = cell.cz * size;
    const nx = x < minX ? minX - x : x > minX + size ? x - minX - size : 0;
    const nz = z < minZ ? minZ - z : z > minZ + size ? z - minZ - size : 0;
    return nx * nx + nz * nz;
  }

  private consider(
    cell: Cell,
    x: number,
    z: number,
    r2: number,
    cells: Cell[],
    farthest2: number[],
    nearest2: number[],
  ): void {
    const size = this.cellSizeM;
    const minX = cell.cx * size;
    const minZ = cell.cz * size;
    const maxX = minX + size;
    const maxZ = minZ + size;
    const nx = x < minX ? minX - x : x > maxX ? x - maxX : 0;
    const nz = z < minZ ? minZ - z : z > maxZ ? z - maxZ : 0;
    const n2 = nx * nx + nz * nz;
    if (n2 > r2) return;
    const fx = Math.max(x - minX, maxX - x);
    const fz = Math.max(z - minZ, maxZ - z);
    cells.push(cell);
    farthest2.push(fx * fx + fz * fz);
    nearest2.push(n2);
  }
}
