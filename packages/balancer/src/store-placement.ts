import type { ClusterStore, PlaceOutcome, PlaceRequest } from './cluster-store.ts';
import { placePlayground } from './placement.ts';

/**
 * Snapshot → decision → commit rounds before a placement gives up. A commit is refused only when
 * a write the decision depends on landed in between — with one balancer only the chosen server's
 * report, with several also their placements on it — so a round rarely fails, and each failed one
 * means another write succeeded.
 */
export const PLACE_ATTEMPTS = 32;

/** Placements of one store run one at a time in this process: they never race each other. */
const queues = new WeakMap<ClusterStore, Promise<unknown>>();

/**
 * The one placement path of every store (docs/api.md, placement): read a snapshot, decide with the
 * pure `placePlayground`, commit the decision if the snapshot's revision still holds, else start
 * over. Placements of one store in this process are queued, so only other writers (reports, other
 * balancers) can make a commit stale.
 */
export function placeInStore(store: ClusterStore, request: PlaceRequest): Promise<PlaceOutcome> {
  const run = (queues.get(store) ?? Promise.resolve()).then(() => placeRounds(store, request));
  queues.set(
    store,
    run.catch(() => {}),
  );
  return run;
}

async function placeRounds(store: ClusterStore, request: PlaceRequest): Promise<PlaceOutcome> {
  const holder = request.hold?.userId;
  for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
    const snapshot = await store.snapshot(request.playgroundId, holder);
    const result = placePlayground(
      {
        servers: snapshot.servers.map((s) => ({ ...s, connected: request.connected(s.serverId) })),
        home: snapshot.home,
        heldByUser: snapshot.held,
      },
      { ...request, maxHeldByUser: request.hold?.max },
    );
    if (!result.ok) return result;
    const chosen = snapshot.servers.find((s) => s.serverId === result.serverId);
    const committed = await store.commit({
      serverRevision: chosen?.revision ?? -1,
      holdRevision: snapshot.holdRevision,
      home: snapshot.home,
      playgroundId: request.playgroundId,
      serverId: result.serverId,
      sticky: result.sticky,
      jtis: request.jtis,
      expiresAtMs: request.expiresAtMs,
      holder,
    });
    if (committed.ok) {
      return {
        ok: true,
        serverId: result.serverId,
        endpoint: committed.endpoint,
        sticky: result.sticky,
        replaced: committed.replaced,
      };
    }
  }
  return { ok: false, reason: 'no_capacity' };
}
