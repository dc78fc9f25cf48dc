-- Continuity (checkpoints with fencing), player data, presence and the offline event inbox.
-- Portable SQL: the same file runs on SQLite and PostgreSQL. Times are epoch milliseconds; JSON is
-- stored as TEXT.

-- One row per playground: the fence (epoch + holder, bumped by every claim) and the latest
-- checkpoint with the epoch and server it was written under.
CREATE TABLE checkpoints (
  playground_id    TEXT PRIMARY KEY,
  epoch            BIGINT NOT NULL CHECK (epoch > 0),
  holder_server_id TEXT NOT NULL,
  claimed_at       BIGINT NOT NULL,
  version          BIGINT NOT NULL DEFAULT 0,     -- 0: nothing written yet
  state            TEXT,                          -- JSON PlaygroundCheckpoint; NULL until the first write
  state_epoch      BIGINT,
  state_server_id  TEXT,
  saved_at         BIGINT
);

-- A user's small persistent record per playground. NULL position/rotation: never saved.
CREATE TABLE player_records (
  user_id       TEXT NOT NULL,
  playground_id TEXT NOT NULL,
  position      TEXT,                             -- JSON Vec3
  rotation      TEXT,                             -- JSON Quat
  data          TEXT,                             -- JSON object; NULL means {}
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (user_id, playground_id)
);

-- Where a user is, refreshed by their server's saves; fresh while updated_at is within the
-- presence TTL, deleted on leave and by housekeeping once stale.
CREATE TABLE presence (
  user_id       TEXT NOT NULL,
  playground_id TEXT NOT NULL,
  server_id     TEXT NOT NULL,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (user_id, playground_id)
);
CREATE INDEX presence_updated_at ON presence (updated_at);

-- Events for offline users, in acceptance order per user (seq), taken on their next join.
CREATE TABLE event_inbox (
  user_id    TEXT NOT NULL,
  seq        BIGINT NOT NULL,
  event      TEXT NOT NULL,                       -- JSON PlexusEventEnvelope
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, seq)
);
CREATE INDEX event_inbox_expires_at ON event_inbox (expires_at);
