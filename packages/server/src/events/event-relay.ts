import type { Logger } from '@plexus/kit';
import { type EventTarget, encodeEvent, type PlexusEventEnvelope, WireLimits } from '@plexus/protocol';
import type { ServerMetrics } from '../metrics.ts';
import type { Member } from '../playground/member.ts';
import type { PlaygroundHost } from '../playground/playground-host.ts';

/** Event ids remembered to drop duplicates (each balancer link delivers every event once). */
const SEEN_MAX = 4_096;

/**
 * Delivers published events (control `event` messages) to the clients they target here: a user's
 * connections, every client of a playground, or everyone. An event comes once per balancer link;
 * the ids of recent ones are kept (bounded, oldest forgotten first) so each reaches a client once.
 */
export class EventRelay {
  private readonly host: PlaygroundHost;
  private readonly metrics: ServerMetrics;
  private readonly log: Logger;
  private readonly seen = new Set<string>();

  constructor(host: PlaygroundHost, metrics: ServerMetrics, log: Logger) {
    this.host = host;
    this.metrics = metrics;
    this.log = log;
  }

  /** The number of clients the event went to (0 for a duplicate). */
  deliver(event: PlexusEventEnvelope): number {
    if (this.seen.has(event.id)) return 0;
    this.seen.add(event.id);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value as string);
    // What a client could not decode is not sent (the backend bounds payloads; this is the wire's bound).
    const jsonBytes = Buffer.byteLength(JSON.stringify(event));
    if (jsonBytes > WireLimits.eventBytes) {
      this.log.warn({ eventId: event.id, bytes: jsonBytes }, 'event too large for the wire, dropped');
      return 0;
    }
    const n = this.sendTo(event.target, encodeEvent(event));
    if (n > 0) this.metrics.eventsDelivered.inc(n);
    return n;
  }

  /** Sends the frame to every welcomed-or-joining client the target names here; how many. */
  private sendTo(target: EventTarget, bytes: Uint8Array): number {
    let n = 0;
    const send = (member: Member | undefined) => {
      if (!member) return;
      member.sendEvent(bytes);
      n++;
    };
    if ('userId' in target) {
      for (const room of this.host.allRooms()) send(room.byUser.get(target.userId));
    } else if ('playgroundId' in target) {
      for (const member of this.host.room(target.playgroundId)?.members.values() ?? []) send(member);
    } else {
      for (const room of this.host.allRooms()) for (const member of room.members.values()) send(member);
    }
    return n;
  }
}
