/**
 * Seat policy of matchmaking, as pure functions: which instance a user or a group gets, when a
 * held seat is kept, what a seat assignment counts as, where a party sits. The SQL beside it
 * (seat-pools.ts) only reads the counts these functions decide on and writes their result, inside
 * a transaction holding the pool's lock (docs/api.md, matchmaking).
 */

export interface HeldSeat {
  playgroundId: string;
  partyId: string | null;
}

export interface RoomRequest {
  count: number;
  exclude: readonly string[];
  prefer?: string | undefined;
  strict?: boolean | undefined;
}

export interface Room {
  playgroundId: string;
  /** Seats already held there (by users outside the request). */
  seated: number;
}

export type SeatOutcome = 'kept' | 'joined' | 'opened';

export interface Seat {
  playgroundId: string;
  outcome: SeatOutcome;
}

/** Instance `n` of catalogue playground `id`: the id itself for the first, `id#n` after. */
export function instanceId(id: string, n: number): string {
  return n === 1 ? id : `${id}#${n}`;
}

/**
 * Splits `expo-hall#3` into its catalogue id and instance number; a plain id is instance 1.
 * `instance` is NaN for a suffix that is not a canonical number ≥ 2 (`#1`, `#02`, `#x`).
 */
export function parseInstanceId(playgroundId: string): { base: string; instance: number } {
  const hash = playgroundId.indexOf('#');
  if (hash < 0) return { base: playgroundId, instance: 1 };
  const suffix = playgroundId.slice(hash + 1);
  return {
    base: playgroundId.slice(0, hash),
    instance: /^[1-9][0-9]{0,5}$/.test(suffix) && suffix !== '1' ? Number(suffix) : Number.NaN,
  };
}

/**
 * The instance of a catalogue playground with room for `count` more users, given the seats each
 * instance holds (not counting the requesters): `prefer` when it has room, else (unless `strict`)
 * the lowest instance with room; undefined when none has.
 */
export function chooseInstance(
  playground: { id: string; capacity: number; maxInstances: number },
  seatedByInstance: ReadonlyMap<number, number>,
  request: Pick<RoomRequest, 'count' | 'prefer' | 'strict'>,
): Room | undefined {
  const { id, capacity, maxInstances } = playground;
  const roomAt = (n: number): Room | undefined => {
    const taken = seatedByInstance.get(n) ?? 0;
    return taken + request.count <= capacity ? { playgroundId: instanceId(id, n), seated: taken } : undefined;
  };
  if (request.prefer !== undefined) {
    const n = parseInstanceId(request.prefer).instance;
    const preferred = n >= 1 && n <= maxInstances ? roomAt(n) : undefined;
    if (preferred || request.strict) return preferred;
  }
  for (let n = 1; n <= maxInstances; n++) {
    const room = roomAt(n);
    if (room) return room;
  }
  return undefined;
}

/** A user keeps the seat they hold unless they asked for another instance. */
export function keepsOwnSeat(own: HeldSeat | undefined, prefer: string | undefined): own is HeldSeat {
  return own !== undefined && (prefer === undefined || own.playgroundId === prefer);
}

/** What a new assignment counts as: staying put, joining others, or opening an empty instance. */
export function seatOutcome(own: HeldSeat | undefined, room: Room): SeatOutcome {
  return own?.playgroundId === room.playgroundId ? 'kept' : room.seated === 0 ? 'opened' : 'joined';
}

/** Where a party sits: the instance most of its fresh party seats are in. */
export type PartyAnchor =
  | { kind: 'catalogue'; catalogueId: string; playgroundId: string }
  | { kind: 'auto'; type: string; playgroundId: string };

/**
 * The anchor between the party's busiest catalogue instance and its busiest auto-opened
 * playground: the catalogue one on a tie.
 */
export function partyAnchor(
  catalogue: { catalogueId: string; instance: number; seats: number } | undefined,
  auto: { type: string; playgroundId: string; seats: number } | undefined,
): PartyAnchor | undefined {
  if (catalogue && (!auto || catalogue.seats >= auto.seats)) {
    return {
      kind: 'catalogue',
      catalogueId: catalogue.catalogueId,
      playgroundId: instanceId(catalogue.catalogueId, catalogue.instance),
    };
  }
  return auto && { kind: 'auto', type: auto.type, playgroundId: auto.playgroundId };
}
