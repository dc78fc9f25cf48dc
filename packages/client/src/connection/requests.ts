import { PlexusError } from '../errors.ts';

/**
 * The outcome of a request to the server (spawn, despawn, authority). Requests never reject: a
 * refusal, a timeout and a closed connection are outcomes too, with the reason as a PlexusError
 * (`error.name`, e.g. `PROTOCOL_AUTHORITY_HELD`, `CLIENT_TIMEOUT`, `CLIENT_CONNECTION_CLOSED`).
 */
export type RequestOutcome = { ok: true; entityId: number } | { ok: false; error: PlexusError };

/** Options of {@link PendingRequests}. */
export interface PendingRequestsOptions {
  /** How long a request waits for its RESULT, ms (default 10 000). */
  timeoutMs?: number;
  /** Requests awaiting a RESULT at once (default 64); more are refused locally. */
  maxPending?: number;
}

interface Pending {
  resolve: (outcome: RequestOutcome) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Largest request id before wrapping around (ids are varuints; stay within 4 bytes). */
const MAX_REQUEST_ID = 0x0fff_ffff;

/**
 * Request ids and the bounded table of requests awaiting their RESULT frame. The server answers
 * every request with exactly one RESULT carrying its id; an id that is not pending (answered late,
 * after its timeout) is ignored.
 */
export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private nextId = 1;

  constructor(options: PendingRequestsOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxPending = options.maxPending ?? 64;
  }

  /** Number of requests awaiting a RESULT. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Opens a request: `send(requestId)` sends its frame and returns whether it went out. Resolves
   * with the outcome once the RESULT arrives, after the timeout, or when {@link failAll} is called.
   */
  open(label: string, send: (requestId: number) => boolean): Promise<RequestOutcome> {
    if (this.pending.size >= this.maxPending) {
      return Promise.resolve(
        failure(
          PlexusError.of('COMMON_RATE_LIMITED', `Too many requests awaiting an answer (${this.maxPending})`),
        ),
      );
    }
    const requestId = this.allocateId();
    return new Promise<RequestOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve(
          failure(PlexusError.of('CLIENT_TIMEOUT', `No answer to ${label} within ${this.timeoutMs} ms`)),
        );
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, timer });
      if (!send(requestId)) {
        this.finish(
          requestId,
          failure(PlexusError.of('CLIENT_CONNECTION_CLOSED', `Cannot send ${label}: not connected`)),
        );
      }
    });
  }

  /** Settles a request from its RESULT frame; false when the id is not pending. */
  settle(result: { requestId: number; code: number; value: number; message: string }): boolean {
    const outcome: RequestOutcome =
      result.code === 0
        ? { ok: true, entityId: result.value }
        : failure(new PlexusError(result.code, result.message));
    return this.finish(result.requestId, outcome);
  }

  /** Settles every pending request with `error` (the connection closed). */
  failAll(error: PlexusError): void {
    for (const id of [...this.pending.keys()]) this.finish(id, failure(error));
  }

  private finish(requestId: number, outcome: RequestOutcome): boolean {
    const pending = this.pending.get(requestId);
    if (!pending) return false;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(outcome);
    return true;
  }

  private allocateId(): number {
    // Skip ids still pending after a wrap-around (at most maxPending of them).
    let id = this.nextId;
    while (this.pending.has(id)) id = id >= MAX_REQUEST_ID ? 1 : id + 1;
    this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return id;
  }
}

function failure(error: PlexusError): RequestOutcome {
  return { ok: false, error };
}
