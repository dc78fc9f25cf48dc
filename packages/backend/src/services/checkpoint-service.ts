import { AppError, type Logger } from '@plexus/kit';
import {
  CHECKPOINT_MAX_BYTES,
  type CheckpointClaimResult,
  type CheckpointWriteParams,
  type CheckpointWriteResult,
} from '@plexus/protocol';
import type { SqlDb } from '../storage/sql-db.ts';
import { type CheckpointStatus, CheckpointStore, type StaleReason } from '../stores/checkpoint-store.ts';
import type { ContinuityMetrics } from './continuity-metrics.ts';

export interface CheckpointServiceOptions {
  db: SqlDb;
  clock: () => number;
  metrics: ContinuityMetrics;
  logger: Logger;
}

/**
 * Checkpoints with fencing: `claim` makes the caller the playground's only writer (epoch + 1);
 * `write` is accepted only from that holder, in that epoch, with a version above the stored one.
 * Anything else is CHECKPOINT_STALE, which tells the caller to stop hosting the playground.
 */
export class CheckpointService {
  readonly #store: CheckpointStore;
  readonly #o: CheckpointServiceOptions;

  constructor(options: CheckpointServiceOptions) {
    this.#o = options;
    this.#store = new CheckpointStore(options.db);
  }

  async claim(serverId: string, playgroundId: string): Promise<CheckpointClaimResult> {
    const result = await this.#store.claim(serverId, playgroundId, this.#o.clock());
    this.#o.metrics.checkpointClaims.inc();
    this.#o.logger.info(
      { playgroundId, serverId, epoch: result.epoch, version: result.checkpoint?.version ?? 0 },
      'playground claimed',
    );
    return result;
  }

  async write(params: CheckpointWriteParams): Promise<CheckpointWriteResult> {
    const { serverId, playgroundId, epoch, version, state } = params;
    const stateJson = JSON.stringify(state);
    const bytes = Buffer.byteLength(stateJson, 'utf8');
    if (bytes > CHECKPOINT_MAX_BYTES) {
      this.#o.metrics.checkpointWrites.inc({ outcome: 'too_large' });
      throw new AppError(
        'CHECKPOINT_TOO_LARGE',
        `The checkpoint is ${bytes} bytes of JSON; the limit is ${CHECKPOINT_MAX_BYTES}`,
      );
    }
    const outcome = await this.#store.write({
      serverId,
      playgroundId,
      epoch,
      version,
      stateJson,
      now: this.#o.clock(),
    });
    if (!outcome.ok) {
      this.#o.metrics.checkpointWrites.inc({ outcome: 'stale' });
      const message = staleMessage(outcome, params);
      this.#o.logger.info({ playgroundId, serverId, epoch, version, reason: outcome.reason }, message);
      throw new AppError('CHECKPOINT_STALE', message);
    }
    this.#o.metrics.checkpointWrites.inc({ outcome: 'accepted' });
    return { epoch, version };
  }

  status(playgroundId: string): Promise<CheckpointStatus> {
    return this.#store.status(playgroundId);
  }
}

function staleMessage(stale: StaleReason, params: CheckpointWriteParams): string {
  switch (stale.reason) {
    case 'not-claimed':
      return 'Checkpoint refused: not claimed (call checkpoints.claim first)';
    case 'stale-epoch':
      return `Checkpoint refused: stale epoch ${params.epoch}, the playground was claimed again (epoch ${stale.currentEpoch})`;
    case 'not-holder':
      return `Checkpoint refused: not holder, server ${stale.holderServerId} holds epoch ${params.epoch}`;
    case 'old-version':
      return `Checkpoint refused: old version ${params.version}, stored version is ${stale.storedVersion}`;
  }
}
