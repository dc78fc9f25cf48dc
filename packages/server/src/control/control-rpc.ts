import {
  type AnalyticsRecordParams,
  type AnalyticsRecordResult,
  type CheckpointClaimParams,
  type CheckpointClaimResult,
  type CheckpointWriteParams,
  type CheckpointWriteResult,
  type ControlRpcMethod,
  ErrorCodes,
  type ErrorName,
  type EventsPublishParams,
  type EventsPublishResult,
  type PlayersJoinParams,
  type PlayersJoinResult,
  type PlayersLeaveParams,
  type PlayersSaveParams,
  type PlayersSaveResult,
  type RelocateParams,
  type RelocateResult,
  type RpcResultMessage,
} from '@plexus/protocol';

/** Params and result of each control RPC (cluster.ts). */
export interface ControlRpcMethods {
  'checkpoints.claim': [CheckpointClaimParams, CheckpointClaimResult];
  'checkpoints.write': [CheckpointWriteParams, CheckpointWriteResult];
  'players.join': [PlayersJoinParams, PlayersJoinResult];
  'players.save': [PlayersSaveParams, PlayersSaveResult];
  'players.leave': [PlayersLeaveParams, unknown];
  'analytics.record': [AnalyticsRecordParams, AnalyticsRecordResult];
  'events.publish': [EventsPublishParams, EventsPublishResult];
  'lb.relocate': [RelocateParams, RelocateResult];
}

// Every contract method has a typed entry, and nothing else does.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _methodsCovered: Exact<keyof ControlRpcMethods, ControlRpcMethod> = true;
void _methodsCovered;

/**
 * A failed control RPC: the error the backend or balancer answered (`code` from the registry, e.g.
 * CHECKPOINT_STALE), or a local one (DS_NO_BALANCER, DS_CONTROL_TIMEOUT).
 */
export class ControlRpcError extends Error {
  override name = 'ControlRpcError';
  readonly status: number;
  readonly code: number;

  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }

  static of(name: ErrorName, message?: string): ControlRpcError {
    const spec = ErrorCodes[name];
    return new ControlRpcError(spec.status, spec.code, message ?? spec.message);
  }

  is(name: ErrorName): boolean {
    return this.code === ErrorCodes[name].code;
  }
}

/** One balancer link as the RPC client sees it. */
export interface RpcLink {
  /** Registered: the balancer accepts RPCs on it. */
  readonly isRegistered: boolean;
  sendText(text: string): boolean;
}

export interface CallOptions {
  timeoutMs: number;
  /**
   * Send again on another link when the link carrying the call drops before the answer. Only for
   * requests that may safely run twice (a checkpoint write must not: its retry would be stale).
   */
  retry?: boolean;
  /** Refuse to send params larger than this (serialised JSON bytes). */
  maxParamsBytes?: number;
}

interface PendingCall {
  method: ControlRpcMethod;
  text: (id: number) => string;
  retry: boolean;
  link: RpcLink | null;
  id: number;
  sentOnce: boolean;
  timer: NodeJS.Timeout;
  resolve: (data: unknown) => void;
  reject: (err: ControlRpcError) => void;
}

/** Calls in flight, and calls waiting for a link or a free slot: beyond MAX_WAITING a call fails at once. */
const MAX_WAITING = 10_000;
const MAX_IN_FLIGHT = 10_000;
const MAX_ID = 2 ** 31 - 1;

/**
 * Typed control RPCs over whichever balancer link is up (the first registered one in the links'
 * order), each with its own deadline. A call made while no link is up waits for one until its
 * deadline; a call whose link drops is sent again on another one when `retry` allows it.
 */
export class ControlRpc {
  private readonly links: () => readonly RpcLink[];
  private readonly waiting: PendingCall[] = [];
  private readonly inFlight = new Map<number, PendingCall>();
  private readonly availableListeners = new Set<() => void>();
  private nextId = 1;

  constructor(links: () => readonly RpcLink[]) {
    this.links = links;
  }

  /** True when some link can carry a call now. */
  get available(): boolean {
    return this.pickLink() !== null;
  }

  /** Calls `fn` each time a link becomes usable (checkpoints and saves that waited go out). */
  onAvailable(fn: () => void): () => void {
    this.availableListeners.add(fn);
    return () => this.availableListeners.delete(fn);
  }

  call<M extends keyof ControlRpcMethods>(
    method: M,
    params: ControlRpcMethods[M][0],
    options: CallOptions,
  ): Promise<ControlRpcMethods[M][1]> {
    // Serialised once, here: the caller's state may change right after (never in the tick).
    const paramsJson = JSON.stringify(params);
    if (options.maxParamsBytes !== undefined && Buffer.byteLength(paramsJson) > options.maxParamsBytes) {
      return Promise.reject(
        new ControlRpcError(413, ErrorCodes.COMMON_PAYLOAD_TOO_LARGE.code, `${method}: params too large`),
      );
    }
    const head = `{"type":"rpc","method":${JSON.stringify(method)},"params":${paramsJson},"id":`;
    return new Promise<ControlRpcMethods[M][1]>((resolve, reject) => {
      const call: PendingCall = {
        method,
        text: (id) => `${head}${id}}`,
        retry: options.retry ?? false,
        link: null,
        id: 0,
        sentOnce: false,
        timer: setTimeout(() => this.expire(call), options.timeoutMs),
        resolve: resolve as (data: unknown) => void,
        reject,
      };
      this.dispatch(call);
    });
  }

  /** An `rpcResult` from any link. */
  onResult(msg: RpcResultMessage): void {
    const call = this.inFlight.get(msg.id);
    if (!call) return; // timed out already, or a duplicate
    this.inFlight.delete(msg.id);
    clearTimeout(call.timer);
    if (msg.error) call.reject(new ControlRpcError(msg.error.status, msg.error.code, msg.error.message));
    else call.resolve(msg.data);
    // A slot is free: a call held back by the in-flight bound goes out now, not at the next link-up.
    const next = this.waiting.shift();
    if (next) this.dispatch(next);
  }

  /** A link came up: waiting calls go out, listeners are told. */
  linkUp(): void {
    const waiting = this.waiting.splice(0);
    for (const call of waiting) this.dispatch(call);
    for (const fn of this.availableListeners) fn();
  }

  /** A link dropped: its calls are sent again elsewhere (retry) or fail. */
  linkDown(link: RpcLink): void {
    for (const [id, call] of this.inFlight) {
      if (call.link !== link) continue;
      this.inFlight.delete(id);
      if (call.retry) this.dispatch(call);
      else this.fail(call, ControlRpcError.of('DS_NO_BALANCER', `${call.method}: the balancer link dropped`));
    }
  }

  /** Fails every pending call (the server is stopping). */
  close(): void {
    for (const call of [...this.waiting, ...this.inFlight.values()]) {
      this.fail(call, ControlRpcError.of('DS_NO_BALANCER', `${call.method}: the server is stopping`));
    }
    this.waiting.length = 0;
    this.inFlight.clear();
  }

  private pickLink(): RpcLink | null {
    for (const link of this.links()) if (link.isRegistered) return link;
    return null;
  }

  private dispatch(call: PendingCall): void {
    const link = this.pickLink();
    if (link && this.inFlight.size < MAX_IN_FLIGHT) {
      const id = this.allocateId();
      if (link.sendText(call.text(id))) {
        call.link = link;
        call.id = id;
        call.sentOnce = true;
        this.inFlight.set(id, call);
        return;
      }
    }
    if (this.waiting.length >= MAX_WAITING) {
      this.fail(call, ControlRpcError.of('DS_NO_BALANCER', `${call.method}: too many calls waiting`));
      return;
    }
    call.link = null;
    this.waiting.push(call);
  }

  private expire(call: PendingCall): void {
    const i = this.waiting.indexOf(call);
    if (i >= 0) this.waiting.splice(i, 1);
    if (this.inFlight.get(call.id) === call) this.inFlight.delete(call.id);
    const name = call.link || call.sentOnce ? 'DS_CONTROL_TIMEOUT' : 'DS_NO_BALANCER';
    call.reject(ControlRpcError.of(name, `${call.method}: ${ErrorCodes[name].message}`));
  }

  private fail(call: PendingCall, err: ControlRpcError): void {
    clearTimeout(call.timer);
    call.reject(err);
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= MAX_ID ? 1 : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
  }
}
