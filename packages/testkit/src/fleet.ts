import { type Playground, PlexusClient, type ReconnectedInfo } from '@plexus/client';
import type { StoredCheckpoint, Vec3 } from '@plexus/protocol';
import { waitFor } from './wait.ts';

/** One SDK client of a fleet, with what happened to it across a failure. */
export interface FleetMember {
  name: string;
  pg: Playground;
  /** Where the member last moved its avatar. */
  position: Vec3;
  /** selfId and serverId right after joining. */
  firstSelfId: number;
  firstServerId: string;
  /** The `entities` map object right after joining (a resume must keep the same object). */
  firstEntities: Playground['entities'];
  reconnecting: number;
  reconnected: ReconnectedInfo[];
  disconnected: boolean;
}

export interface FleetOptions {
  balancerUrl: string | string[];
  playgrounds: string[];
  perPlayground: number;
  /** Joins in flight at once (default 10). */
  concurrency?: number;
}

/**
 * SDK clients spread over several playgrounds, each parked at its own spot, recording their
 * reconnect events: the load of the failover tests and of `npm run bench:failover`.
 */
export class Fleet {
  readonly members: FleetMember[] = [];

  static async join(options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet();
    const plan: { name: string; playgroundId: string; position: Vec3 }[] = [];
    options.playgrounds.forEach((playgroundId, p) => {
      for (let i = 0; i < options.perPlayground; i++) {
        // Distinct spots 2 m apart within a playground, so a restored position is attributable to
        // its member; near the spawn area, as the server refuses moves beyond its speed limit.
        const position = { x: (i % 5) * 2 + 1, y: 0, z: Math.floor(i / 5) * 2 + 1 };
        plan.push({ name: `fleet-${p}-${i}`, playgroundId, position });
      }
    });
    const queue = [...plan];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const client = new PlexusClient({ balancerUrl: options.balancerUrl });
        await client.loginAsGuest({ firstName: next.name });
        const pg = await client.join({ playgroundId: next.playgroundId });
        const member: FleetMember = {
          name: next.name,
          pg,
          position: next.position,
          firstSelfId: pg.selfId,
          firstServerId: pg.serverId,
          firstEntities: pg.entities,
          reconnecting: 0,
          reconnected: [],
          disconnected: false,
        };
        pg.on('reconnecting', () => member.reconnecting++);
        pg.on('reconnected', (info) => member.reconnected.push(info));
        pg.on('disconnected', () => {
          member.disconnected = true;
        });
        pg.move({ position: next.position });
        fleet.members.push(member);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 10 }, worker));
    return fleet;
  }

  /** Members whose playground was on `serverId` when they joined. */
  on(serverId: string): FleetMember[] {
    return this.members.filter((m) => m.firstServerId === serverId);
  }

  /** The server hosting the most members. */
  busiestServer(): string {
    const counts = new Map<string, number>();
    for (const m of this.members) counts.set(m.firstServerId, (counts.get(m.firstServerId) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  }

  /**
   * Waits until the backend holds a checkpoint of every playground showing every member's avatar
   * at the spot it moved to: from then on a failure cannot lose those positions.
   */
  async checkpointed(backendUrl: string, partnerKey: string, timeoutMs = 15_000): Promise<void> {
    const byPlayground = new Map<string, FleetMember[]>();
    for (const m of this.members) {
      byPlayground.set(m.pg.playgroundId, [...(byPlayground.get(m.pg.playgroundId) ?? []), m]);
    }
    await waitFor(
      async () => {
        for (const [playgroundId, members] of byPlayground) {
          const checkpoint = await readCheckpoint(backendUrl, partnerKey, playgroundId);
          if (!checkpoint) return false;
          for (const m of members) {
            const avatar = checkpoint.state.avatars.find((a) => a.entityId === m.firstSelfId);
            if (!avatar || distance(avatar.position, m.position) > 0.01) return false;
          }
        }
        return true;
      },
      { timeoutMs, intervalMs: 100, what: 'checkpoints holding every avatar at its spot' },
    );
  }

  /** Waits until each of `members` reconnected at least once (or gave up). */
  async reconnected(members: FleetMember[], timeoutMs = 30_000): Promise<void> {
    await waitFor(() => members.every((m) => m.reconnected.length > 0 || m.disconnected), {
      timeoutMs,
      intervalMs: 25,
      what: `${members.length} clients reconnected`,
    });
  }

  async leave(): Promise<void> {
    await Promise.all(this.members.map((m) => m.pg.leave().catch(() => undefined)));
  }
}

/** Distance between the member's own avatar as the SDK now sees it and where it moved it. */
export function positionError(member: FleetMember): number {
  const self = member.pg.entities.get(member.pg.selfId);
  return self ? distance(self.position, member.position) : Number.POSITIVE_INFINITY;
}

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

/** The latest checkpoint of a playground, read from the backend (partner RPC checkpoints.get). */
export async function readCheckpoint(
  backendUrl: string,
  partnerKey: string,
  playgroundId: string,
): Promise<StoredCheckpoint | null> {
  const res = await fetch(`${backendUrl}/api/v0/partnerRpc/checkpoints.get`, {
    method: 'POST',
    headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ playgroundId }),
  });
  const body = (await res.json()) as { data: { checkpoint: StoredCheckpoint | null } | null };
  return body.data?.checkpoint ?? null;
}
