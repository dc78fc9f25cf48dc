/**
 * Update rates by distance (docs/protocol.md §4.2): a cell whose nearest point lies within
 * `fullRateM` of a client's avatar comes every tick, within twice that every 2nd tick, and so on
 * down to one tick in `farPeriodTicks` (the window). A cell with period p comes to client c on
 * ticks where (tick + c) mod p = 0: each schedule is within the next faster one, so on one tick in
 * every window a client gets every cell, and clients take that turn on different ticks.
 */
export class UpdateRates {
  /** The slowest period and the update window, ticks (a power of two; 1 = every tick). */
  readonly window: number;
  /** Squared distance thresholds: beyond the i-th, a cell comes every 2^(i+1) ticks. */
  private readonly bands: number[] = [];

  constructor(fullRateM: number | undefined, farPeriodTicks = 1) {
    if (
      !Number.isInteger(farPeriodTicks) ||
      farPeriodTicks < 1 ||
      (farPeriodTicks & (farPeriodTicks - 1)) !== 0
    )
      throw new RangeError('farPeriodTicks must be a power of two');
    this.window = farPeriodTicks;
    if (fullRateM === undefined) return;
    for (let p = 1, d = fullRateM; p < farPeriodTicks; p *= 2, d *= 2) this.bands.push(d * d);
  }

  /** True when client `clientId` gets, at `tick`, a cell whose nearest point is √n2 m away. */
  due(tick: number, clientId: number, n2: number): boolean {
    const { bands } = this;
    let p = 1;
    for (let i = 0; i < bands.length && n2 > (bands[i] as number); i++) p *= 2;
    return ((tick + clientId) & (p - 1)) === 0;
  }

  /** True when this is client `clientId`'s turn for every cell (interest is re-evaluated then). */
  fullTurn(tick: number, clientId: number): boolean {
    return ((tick + clientId) & (this.window - 1)) === 0;
  }
}
