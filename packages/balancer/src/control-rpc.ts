import { isAppError } from '@plexus/kit';
import {
  BACKEND_CONTROL_METHODS,
  BALANCER_CONTROL_METHODS,
  ErrorCodes,
  type ErrorName,
  type RpcResultMessage,
} from '@plexus/protocol';
import type { Logger } from 'pino';
import type { BackendClient } from './backend-client.ts';
import type { BalancerMetrics } from './metrics.ts';
import type { Relocator } from './relocation.ts';

/** Control RPCs one server may have in flight; more are answered LB_RPC_BUSY at once. */
export const MAX_RPCS_IN_FLIGHT = 64;

const BACKEND_METHODS = new Set<string>(BACKEND_CONTROL_METHODS);
const BALANCER_METHODS = new Set<string>(BALANCER_CONTROL_METHODS);

/** The part of a control connection the RPC handler uses. */
export interface RpcPeer {
  /** The server id the socket registered with; it overrides any `serverId` in the params. */
  readonly serverId: string;
  send(message: RpcResultMessage): void;
  readonly rpc: RpcSlots;
}

/** Per-connection RPC state. */
export interface RpcSlots {
  inFlight: Set<number>;
  /** `events.publish` calls run one after another: events from one server keep their order. */
  publishTail: Promise<void>;
}

export function newRpcSlots(): RpcSlots {
  return { inFlight: new Set(), publishTail: Promise.resolve() };
}

export interface ControlRpcOptions {
  backend: Pick<BackendClient, 'partnerRpc'>;
  relocator: Pick<Relocator, 'relocate'>;
  metrics: Pick<BalancerMetrics, 'controlRpcs'>;
  logger: Logger;
  maxInFlight?: number;
}

type Outcome = Pick<RpcResultMessage, 'data' | 'error'>;

/**
 * Answers the `rpc` messages of dedicated servers: backend methods go to the backend's partner RPC
 * with `serverId` set from the socket (a server can never speak for another) and the backend's data
 * or error comes back as `rpcResult`; `lb.relocate` is answered here. Every request is answered
 * exactly once, bounded in time by the backend timeout, and never throws into the socket handler.
 */
export class ControlRpc {
  readonly #o: ControlRpcOptions;
  readonly #max: number;

  constructor(options: ControlRpcOptions) {
    this.#o = options;
    this.#max = options.maxInFlight ?? MAX_RPCS_IN_FLIGHT;
  }

  handle(peer: RpcPeer, request: { id: number; method: string; params: Record<string, unknown> }): void {
    const { id, method } = request;
    const known = BACKEND_METHODS.has(method) || BALANCER_METHODS.has(method);
    const label = known ? method : 'unknown';
    if (!known) {
      this.#answer(
        peer,
        id,
        label,
        failure('COMMON_BAD_REQUEST', `Unknown control method ${method.slice(0, 64)}`),
      );
      return;
    }
    if (peer.rpc.inFlight.has(id)) {
      this.#answer(peer, id, label, failure('COMMON_BAD_REQUEST', `Request ${id} is already in flight`));
      return;
    }
    if (peer.rpc.inFlight.size >= this.#max) {
      this.#o.metrics.controlRpcs.inc({ method: label, outcome: 'busy' });
      peer.send({ type: 'rpcResult', id, error: errorOf('LB_RPC_BUSY') });
      return;
    }
    peer.rpc.inFlight.add(id);
    const params = { ...request.params, serverId: peer.serverId };
    let call: Promise<Outcome>;
    if (method === 'events.publish') {
      call = peer.rpc.publishTail.then(() => this.#run(method, params));
      peer.rpc.publishTail = call.then(() => undefined);
    } else {
      call = this.#run(method, params);
    }
    void call.then((outcome) => {
      peer.rpc.inFlight.delete(id);
      this.#answer(peer, id, label, outcome);
    });
  }

  /** Never rejects: a rejected call would leave the request unanswered and stall `publishTail`. */
  async #run(method: string, params: Record<string, unknown>): Promise<Outcome> {
    try {
      if (!BALANCER_METHODS.has(method)) {
        const outcome = await this.#o.backend.partnerRpc(method, params);
        return outcome.ok ? { data: outcome.data } : { error: outcome.error };
      }
      switch (method) {
        case 'lb.relocate':
          return { data: await this.#o.relocator.relocate(params) };
        default:
          return failure('COMMON_BAD_REQUEST', `Unknown control method ${method}`);
      }
    } catch (err) {
      if (isAppError(err)) return { error: { status: err.status, code: err.code, message: err.message } };
      this.#o.logger.error({ err, method }, 'control RPC failed');
      return { error: errorOf('COMMON_INTERNAL') };
    }
  }

  #answer(peer: RpcPeer, id: number, method: string, outcome: Outcome): void {
    this.#o.metrics.controlRpcs.inc({ method, outcome: outcome.error ? 'error' : 'ok' });
    peer.send(
      outcome.error
        ? { type: 'rpcResult', id, error: outcome.error }
        : { type: 'rpcResult', id, data: outcome.data },
    );
  }
}

function errorOf(name: ErrorName): { status: number; code: number; message: string } {
  const spec = ErrorCodes[name];
  return { status: spec.status, code: spec.code, message: spec.message };
}

function failure(name: ErrorName, message: string): Outcome {
  return { error: { ...errorOf(name), message } };
}
