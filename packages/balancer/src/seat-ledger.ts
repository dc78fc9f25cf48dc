/** A seat held by an issued join ticket until the server reports it redeemed or the ticket expires. */
export interface Reservation {
  jti: string;
  serverId: string;
  playgroundId: string;
  expiresAtMs: number;
  /** The user the ticket was issued to (absent for relocation tickets, which move many users). */
  holder?: string | undefined;
}

/**
 * Pending seats per dedicated server. Every issued ticket reserves one seat on its server so that a
 * burst of joins cannot overfill it before the server's next load report; expired reservations are
 * dropped lazily (any query purges them).
 */
export class SeatLedger {
  readonly #now: () => number;
  readonly #byServer = new Map<string, Map<string, Reservation>>();
  /** The same reservations by holder, so per-user bounds cost no scan of every server. */
  readonly #byHolder = new Map<string, Set<Reservation>>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  reserve(reservation: Reservation): void {
    let seats = this.#byServer.get(reservation.serverId);
    if (!seats) {
      seats = new Map();
      this.#byServer.set(reservation.serverId, seats);
    }
    const previous = seats.get(reservation.jti);
    if (previous) this.#unhold(previous);
    const copy = { ...reservation };
    seats.set(reservation.jti, copy);
    if (copy.holder !== undefined) {
      let held = this.#byHolder.get(copy.holder);
      if (!held) {
        held = new Set();
        this.#byHolder.set(copy.holder, held);
      }
      held.add(copy);
    }
  }

  /** Live reservations of one user (anywhere). */
  heldBy(holder: string): Reservation[] {
    const now = this.#now();
    const live: Reservation[] = [];
    for (const r of this.#byHolder.get(holder) ?? []) {
      if (r.expiresAtMs > now) live.push(r);
      else this.release(r.serverId, r.jti);
    }
    return live;
  }

  /** Releases a reservation; undefined when the ticket is unknown, expired or belongs to another server. */
  redeem(serverId: string, jti: string): Reservation | undefined {
    const seats = this.#seats(serverId);
    const reservation = seats?.get(jti);
    if (!seats || !reservation) return undefined;
    seats.delete(jti);
    this.#unhold(reservation);
    return reservation;
  }

  /** Drops a reservation without it having been used (e.g. the ticket could not be signed). */
  release(serverId: string, jti: string): void {
    const seats = this.#byServer.get(serverId);
    const reservation = seats?.get(jti);
    if (reservation) this.#unhold(reservation);
    seats?.delete(jti);
  }

  /** Live reservations on a server. */
  pendingFor(serverId: string): number {
    return this.#seats(serverId)?.size ?? 0;
  }

  /** Whether a server holds a live reservation for the playground (its mapping must survive). */
  hasPendingFor(serverId: string, playgroundId: string): boolean {
    const seats = this.#seats(serverId);
    if (!seats) return false;
    for (const r of seats.values()) if (r.playgroundId === playgroundId) return true;
    return false;
  }

  /** Live reservation counts by server id. */
  pendingByServer(): Map<string, number> {
    const out = new Map<string, number>();
    for (const serverId of [...this.#byServer.keys()]) out.set(serverId, this.pendingFor(serverId));
    return out;
  }

  /** Forgets every reservation of a server (it left the registry). */
  dropServer(serverId: string): void {
    for (const r of this.#byServer.get(serverId)?.values() ?? []) this.#unhold(r);
    this.#byServer.delete(serverId);
  }

  /** Purges expired reservations everywhere; returns how many were dropped. */
  sweep(): number {
    let dropped = 0;
    for (const serverId of [...this.#byServer.keys()]) {
      const before = this.#byServer.get(serverId)?.size ?? 0;
      dropped += before - this.pendingFor(serverId);
    }
    return dropped;
  }

  #seats(serverId: string): Map<string, Reservation> | undefined {
    const seats = this.#byServer.get(serverId);
    if (!seats) return undefined;
    const now = this.#now();
    for (const [jti, r] of seats) {
      if (r.expiresAtMs > now) continue;
      seats.delete(jti);
      this.#unhold(r);
    }
    if (seats.size === 0) {
      this.#byServer.delete(serverId);
      return undefined;
    }
    return seats;
  }

  #unhold(reservation: Reservation): void {
    if (reservation.holder === undefined) return;
    const held = this.#byHolder.get(reservation.holder);
    held?.delete(reservation);
    if (held?.size === 0) this.#byHolder.delete(reservation.holder);
  }
}
