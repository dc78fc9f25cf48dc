import {
  ByteWriter,
  CHUNK_LAYOUTS,
  ChunkLayout,
  type CompactChunk,
  type EntityState,
  type EntityUpdate,
  writeChunk,
  writeRemoves,
  writeSpawn,
  writeStateHeader,
} from '@plexus/protocol';
import { type Cell, type ChunkSpans, type GridEntity, InterestGrid } from './interest-grid.ts';
import { UpdateRates } from './update-rates.ts';
import { UpdateWindow } from './update-window.ts';

/** Area-of-interest settings of a playground (docs/protocol.md §4.3, docs/config.md). */
export interface InterestOptions {
  /** An entity enters a client's interest within this horizontal distance of its avatar. */
  radiusM: number;
  /** …and leaves it only beyond radiusM + hysteresisM, so edge entities do not flicker. */
  hysteresisM: number;
  /** Grid cell side, whole metres; ≤ 16 keeps chunk offsets at 2 bytes per axis. */
  cellSizeM: number;
  /**
   * Update rates by distance (docs/protocol.md §4.2): a cell whose nearest point lies within this
   * distance of the client's avatar comes every tick, within twice it every 2nd tick, within four
   * times it every 4th, and so on down to one tick in `farPeriodTicks`. Absent: every tick.
   */
  fullRateM?: number;
  /** The slowest rate and the update window, ticks: a power of two (1 = every cell every tick). */
  farPeriodTicks?: number;
}

/** What the replicator reads from a playground: this tick's changes and an entity's whole state. */
export interface ReplicatedWorld {
  takeChanges(): { spawns: EntityState[]; updates: EntityUpdate[]; removes: number[] } | null;
  /**
   * Hands over the entities created since the last `takeChanges`: they will not come as spawns, and
   * later changes to them come as updates.
   */
  takeSpawns(): EntityState[];
  get(id: number): EntityState | undefined;
}

/**
 * Per-client replication state: the entities its mirror holds and where it looks from. The known
 * set is a bitset over the grid's dense entity indexes (an eighth of a byte per entity, where a
 * Set of ids costs tens of bytes: a dense room of N clients holds N² entries).
 */
interface ClientView {
  bits: Uint32Array;
  /** Bits set. */
  count: number;
  /** The removal serial up to which this view dropped removed entities. */
  serial: number;
  x: number;
  z: number;
  /** The last tick this client got every change of every cell (a keyframe or a dense delta). */
  wholeTick: number;
  /** The layout of its chunks (its protocol version's). */
  layout: ChunkLayout;
}

const NO_BITS = new Uint32Array(0);
const NO_CHANGES = { spawns: [], updates: [], removes: [] } as const;
/**
 * The layout of the newest protocol version, which most clients speak: encoded for every changed
 * cell at every tick. The others are encoded for a cell on a tick where a client of theirs needs it.
 */
const NEWEST = ChunkLayout.PACKED_MOTION;

function knows(v: ClientView, index: number): boolean {
  const w = index >>> 5;
  return w < v.bits.length && ((v.bits[w] as number) & (1 << (index & 31))) !== 0;
}

/** Marks `index` known; the caller checked it was not. */
function learn(v: ClientView, index: number): void {
  const w = index >>> 5;
  if (w >= v.bits.length) {
    const grown = new Uint32Array(Math.max(w + 1, v.bits.length * 2, 2));
    grown.set(v.bits);
    v.bits = grown;
  }
  v.bits[w] = (v.bits[w] as number) | (1 << (index & 31));
  v.count++;
}

/** Unmarks `index`; true when it was known. */
function forget(v: ClientView, index: number): boolean {
  if (!knows(v, index)) return false;
  const w = index >>> 5;
  v.bits[w] = (v.bits[w] as number) & ~(1 << (index & 31));
  v.count--;
  return true;
}

const byId = (a: EntityUpdate, b: EntityUpdate) => a.id - b.id;

/**
 * Interest management and STATE encoding for one playground. Each tick, `update` takes the
 * playground's changes, moves entities in the grid and encodes every changed cell's updates
 * once into a shared buffer; `frameFor` then builds one client's frame from its own enter
 * (spawn) and leave (remove) records around copies of the shared chunks of the cells it sees.
 * Work per client grows with what it sees; no frame is queued anywhere.
 *
 * Rates by distance (a priority accumulator per cell rather than per entity pair, so that chunks
 * stay shared): a client gets a far cell's chunk only every p ticks, on ticks where
 * (tick + clientId) mod p = 0. Each p-tick schedule is within the p/2-tick one, so on one tick in
 * every window (`farPeriodTicks`) a client gets every cell it keeps, and clients take those turns
 * on different ticks. A chunk carries every field changed within the window, not just this
 * tick's: so whatever rates a client had for a cell, and however an entity hopped between cells,
 * what a client holds of it is never older than the window. Near clients resend a stopped
 * entity's last change for window − 1 ticks; moving entities change every tick anyway.
 */
export class Replicator {
  readonly grid: InterestGrid;
  private readonly world: ReplicatedWorld;
  private readonly radius: number;
  private readonly outer: number;
  private readonly rates: UpdateRates;
  private readonly changes: UpdateWindow;
  private readonly views = new Map<number, ClientView>();
  private tick = 0;
  /** Cells holding this tick's chunks. */
  private readonly dirtyCells: Cell[] = [];
  private readonly removedIds: number[] = [];
  /**
   * Removed entities whose grid index is not yet reusable: some view may still hold its bit
   * (parallel arrays, serial ascending). An index is released once every view dropped it.
   */
  private readonly pendingIndex: number[] = [];
  private readonly pendingId: number[] = [];
  private readonly pendingSerial: number[] = [];
  /** Counts the updates that removed entities. */
  private removalSerial = 0;
  /** removalSerial before this tick's update (views up to date have exactly this one). */
  private prevSerial = 0;
  /** This tick's chunks, a buffer per layout (ChunkSpans say where a cell's are). */
  private readonly chunkWriters = Array.from(
    { length: CHUNK_LAYOUTS },
    (_, layout) => new ByteWriter(layout === NEWEST ? 16 * 1024 : 1024),
  );
  /** The tick each buffer holds the chunks of. */
  private readonly chunkWriterTicks: number[] = new Array<number>(CHUNK_LAYOUTS).fill(-1);
  /**
   * A compact chunk leaves out the y of an entity that every recipient holds: one whose y last
   * changed before the update window for the window's chunk (every client's copy is at most that
   * old), before this tick for the fresh one (its clients got every change of the last tick).
   */
  private readonly windowKeepsY: CompactChunk = {
    keepsY: (u) => (this.grid.get(u.id)?.yAt ?? this.tick) <= this.tick - this.rates.window,
  };
  private readonly freshKeepsY: CompactChunk = {
    keepsY: (u) => (this.grid.get(u.id)?.yAt ?? this.tick) < this.tick,
  };
  // Scratch reused by every frameFor call (the tick is single-threaded).
  private readonly prefix = new ByteWriter(4 * 1024);
  private readonly suffix = new ByteWriter(256);
  private readonly spawnWriter = new ByteWriter(512);
  private readonly cells: Cell[] = [];
  private readonly farthest2: number[] = [];
  private readonly nearest2: number[] = [];
  private readonly fresh: EntityUpdate[] = [];
  private readonly chunks: Cell[] = [];
  private readonly enters: GridEntity[] = [];
  private readonly leaves: number[] = [];
  private readonly leaveIndexes: number[] = [];
  private scanStamp = 0;
  /** True when this tick changed nothing in the grid: every delta would be empty. */
  private quietTick = true;
  /**
   * Per layout, the delta every client that holds everything (a dense room) gets this tick,
   * encoded once and sent as the same bytes to each of them; valid for the tick in
   * `sharedFrameTicks` (set when the first such client asks for it).
   */
  private readonly sharedFrames: (Uint8Array | null)[] = new Array<Uint8Array | null>(CHUNK_LAYOUTS).fill(
    null,
  );
  private readonly sharedFrameTicks: number[] = new Array<number>(CHUNK_LAYOUTS).fill(-1);
  /** A keyframe between ticks put new entities in the grid: the next update is not quiet. */
  private spawnedEarly = false;
  /** This tick's update put new entities in the grid (they enter at once, for everyone). */
  private spawnedNow = false;
  /**
   * About how many cells an interest scan probes: a client that holds fewer entities than this
   * finds its chunks faster from what it holds, between re-evaluations.
   */
  private readonly scanCells: number;
  /** A keyframe is being built between ticks: the grid may still hold entities the world removed. */
  private betweenTicks = false;

  constructor(world: ReplicatedWorld, options: InterestOptions) {
    this.world = world;
    this.grid = new InterestGrid(options.cellSizeM);
    this.radius = options.radiusM;
    this.outer = options.radiusM + options.hysteresisM;
    this.rates = new UpdateRates(options.fullRateM, options.farPeriodTicks);
    this.changes = new UpdateWindow(this.rates.window);
    this.scanCells = Math.ceil(Math.PI * (this.outer / options.cellSizeM + 1) ** 2);
  }

  get entityCount(): number {
    return this.grid.byId.size;
  }

  /** Entities client `clientId` currently holds (tests, diagnostics). */
  knownBy(clientId: number): ReadonlySet<number> {
    const out = new Set<number>();
    const view = this.views.get(clientId);
    if (!view) return out;
    // Bits of entities removed since the view's last frame point at empty slots (not reused yet).
    for (let w = 0; w < view.bits.length; w++) {
      const word = view.bits[w] as number;
      if (word === 0) continue;
      for (let b = 0; b < 32; b++) {
        if (word & (1 << b)) {
          const e = this.grid.byIndex[w * 32 + b];
          if (e) out.add(e.id);
        }
      }
    }
    return out;
  }

  /**
   * True when the last `update` changed nothing (no spawn, update or remove): every client's delta
   * is empty, so only new clients and clients owed a keyframe need a frame this tick.
   */
  get quiet(): boolean {
    return this.quietTick;
  }

  /** Takes the playground's changes of this tick and encodes each changed cell's chunk once. */
  update(tick: number): void {
    this.tick = tick;
    this.quietTick = true;
    this.sharedFrames.fill(null);
    this.sharedFrameTicks.fill(-1);
    for (const cell of this.dirtyCells) cell.updates.length = 0;
    this.grid.sweep(this.dirtyCells);
    this.dirtyCells.length = 0;
    this.removedIds.length = 0;
    this.prevSerial = this.removalSerial;
    const changes = this.world.takeChanges();
    const spawnedEarly = this.spawnedEarly;
    this.spawnedEarly = false;
    this.spawnedNow = spawnedEarly || (changes !== null && changes.spawns.length > 0);
    if (!changes && !spawnedEarly && this.changes.idle) return;
    const { spawns, updates, removes } = changes ?? NO_CHANGES;
    for (const id of removes) this.removeFromGrid(id);
    for (const s of spawns) this.grid.insert(s.id, s.position.x, s.position.z);
    for (const u of updates) {
      const e = this.grid.get(u.id);
      if (!e) continue;
      if (u.position) this.grid.move(e, u.position.x, u.position.z);
      this.changes.note(e, u, tick);
      e.spawnBytes = null;
    }
    this.changes.collect(tick, this.dirtyCells);
    for (const cell of this.dirtyCells) {
      cell.updates.sort(byId);
      this.encodeChunks(cell, NEWEST);
    }
    this.quietTick =
      this.removedIds.length === 0 && spawns.length === 0 && !spawnedEarly && this.dirtyCells.length === 0;
  }

  /**
   * Encodes `cell`'s two chunks (the window's, the fresh one) in `layout` into that layout's
   * buffer, once per tick: for the newest layout in `update`, for the others when a client of
   * theirs needs them.
   */
  private encodeChunks(cell: Cell, layout: ChunkLayout): void {
    const spans = cell.spans[layout] as ChunkSpans;
    if (spans.tick === this.tick) return;
    const w = this.chunkWriters[layout] as ByteWriter;
    if (this.chunkWriterTicks[layout] !== this.tick) {
      w.reset();
      this.chunkWriterTicks[layout] = this.tick;
    }
    spans.tick = this.tick;
    spans.start = w.length;
    const compact = layout !== ChunkLayout.WHOLE;
    writeChunk(
      w,
      cell.originXm,
      cell.originZm,
      cell.updates,
      layout,
      compact ? this.windowKeepsY : undefined,
    );
    spans.end = w.length;
    const fresh = this.encodeFresh(w, cell, layout, compact ? this.freshKeepsY : undefined);
    spans.freshStart = fresh < 0 ? spans.start : fresh;
    spans.freshEnd = fresh < 0 ? spans.end : w.length;
  }

  /**
   * The fresh variant of a cell's chunk: the same bytes when every update in it is this tick's
   * own (−1), else this tick's updates alone, encoded at the end of `w` (where they start).
   */
  private encodeFresh(w: ByteWriter, cell: Cell, layout: ChunkLayout, compact?: CompactChunk): number {
    const { tick, fresh } = this;
    fresh.length = 0;
    let same = true;
    for (const u of cell.updates) {
      const e = this.grid.get(u.id) as GridEntity;
      if (e.updateAt === tick && e.update) fresh.push(e.update);
      if (e.update !== u || e.updateAt !== tick) same = false;
      // A y changed within the window but before this tick: the window's chunk must carry it, the
      // fresh one need not.
      if (compact && e.yAt < tick && e.yAt > tick - this.rates.window) same = false;
    }
    if (same) return -1;
    const start = w.length;
    if (fresh.length > 0) writeChunk(w, cell.originXm, cell.originZm, fresh, layout, compact);
    return start;
  }

  /** Takes a removed entity out of the grid; its index is released once no view holds it. */
  private removeFromGrid(id: number): void {
    const e = this.grid.remove(id);
    if (!e) return;
    if (this.removedIds.length === 0) {
      this.releaseIndexes();
      this.removalSerial++;
    }
    this.removedIds.push(id);
    this.pendingIndex.push(e.index);
    this.pendingId.push(id);
    this.pendingSerial.push(this.removalSerial);
  }

  /**
   * The STATE frame for one client this tick, or null when nothing concerns it. A keyframe lists
   * every entity within the radius (the client drops the rest); a delta carries the entities that
   * entered (spawns) and left (removes) its interest, and the shared chunks of the cells it sees.
   */
  frameFor(clientId: number, avatarId: number, keyframe: boolean, layout: ChunkLayout): Uint8Array | null {
    // Nothing changed in the grid since the previous tick: interest is where it was (no avatar
    // moved), no chunk exists and nothing was removed, so a delta would be empty.
    if (!keyframe && this.quietTick && this.views.has(clientId)) return null;
    let view = this.views.get(clientId);
    if (!view) {
      view = { bits: NO_BITS, count: 0, serial: this.removalSerial, x: 0, z: 0, wholeTick: -1, layout };
      this.views.set(clientId, view);
    }
    view.layout = layout;
    const avatar = this.grid.get(avatarId);
    if (avatar) {
      view.x = avatar.x;
      view.z = avatar.z;
    }
    const { enters, leaves, leaveIndexes, chunks, cells, farthest2, nearest2 } = this;
    enters.length = 0;
    leaves.length = 0;
    leaveIndexes.length = 0;
    chunks.length = 0;
    const upToDate = view.serial === this.prevSerial;
    if (keyframe) {
      view.bits.fill(0);
      view.count = 0;
      view.serial = this.removalSerial;
      view.wholeTick = this.tick;
    } else {
      this.dropRemoved(view, leaves);
    }
    const removedLeaves = leaves.length;
    // Entering and leaving across the radius is decided once per window, on the client's turn
    // for every cell (and on a tick that spawned entities, so they show at once): spreading that
    // work over the ticks, where hysteresis absorbs a leave that comes a few ticks late.
    const reevaluate = keyframe || this.spawnedNow || this.rates.fullTurn(this.tick, clientId);
    if (!reevaluate && !this.betweenTicks && view.count < Math.min(this.scanCells, this.grid.cells.size)) {
      return this.keptFrame(view, clientId);
    }

    const r2 = this.radius * this.radius;
    const outer2 = this.outer * this.outer;
    this.grid.cellsNear(view.x, view.z, keyframe ? this.radius : this.outer, cells, farthest2, nearest2);
    const stamp = ++this.scanStamp;
    if (!keyframe && this.seesEverything(view.count)) {
      // A dense room: the client already holds every entity and every cell lies wholly within
      // its radius, so nothing enters or leaves; it gets every chunk, every tick. Every such
      // client whose leaves are all of this tick's removes gets the very same bytes: the same
      // chunks in the same order (cells come in grid order) and the same removes. Rates by
      // distance are not applied here: in a room that small they save a few percent of the bytes
      // (4 % in the W1 bench, docs/benchmarks.md) and would cost the one shared frame. A client
      // that got every change of the last tick needs only this tick's (the fresh chunks); one
      // that just came from farther away gets the window's.
      const fresh = view.wholeTick === this.tick - 1;
      view.wholeTick = this.tick;
      const shared = fresh && upToDate && leaves.length === this.removedIds.length;
      if (shared && this.sharedFrameTicks[layout] === this.tick)
        return this.sharedFrames[layout] as Uint8Array | null;
      for (const cell of cells) {
        if (cell.updates.length === 0 || cell.entities.length === 0) continue;
        // Every layout holds the same updates: one's fresh chunk is empty when the newest's is.
        const spans = cell.spans[NEWEST] as ChunkSpans;
        if (!fresh || spans.freshEnd > spans.freshStart) chunks.push(cell);
      }
      const frame = leaves.length === 0 && chunks.length === 0 ? null : this.assemble(false, layout, fresh);
      if (shared) {
        this.sharedFrames[layout] = frame;
        this.sharedFrameTicks[layout] = this.tick;
      }
      return frame;
    }
    let kept = 0;
    /** Every cell it keeps came this tick (none was skipped for its rate). */
    let whole = true;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] as Cell;
      cell.scan = stamp;
      const keptBefore = kept;
      const list = cell.entities;
      if ((farthest2[i] as number) <= r2) {
        // The whole cell is within the radius: everything in it is (or now enters) interest.
        for (let j = 0; j < list.length; j++) {
          const e = list[j] as GridEntity;
          if (knows(view, e.index)) kept++;
          else enters.push(e);
        }
      } else if (!reevaluate) {
        for (let j = 0; j < list.length; j++) if (knows(view, (list[j] as GridEntity).index)) kept++;
      } else {
        for (let j = 0; j < list.length; j++) {
          const e = list[j] as GridEntity;
          const dx = e.x - view.x;
          const dz = e.z - view.z;
          const d2 = dx * dx + dz * dz;
          if (knows(view, e.index)) {
            if (d2 > outer2 && e.id !== avatarId) {
              leaves.push(e.id);
              leaveIndexes.push(e.index);
            } else kept++;
          } else if (d2 <= r2 || e.id === avatarId) {
            enters.push(e);
          }
        }
      }
      // The cell's shared chunk matters only if the client keeps one of its entities (entering
      // ones come whole as spawns, leaving ones go).
      if (!keyframe && kept > keptBefore && cell.updates.length > 0) {
        if (this.rates.due(this.tick, clientId, nearest2[i] as number)) chunks.push(cell);
        else whole = false;
      }
    }
    if (whole) view.wholeTick = this.tick;
    if (kept + leaves.length - removedLeaves < view.count) {
      // Some known entity sits in a cell beyond the outer radius (it moved far in one tick).
      // Every known bit is a live entity: removed ones were dropped above.
      const { bits } = view;
      for (let w = 0; w < bits.length; w++) {
        const word = bits[w] as number;
        if (word === 0) continue;
        for (let b = 0; b < 32; b++) {
          if ((word & (1 << b)) === 0) continue;
          const e = this.grid.byIndex[w * 32 + b] as GridEntity;
          if (e.cell.scan !== stamp) {
            leaves.push(e.id);
            leaveIndexes.push(e.index);
          }
        }
      }
    }
    for (const index of leaveIndexes) forget(view, index);
    if (this.betweenTicks) this.dropGone(enters);
    for (const e of enters) learn(view, e.index);

    if (!keyframe && enters.length === 0 && leaves.length === 0 && chunks.length === 0) return null;
    return this.assemble(keyframe, layout);
  }

  /**
   * A delta between re-evaluations, for a client that holds few entities: the due chunks of the
   * cells its entities are in (nothing enters or leaves but removed entities, already in `leaves`).
   */
  private keptFrame(view: ClientView, clientId: number): Uint8Array | null {
    const { chunks, grid } = this;
    const stamp = ++this.scanStamp;
    let whole = true;
    const { bits } = view;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w] as number;
      while (word !== 0) {
        const low = word & -word;
        word ^= low;
        const e = grid.byIndex[w * 32 + 31 - Math.clz32(low)];
        if (!e) continue;
        const cell = e.cell;
        if (cell.scan === stamp) continue;
        cell.scan = stamp;
        if (cell.updates.length === 0) continue;
        if (this.rates.due(this.tick, clientId, grid.nearest2(cell, view.x, view.z))) chunks.push(cell);
        else whole = false;
      }
    }
    if (whole) view.wholeTick = this.tick;
    if (this.leaves.length === 0 && chunks.length === 0) return null;
    return this.assemble(false, view.layout);
  }

  /**
   * The first keyframe of a client admitted between ticks, so that WELCOME need not wait for the
   * next tick (docs/protocol.md §5.1). It shows the grid as of the last update (`tick`, the last
   * tick that ran) plus the client's own avatar; whatever changed since reaches it in the next
   * tick's delta, as it reaches every other client. Entities removed since the last update are left
   * out.
   */
  keyframeBetweenTicks(clientId: number, avatarId: number, tick: number, layout: ChunkLayout): Uint8Array {
    // A room that was claiming has not been updated yet: its first keyframe carries the host's tick.
    if (tick > this.tick) this.tick = tick;
    // Entities created since (its own avatar, a restored checkpoint's entities) join the grid now;
    // other clients get them as enters at the next tick, which must therefore not be quiet.
    for (const e of this.world.takeSpawns()) {
      this.grid.insert(e.id, e.position.x, e.position.z);
      this.spawnedEarly = true;
    }
    this.betweenTicks = true;
    try {
      return this.frameFor(clientId, avatarId, true, layout) as Uint8Array;
    } finally {
      this.betweenTicks = false;
    }
  }

  /** True when the last scan covered every occupied cell wholly inside the radius and all is known. */
  private seesEverything(knownCount: number): boolean {
    if (knownCount !== this.grid.byId.size || this.cells.length !== this.grid.cells.size) return false;
    const r2 = this.radius * this.radius;
    for (const f of this.farthest2) if (f > r2) return false;
    return true;
  }

  /** Between ticks: leaves out entities the world removed since the last update. */
  private dropGone(enters: GridEntity[]): void {
    let n = 0;
    for (const e of enters) if (this.world.get(e.id)) enters[n++] = e;
    enters.length = n;
  }

  /** Forgets a client (it left): its view is dropped with everything it held. */
  dropClient(clientId: number): void {
    this.views.delete(clientId);
  }

  /**
   * Unmarks the entities removed since the view's last frame (normally just this tick's), adding
   * the ones it held to `leaves` when given.
   */
  private dropRemoved(view: ClientView, leaves: number[]): void {
    const { pendingSerial } = this;
    if (view.serial === this.removalSerial) return;
    let i = pendingSerial.length;
    while (i > 0 && (pendingSerial[i - 1] as number) > view.serial) i--;
    for (; i < pendingSerial.length; i++) {
      if (forget(view, this.pendingIndex[i] as number)) leaves.push(this.pendingId[i] as number);
    }
    view.serial = this.removalSerial;
  }

  /** Releases the grid indexes of removed entities that no view holds any more. */
  private releaseIndexes(): void {
    let min = this.removalSerial;
    for (const view of this.views.values()) if (view.serial < min) min = view.serial;
    const { pendingSerial, pendingIndex, pendingId } = this;
    let n = 0;
    while (n < pendingSerial.length && (pendingSerial[n] as number) <= min) {
      this.grid.releaseIndex(pendingIndex[n] as number);
      n++;
    }
    if (n > 0) {
      pendingSerial.splice(0, n);
      pendingIndex.splice(0, n);
      pendingId.splice(0, n);
    }
  }

  /**
   * Header + this client's spawns + shared chunks in its layout (their fresh variants when
   * `fresh`) + its removes, as one frame.
   */
  private assemble(keyframe: boolean, layout: ChunkLayout, fresh = false): Uint8Array {
    const { prefix, suffix, chunks } = this;
    // The newest layout's chunks were encoded in `update`; an older one's on its first frame.
    if (layout !== NEWEST) for (const cell of chunks) this.encodeChunks(cell, layout);
    const source = (this.chunkWriters[layout] as ByteWriter).written();
    prefix.reset();
    writeStateHeader(prefix, this.tick, keyframe, layout);
    prefix.varuint(this.enters.length);
    for (const e of this.enters) prefix.bytes(this.spawnBytes(e));
    prefix.varuint(chunks.length);
    suffix.reset();
    writeRemoves(suffix, this.leaves);
    let total = prefix.length + suffix.length;
    for (const cell of chunks) {
      const spans = cell.spans[layout] as ChunkSpans;
      total += fresh ? spans.freshEnd - spans.freshStart : spans.end - spans.start;
    }
    const out = Buffer.allocUnsafe(total);
    out.set(prefix.written(), 0);
    let at = prefix.length;
    for (const cell of chunks) {
      const spans = cell.spans[layout] as ChunkSpans;
      const part = fresh
        ? source.subarray(spans.freshStart, spans.freshEnd)
        : source.subarray(spans.start, spans.end);
      out.set(part, at);
      at += part.length;
    }
    out.set(suffix.written(), at);
    return out;
  }

  /** An entity's SPAWN record, encoded at most once per tick however many clients need it. */
  private spawnBytes(e: GridEntity): Uint8Array {
    // Between ticks the entity may have changed since its record was cached (a resume takes over
    // its entities): encode it afresh, and keep the cache for the tick's own frames.
    if (!this.betweenTicks && e.spawnBytes && e.spawnTick === this.tick) return e.spawnBytes;
    const state = this.world.get(e.id);
    if (!state) throw new Error(`entity ${e.id} is in the grid but not in the playground`);
    writeSpawn(this.spawnWriter.reset(), state);
    const bytes = this.spawnWriter.finish();
    if (!this.betweenTicks) {
      e.spawnBytes = bytes;
      e.spawnTick = this.tick;
    }
    return bytes;
  }
}
