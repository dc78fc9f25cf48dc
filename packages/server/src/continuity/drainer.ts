import type { Logger } from '@plexus/kit';
import { CloseCodes, type RelocateResult } from '@plexus/protocol';
import type { ControlRpc } from '../control/control-rpc.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { Member } from '../playground/member.ts';
import type { PlaygroundHost } from '../playground/playground-host.ts';
import type { Room, RoomState } from '../playground/room.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { ResumeTokens } from './resume-tokens.ts';

export interface DrainerOptions {
  host: PlaygroundHost;
  rpc: ControlRpc;
  checkpointer: Checkpointer;
  resumeTokens: ResumeTokens;
  serverId: string;
  /** How long redirected clients get to leave before they are closed with 1001. */
  drainTimeoutMs: number;
  logger: Logger;
  metrics: ServerMetrics;
}

const RELOCATE_TIMEOUT_MS = 5_000;

/**
 * Moves every playground of a draining server elsewhere, live: freeze its inputs, write its final
 * checkpoint, ask the balancer for a new home and a ticket per user (`lb.relocate`, each ticket
 * carrying a fresh resume token), send each client a REDIRECT, wait for them to go. Without a
 * balancer the clients are closed with SHUTTING_DOWN (4010) after the checkpoint: they resume
 * through the balancer later, from that checkpoint.
 */
export class Drainer {
  private readonly options: DrainerOptions;

  constructor(options: DrainerOptions) {
    this.options = options;
  }

  async drainAll(): Promise<void> {
    await Promise.all(this.options.host.allRooms().map((room) => this.drainRoom(room)));
  }

  private async drainRoom(room: Room): Promise<void> {
    const { host, checkpointer, logger } = this.options;
    if (room.state === 'claiming' && !(await room.ready)) return;
    if (room.state !== 'live' && room.state !== 'frozen') return;
    host.freeze(room);
    const playgroundId = room.playground.id;
    const outcome = await checkpointer.final(room);
    // Stale: another server holds the playground; the release already closed its clients (4014).
    if (outcome === 'stale' || (room.state as RoomState) === 'gone') return;
    const members = [...room.members.values()];
    if (members.length > 0) {
      const moved = outcome !== 'failed' && (await this.relocate(room, members));
      if (!moved) {
        logger.warn(
          { playgroundId, checkpoint: outcome, clients: members.length },
          'drain: no new home for the playground; its clients are closed and will resume later',
        );
        for (const member of members) member.refuse('PROTOCOL_SHUTTING_DOWN');
      }
      await untilEmpty(room, this.options.drainTimeoutMs);
      for (const member of [...room.members.values()])
        member.closeMoved(CloseCodes.GOING_AWAY, 'drain timeout');
    }
    host.retire(room);
  }

  /** lb.relocate, then one REDIRECT per client; false when the balancer could not relocate. */
  private async relocate(room: Room, members: Member[]): Promise<boolean> {
    const { rpc, resumeTokens, serverId, metrics, logger } = this.options;
    const playgroundId = room.playground.id;
    const users = members.map((member) => ({
      userId: member.userId,
      profile: member.profile,
      resumeToken: resumeTokens.issue(member.userId, playgroundId, member.avatarId),
    }));
    let result: RelocateResult;
    try {
      result = await rpc.call(
        'lb.relocate',
        { serverId, playgroundId, users },
        { timeoutMs: RELOCATE_TIMEOUT_MS, retry: true },
      );
    } catch (err) {
      metrics.controlRpcErrors.inc({ method: 'lb.relocate' });
      logger.warn({ playgroundId, err: (err as Error).message }, 'drain: relocation failed');
      return false;
    }
    let redirected = 0;
    for (const member of members) {
      if (member.link.isClosed) continue;
      const ticket = result.tickets[member.userId];
      if (!ticket) {
        // No ticket (the balancer did not accept its resume token): it resolves the playground again.
        member.refuse('PROTOCOL_PLAYGROUND_MOVED');
        continue;
      }
      member.redirect({ playgroundId, endpoint: result.endpoint, ticket, reason: 'drain' });
      redirected++;
    }
    metrics.redirects.inc(redirected);
    logger.info({ playgroundId, to: result.serverId, redirected }, 'drain: playground relocated');
    return true;
  }
}

/** Resolves once the room has no member left, or after `ms`. */
function untilEmpty(room: Room, ms: number): Promise<void> {
  if (room.members.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      room.onMemberGone = null;
      resolve();
    };
    const timer = setTimeout(done, ms);
    room.onMemberGone = () => {
      if (room.members.size === 0) done();
    };
  });
}
