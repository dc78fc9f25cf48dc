import { AppError } from '@plexus/kit';
import { type Repository, type SeatAssignment, UnknownUserError } from '../storage/repository.ts';

export interface MatchmakingServiceOptions {
  repo: Repository;
  clock: () => number;
  /** Seats per playground opened by matchmaking. */
  playgroundCapacity: number;
  /** How long an assigned seat counts towards its playground's population. */
  seatTtlMs: number;
  onAssigned?: (outcome: SeatAssignment['outcome']) => void;
}

export const DEFAULT_PLAYGROUND_TYPE = 'lobby';

/**
 * Public matchmaking: fill the open playground of the requested type that has room, else open a
 * new one (`public-<type>-<n>`).
 *
 * Approximation: the backend cannot yet see live populations, so a playground's population is the
 * number of seats it handed out within the last `seatTtlMs` (a user re-matching refreshes their
 * seat; a user who left still counts until the window passes). A later issue feeds real occupancy
 * from the dedicated servers.
 */
export class MatchmakingService {
  private readonly options: MatchmakingServiceOptions;

  constructor(options: MatchmakingServiceOptions) {
    this.options = options;
  }

  async findPlayground(userId: string, playgroundType = DEFAULT_PLAYGROUND_TYPE): Promise<string> {
    const { repo, clock, playgroundCapacity, seatTtlMs, onAssigned } = this.options;
    try {
      const seat = await repo.assignSeat({
        userId,
        playgroundType,
        capacity: playgroundCapacity,
        seatTtlMs,
        now: clock(),
      });
      onAssigned?.(seat.outcome);
      return seat.playgroundId;
    } catch (err) {
      if (err instanceof UnknownUserError) {
        throw new AppError('COMMON_BAD_REQUEST', 'Invalid request: userId: no such user', { cause: err });
      }
      throw err;
    }
  }
}
