/** Why a new socket from an address is refused, or null when it may proceed. */
export type AddressRefusal = 'sockets' | 'handshakes' | null;

interface Counts {
  open: number;
  pending: number;
}

/**
 * Per source address: open sockets and sockets still in the handshake. Entries disappear when
 * both counts reach zero, so the map is bounded by the number of live sockets.
 */
export class AddressLimits {
  private readonly maxSockets: number;
  private readonly maxPending: number;
  private readonly byAddress = new Map<string, Counts>();

  constructor(maxSockets: number, maxPending: number) {
    this.maxSockets = maxSockets;
    this.maxPending = maxPending;
  }

  /** Checks the limits for a new socket; when allowed, counts it as open and pending. */
  open(address: string): AddressRefusal {
    let c = this.byAddress.get(address);
    if (c && c.open >= this.maxSockets) return 'sockets';
    if (c && c.pending >= this.maxPending) return 'handshakes';
    if (!c) {
      c = { open: 0, pending: 0 };
      this.byAddress.set(address, c);
    }
    c.open++;
    c.pending++;
    return null;
  }

  /** The socket finished its handshake (admitted or refused). */
  handshakeDone(address: string): void {
    const c = this.byAddress.get(address);
    if (c && c.pending > 0) c.pending--;
  }

  /** The socket closed; `pending` says whether it was still in the handshake. */
  closed(address: string, pending: boolean): void {
    const c = this.byAddress.get(address);
    if (!c) return;
    if (pending && c.pending > 0) c.pending--;
    if (c.open > 0) c.open--;
    if (c.open === 0 && c.pending === 0) this.byAddress.delete(address);
  }

  get size(): number {
    return this.byAddress.size;
  }
}
