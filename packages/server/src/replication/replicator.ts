import {
  ByteWriter,
  type EntityState,
  type EntityUpdate,
  writeChunk,
  writeRemoves,
  writeSpawn,
  writeStateHeader,
} from '@plexus/protocol';
import { type Cell, type GridEntity, InterestGrid } from './interest-grid.ts';

/** Area-of-interest settings of a playground (docs/protocol.md §4.3, docs/config.md). */
export interface InterestOptions {
  /** An entity enters a client's interest within this horizontal distance of its avatar. */
  radiusM: number;
  /** …and leaves it only beyond radiusM + hysteresisM, so edge entities do not flicker. */
  hysteresisM: number;
  /** Grid cell side, whole metres; ≤ 16 keeps chunk offsets at 2 bytes per axis. */
  cellSizeM: number;
}

/** What the replicator reads from a playground: this tick's changes and an entity's whole state. */
export interface ReplicatedWorld {
  takeChanges(): { spawns: EntityState[]; updates: EntityUpdate[]; removes: number[] } | null;
  get(id: number): EntityState | undefined;
}

/** Per-client replication state: the entities its mirror holds and where it looks from. */
interface ClientView {
  readonly known: Set<number>;
  x: number;
  z: number;
}

const byId = (a: EntityUpdate, b: EntityUpdate) => a.id - b.id;

/**
 * Interest management and STATE encoding for one playground. Each tick, `update` takes the
 * playground's changes, moves entities in the grid and encodes every changed cell's updates
 * once into a shared buffer; `frameFor` then builds one client's frame from its own enter
 * (spawn) and leave (remove) records around copies of the shared chunks of the cells it sees.
 * Work per client grows with what it sees; no frame is queued anywhere.
 */
export class Replicator {
  readonly grid: InterestGrid;
  private readonly world: ReplicatedWorld;
  private readonly radius: number;
  private readonly outer: number;
  private readonly views = new Map<number, ClientView>();
  private tick = 0;
  /** Cells holding this tick's chunks. */
  private readonly dirtyCells: Cell[] = [];
  private readonly removedIds: number[] = [];
  private readonly chunkWriter = new ByteWriter(16 * 1024);
  private chunkBytes: Buffer = Buffer.alloc(0);
  // Scratch reused by every frameFor call (the tick is single-threaded).
  private readonly prefix = new ByteWriter(4 * 1024);
  private readonly suffix = new ByteWriter(256);
  private readonly spawnWriter = new ByteWriter(512);
  private readonly cells: Cell[] = [];
  private readonly farthest2: number[] = [];
  private readonly chunks: Cell[] = [];
  private readonly enters: GridEntity[] = [];
  private readonly leaves: number[] = [];
  private scanStamp = 0;

  constructor(world: ReplicatedWorld, options: InterestOptions) {
    this.world = world;
    this.grid = new InterestGrid(options.cellSizeM);
    this.radius = options.radiusM;
    this.outer = options.radiusM + options.hysteresisM;
  }

  get entityCount(): number {
    return this.grid.byId.size;
  }

  /** Entities client `clientId` currently holds (tests, diagnostics). */
  knownBy(clientId: number): ReadonlySet<number> {
    return this.views.get(clientId)?.known ?? new Set();
  }

  /** Takes the playground's changes of this tick and encodes each changed cell's chunk once. */
  update(tick: number): void {
    this.tick = tick;
    for (const cell of this.dirtyCells) {
      cell.updates.length = 0;
      cell.chunkStart = 0;
      cell.chunkEnd = 0;
    }
    this.grid.sweep(this.dirtyCells);
    this.dirtyCells.length = 0;
    this.removedIds.length = 0;
    const changes = this.world.takeChanges();
    if (!changes) return;
    for (const id of changes.removes) {
      if (this.grid.remove(id)) this.removedIds.push(id);
    }
    for (const s of changes.spawns) this.grid.insert(s.id, s.position.x, s.position.z);
    for (const u of changes.updates) {
      const e = this.grid.get(u.id);
      if (!e) continue;
      if (u.position) this.grid.move(e, u.position.x, u.position.z);
      e.spawnBytes = null;
      const cell = e.cell;
      if (cell.updates.length === 0) this.dirtyCells.push(cell);
      cell.updates.push(u);
    }
    const w = this.chunkWriter.reset();
    for (const cell of this.dirtyCells) {
      cell.updates.sort(byId);
      cell.chunkStart = w.length;
      writeChunk(w, cell.originXm, cell.originZm, cell.updates);
      cell.chunkEnd = w.length;
    }
    const written = w.written();
    this.chunkBytes = Buffer.from(written.buffer, written.byteOffset, written.byteLength);
  }

  /**
   * The STATE frame for one client this tick, or null when nothing concerns it. A keyframe lists
   * every entity within the radius (the client drops the rest); a delta carries the entities that
   * entered (spawns) and left (removes) its interest, and the shared chunks of the cells it sees.
   */
  frameFor(clientId: number, avatarId: number, keyframe: boolean): Uint8Array | null {
    let view = this.views.get(clientId);
    if (!view) {
      view = { known: new Set(), x: 0, z: 0 };
      this.views.set(clientId, view);
    }
    const avatar = this.grid.get(avatarId);
    if (avatar) {
      view.x = avatar.x;
      view.z = avatar.z;
    }
    const { known } = view;
    const { enters, leaves, chunks, cells, farthest2 } = this;
    enters.length = 0;
    leaves.length = 0;
    chunks.length = 0;
    if (keyframe) known.clear();
    else for (const id of this.removedIds) if (known.delete(id)) leaves.push(id);
    const removedLeaves = leaves.length;

    const r2 = this.radius * this.radius;
    const outer2 = this.outer * this.outer;
    this.grid.cellsNear(view.x, view.z, keyframe ? this.radius : this.outer, cells, farthest2);
    const stamp = ++this.scanStamp;
    if (!keyframe && this.seesEverything(known.size)) {
      // A dense room: the client already holds every entity and every cell lies wholly within
      // its radius, so nothing enters or leaves; it gets every chunk.
      for (const cell of cells)
        if (cell.chunkEnd > cell.chunkStart && cell.entities.length > 0) chunks.push(cell);
      if (leaves.length === 0 && chunks.length === 0) return null;
      return this.assemble(false);
    }
    let kept = 0;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] as Cell;
      cell.scan = stamp;
      const keptBefore = kept;
      const list = cell.entities;
      if ((farthest2[i] as number) <= r2) {
        // The whole cell is within the radius: everything in it is (or now enters) interest.
        for (let j = 0; j < list.length; j++) {
          const e = list[j] as GridEntity;
          if (known.has(e.id)) kept++;
          else enters.push(e);
        }
      } else {
        for (let j = 0; j < list.length; j++) {
          const e = list[j] as GridEntity;
          const dx = e.x - view.x;
          const dz = e.z - view.z;
          const d2 = dx * dx + dz * dz;
          if (known.has(e.id)) {
            if (d2 > outer2 && e.id !== avatarId) leaves.push(e.id);
            else kept++;
          } else if (d2 <= r2 || e.id === avatarId) {
            enters.push(e);
          }
        }
      }
      // The cell's shared chunk matters only if the client keeps one of its entities (entering
      // ones come whole as spawns, leaving ones go).
      if (!keyframe && kept > keptBefore && cell.chunkEnd > cell.chunkStart) chunks.push(cell);
    }
    if (kept + leaves.length - removedLeaves < known.size) {
      // Some known entity sits in a cell beyond the outer radius (it moved far in one tick).
      for (const id of known) {
        const e = this.grid.get(id);
        if (!e || e.cell.scan !== stamp) leaves.push(id);
      }
    }
    for (let i = removedLeaves; i < leaves.length; i++) known.delete(leaves[i] as number);
    for (const e of enters) known.add(e.id);

    if (!keyframe && enters.length === 0 && leaves.length === 0 && chunks.length === 0) return null;
    return this.assemble(keyframe);
  }

  /** True when the last scan covered every occupied cell wholly inside the radius and all is known. */
  private seesEverything(knownCount: number): boolean {
    if (knownCount !== this.grid.byId.size || this.cells.length !== this.grid.cells.size) return false;
    const r2 = this.radius * this.radius;
    for (const f of this.farthest2) if (f > r2) return false;
    return true;
  }

  /** Forgets a client (it left): its view is dropped with everything it held. */
  dropClient(clientId: number): void {
    this.views.delete(clientId);
  }

  /** Header + this client's spawns + shared chunks + its removes, as one frame. */
  private assemble(keyframe: boolean): Uint8Array {
    const { prefix, suffix, chunks, chunkBytes } = this;
    prefix.reset();
    writeStateHeader(prefix, this.tick, keyframe);
    prefix.varuint(this.enters.length);
    for (const e of this.enters) prefix.bytes(this.spawnBytes(e));
    prefix.varuint(chunks.length);
    suffix.reset();
    writeRemoves(suffix, this.leaves);
    let total = prefix.length + suffix.length;
    for (const cell of chunks) total += cell.chunkEnd - cell.chunkStart;
    const out = Buffer.allocUnsafe(total);
    out.set(prefix.written(), 0);
    let at = prefix.length;
    for (const cell of chunks) at += chunkBytes.copy(out, at, cell.chunkStart, cell.chunkEnd);
    out.set(suffix.written(), at);
    return out;
  }

  /** An entity's SPAWN record, encoded at most once per tick however many clients need it. */
  private spawnBytes(e: GridEntity): Uint8Array {
    if (e.spawnBytes && e.spawnTick === this.tick) return e.spawnBytes;
    const state = this.world.get(e.id);
    if (!state) throw new Error(`entity ${e.id} is in the grid but not in the playground`);
    writeSpawn(this.spawnWriter.reset(), state);
    e.spawnBytes = this.spawnWriter.finish();
    e.spawnTick = this.tick;
    return e.spawnBytes;
  }
}
