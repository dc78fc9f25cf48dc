import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { AppError, z } from '@plexus/kit';

/** Where Agones serves allocations: an extension API, not a CRD (agones.dev, Reference → GameServerAllocation). */
const GROUP = 'allocation.agones.dev';
const VERSION = 'v1';
const PLURAL = 'gameserverallocations';
/** The Fleet names the clients' port `ws` (deploy/k8s/base/fleet.yaml). */
const CLIENT_PORT_NAME = 'ws';

/** What the API answers; only the fields the balancer uses are checked. */
const allocationStatus = z.object({
  status: z.object({
    state: z.enum(['Allocated', 'UnAllocated', 'Contention']),
    gameServerName: z.string().max(253).optional(),
    address: z.string().max(255).optional(),
    ports: z
      .array(z.object({ name: z.string().max(63), port: z.number().int().min(1).max(65535) }))
      .max(64)
      .nullish(),
  }),
});

export type AllocationResult =
  | { state: 'Allocated'; gameServerName: string; endpoint: string }
  | { state: 'UnAllocated' | 'Contention' };

export interface GameServerAllocatorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Labels a Ready GameServer must carry, e.g. `{ 'agones.dev/fleet': 'plexus-ds' }`. */
  matchLabels: Record<string, string>;
}

/**
 * Creates GameServerAllocations through the Kubernetes API: one Ready GameServer of the selected
 * Fleet becomes Allocated (so no scale-down takes it) and the Fleet's buffer refills behind it.
 */
export class GameServerAllocator {
  #api: CustomObjectsApi;
  #o: GameServerAllocatorOptions;

  constructor(options: GameServerAllocatorOptions) {
    this.#o = options;
    this.#api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async allocate(): Promise<AllocationResult> {
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'GameServerAllocation',
      spec: {
        selectors: [{ matchLabels: this.#o.matchLabels, gameServerState: 'Ready' }],
        // Packed fills nodes first, so the cluster autoscaler can empty and remove the others.
        scheduling: 'Packed',
        metadata: { labels: { 'plexus.dev/allocated-by': 'balancer' } },
      },
    };
    let answer: unknown;
    try {
      answer = await this.#api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.#o.namespace,
        plural: PLURAL,
        body,
      });
    } catch (err) {
      if (err instanceof ApiException) {
        const message = statusMessage(err.body);
        throw new AppError(
          'LB_ALLOCATION_FAILED',
          `the Kubernetes API refused the GameServerAllocation (${err.code}${message ? `: ${message}` : ''})`,
          { cause: err },
        );
      }
      throw new AppError('LB_ALLOCATION_FAILED', 'the Kubernetes API could not be reached', { cause: err });
    }
    const parsed = allocationStatus.safeParse(answer);
    if (!parsed.success) throw new AppError('LB_ALLOCATION_FAILED', 'unexpected GameServerAllocation answer');
    const { state, gameServerName, address, ports } = parsed.data.status;
    if (state !== 'Allocated') return { state };
    const port = ports?.find((p) => p.name === CLIENT_PORT_NAME) ?? ports?.[0];
    if (!gameServerName || !address || !port) {
      throw new AppError(
        'LB_ALLOCATION_FAILED',
        'an Allocated answer without gameServerName, address or ports',
      );
    }
    const host = address.includes(':') ? `[${address}]` : address;
    return { state, gameServerName, endpoint: `ws://${host}:${port.port}/ws` };
  }
}

/** The `message` of a Kubernetes `Status` body, which the client hands over as text or parsed. */
function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  const message = (status as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 300) : undefined;
}
