import type { PlayerRecord, PlayerRecordMessage } from '@plexus/protocol';

/** Records kept at most: beyond, the oldest go (a HELLO that finds none waits for players.join). */
const MAX_RECORDS = 4_096;
/** A record unclaimed this long is dropped: its ticket's client has had time to connect. */
const KEEP_MS = 30_000;

/**
 * The records balancers send beside the tickets they issue for this server (control
 * `playerRecord`), kept by ticket id until the ticket's HELLO takes its own. A record only serves
 * the ticket, user and playground it came with.
 */
export class PrefetchedRecords {
  private readonly now: () => number;
  private readonly byJti = new Map<string, { message: PlayerRecordMessage; at: number }>();
  /** HELLOs that came before their record, by jti. */
  private readonly waiting = new Map<string, (message: PlayerRecordMessage) => void>();

  constructor(now: () => number) {
    this.now = now;
  }

  get size(): number {
    return this.byJti.size;
  }

  put(message: PlayerRecordMessage): void {
    const waiter = this.waiting.get(message.jti);
    if (waiter) {
      this.waiting.delete(message.jti);
      waiter(message);
      return;
    }
    const at = this.now();
    this.byJti.delete(message.jti);
    this.byJti.set(message.jti, { message, at });
    // Insertion order is arrival order: the oldest are first.
    for (const [jti, entry] of this.byJti) {
      if (this.byJti.size <= MAX_RECORDS && at - entry.at < KEEP_MS) break;
      this.byJti.delete(jti);
    }
  }

  /** The record sent with this ticket (null: the user has none), or undefined when none came. */
  take(jti: string, userId: string, playgroundId: string): PlayerRecord | null | undefined {
    const entry = this.byJti.get(jti);
    if (!entry) return undefined;
    this.byJti.delete(jti);
    const { message } = entry;
    if (message.userId !== userId || message.playgroundId !== playgroundId) return undefined;
    if (this.now() - entry.at >= KEEP_MS) return undefined;
    return message.record;
  }

  /**
   * For a HELLO that came before its record: resolves with the record, at once if it came since,
   * else once it comes (never when it is for another user or playground). `cancel` when no longer
   * waiting.
   */
  arrival(
    jti: string,
    userId: string,
    playgroundId: string,
  ): { record: Promise<PlayerRecord | null>; cancel: () => void } {
    const stored = this.take(jti, userId, playgroundId);
    if (stored !== undefined) return { record: Promise.resolve(stored), cancel: () => {} };
    const cancel = () => {
      if (this.waiting.get(jti) === resolveWith) this.waiting.delete(jti);
    };
    let resolveWith: (message: PlayerRecordMessage) => void = () => {};
    const record = new Promise<PlayerRecord | null>((resolve) => {
      resolveWith = (message) => {
        if (message.userId === userId && message.playgroundId === playgroundId) resolve(message.record);
      };
    });
    if (this.waiting.size < MAX_RECORDS) this.waiting.set(jti, resolveWith);
    return { record, cancel };
  }
}
