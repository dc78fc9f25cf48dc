/** A seat held by an issued join ticket until the server reports it redeemed or the ticket expires. */
export interface Reservation {
  jti: string;
  serverId: string;
  playgroundId: string;
  expiresAtMs: number;
}

/**
 * Pending seats per dedicated server. Every issued ticket reserves one seat on its server so that a
 * burst of joins cannot overfill it before the server's next load report; expired reservations are
 * dropped lazily (any query purges them).
 */
export class SeatLedger {
  readonly #now: () => number;
  readonly #byServer = new Map<string, Map<string, Reservation>>();

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  reserve(reservation: Reservation): void {
    let seats = this.#byServer.get(reservation.serverId);
    if (!seats) {
      seats = new Map();
      this.#byServer.set(reservation.serverId, seats);
    }
    seats.set(reservation.jti, { ...reservation });
  }

  /** Releases a reservation; undefined when the ticket is unknown, expired or belongs to another server. */
  redeem(serverId: string, jti: string): Reservation | undefined {
    const seats = this.#seats(serverId);
    const reservation = seats?.get(jti);
    if (!seats || !reservation) return undefined;
    seats.delete(jti);
    return reservation;
  }

  /** Drops a reservation without it having been used (e.g. the ticket could not be signed). */
  release(serverId: string, jti: string): void {
    this.#byServer.get(serverId)?.delete(jti);
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
    for (const [jti, r] of seats) if (r.expiresAtMs <= now) seats.delete(jti);
    if (seats.size === 0) {
      this.#byServer.delete(serverId);
      return undefined;
    }
    return seats;
  }
}
