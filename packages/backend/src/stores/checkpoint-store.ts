import type { CheckpointClaimResult, PlaygroundCheckpoint, StoredCheckpoint } from '@plexus/protocol';
import type { SqlDb } from '../storage/sql-db.ts';

interface CheckpointRow {
  playground_id: string;
  epoch: number | string;
  holder_server_id: string;
  claimed_at: number | string;
  version: number | string;
  state: string | null;
  state_epoch: number | string | null;
  state_server_id: string | null;
  saved_at: number | string | null;
}

/** The fence and latest checkpoint of one playground (diagnostics). */
export interface CheckpointStatus {
  playgroundId: string;
  /** 0 when the playground was never claimed. */
  epoch: number;
  holderServerId: string | null;
  claimedAt: number | null;
  checkpoint: StoredCheckpoint | null;
}

/** Why a write was refused; the service turns it into CHECKPOINT_STALE with a message. */
export type StaleReason =
  | { reason: 'not-claimed' }
  | { reason: 'stale-epoch'; currentEpoch: number }
  | { reason: 'not-holder'; holderServerId: string }
  | { reason: 'old-version'; storedVersion: number };

export interface CheckpointWrite {
  serverId: string;
  playgroundId: string;
  epoch: number;
  version: number;
  /** The checkpoint's JSON, already validated and size-checked. */
  stateJson: string;
  now: number;
}

const COLUMNS =
  'playground_id, epoch, holder_server_id, claimed_at, version, state, state_epoch, state_server_id, saved_at';

/**
 * Fenced checkpoints over SqlDb. A claim bumps the playground's epoch and names the caller holder in
 * one upsert; a write is one conditional UPDATE that matches only the current epoch, its holder and
 * a lower stored version, so a stale writer can never overwrite newer state on either engine.
 */
export class CheckpointStore {
  readonly #db: SqlDb;

  constructor(db: SqlDb) {
    this.#db = db;
  }

  async claim(serverId: string, playgroundId: string, now: number): Promise<CheckpointClaimResult> {
    const row = await this.#db.get<CheckpointRow>(
      `INSERT INTO checkpoints (playground_id, epoch, holder_server_id, claimed_at, version)
       VALUES (?, 1, ?, ?, 0)
       ON CONFLICT (playground_id) DO UPDATE SET
         epoch = checkpoints.epoch + 1,
         holder_server_id = excluded.holder_server_id,
         claimed_at = excluded.claimed_at
       RETURNING ${COLUMNS}`,
      [playgroundId, serverId, now],
    );
    if (!row) throw new Error('checkpoint claim returned no row');
    return { epoch: Number(row.epoch), checkpoint: toStored(row) };
  }

  /** Writes the checkpoint, or says why the caller is stale. */
  async write(w: CheckpointWrite): Promise<{ ok: true } | ({ ok: false } & StaleReason)> {
    const { changes } = await this.#db.run(
      `UPDATE checkpoints
          SET version = ?, state = ?, state_epoch = epoch, state_server_id = holder_server_id, saved_at = ?
        WHERE playground_id = ? AND epoch = ? AND holder_server_id = ? AND version < ?`,
      [w.version, w.stateJson, w.now, w.playgroundId, w.epoch, w.serverId, w.version],
    );
    if (changes === 1) return { ok: true };
    // Refused: read the fence only to explain why (it may have moved again since; still stale).
    const row = await this.#db.get<CheckpointRow>(
      `SELECT ${COLUMNS} FROM checkpoints WHERE playground_id = ?`,
      [w.playgroundId],
    );
    if (!row) return { ok: false, reason: 'not-claimed' };
    const epoch = Number(row.epoch);
    if (epoch !== w.epoch) return { ok: false, reason: 'stale-epoch', currentEpoch: epoch };
    if (row.holder_server_id !== w.serverId) {
      return { ok: false, reason: 'not-holder', holderServerId: row.holder_server_id };
    }
    return { ok: false, reason: 'old-version', storedVersion: Number(row.version) };
  }

  async status(playgroundId: string): Promise<CheckpointStatus> {
    const row = await this.#db.get<CheckpointRow>(
      `SELECT ${COLUMNS} FROM checkpoints WHERE playground_id = ?`,
      [playgroundId],
    );
    if (!row) return { playgroundId, epoch: 0, holderServerId: null, claimedAt: null, checkpoint: null };
    return {
      playgroundId,
      epoch: Number(row.epoch),
      holderServerId: row.holder_server_id,
      claimedAt: Number(row.claimed_at),
      checkpoint: toStored(row),
    };
  }
}

function toStored(row: CheckpointRow): StoredCheckpoint | null {
  if (row.state === null) return null;
  return {
    playgroundId: row.playground_id,
    epoch: Number(row.state_epoch),
    version: Number(row.version),
    serverId: row.state_server_id ?? '',
    state: JSON.parse(row.state) as PlaygroundCheckpoint,
    savedAt: Number(row.saved_at),
  };
}
