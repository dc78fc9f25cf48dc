-- Playground catalogue, its seats, parties and analytics events. Shared by SQLite and PostgreSQL:
-- times are epoch milliseconds, booleans 0/1, JSON is TEXT.

-- Operator-defined playgrounds. Instances are id, id#2 … id#<max_instances>.
CREATE TABLE catalogue_playgrounds (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  capacity      INTEGER NOT NULL CHECK (capacity > 0),
  visibility    TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  tags          TEXT NOT NULL,                  -- JSON array, mirrored in catalogue_tags for filtering
  region        TEXT NOT NULL,
  max_instances INTEGER NOT NULL CHECK (max_instances >= 1),
  invite_code   TEXT UNIQUE,                    -- private playgrounds only
  closed_at     BIGINT,                         -- NULL while open
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX catalogue_playgrounds_type ON catalogue_playgrounds (type, created_at);

CREATE TABLE catalogue_tags (
  playground_id TEXT NOT NULL REFERENCES catalogue_playgrounds (id) ON DELETE CASCADE,
  tag           TEXT NOT NULL,
  PRIMARY KEY (playground_id, tag)
);
CREATE INDEX catalogue_tags_tag ON catalogue_tags (tag);

-- One seat per user and catalogue playground; it counts while assigned_at is within the seat TTL.
CREATE TABLE catalogue_seats (
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  playground_id TEXT NOT NULL REFERENCES catalogue_playgrounds (id) ON DELETE CASCADE,
  instance      INTEGER NOT NULL CHECK (instance >= 1),
  party_id      TEXT,                           -- set when seated with a party
  assigned_at   BIGINT NOT NULL,
  PRIMARY KEY (user_id, playground_id)
);
CREATE INDEX catalogue_seats_instance ON catalogue_seats (playground_id, instance, assigned_at);
CREATE INDEX catalogue_seats_party ON catalogue_seats (party_id);

-- Auto-opened public playgrounds can seat parties too.
ALTER TABLE playground_seats ADD COLUMN party_id TEXT;
CREATE INDEX playground_seats_party ON playground_seats (party_id);

CREATE TABLE parties (
  id         TEXT PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  leader_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- A user belongs to at most one party.
CREATE TABLE party_members (
  user_id   TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  party_id  TEXT NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
  joined_at BIGINT NOT NULL
);
CREATE INDEX party_members_party ON party_members (party_id, joined_at);

-- Append-only. players / session_ms / reason copy the data fields the summaries aggregate.
CREATE TABLE analytics_events (
  id            TEXT PRIMARY KEY,
  type          TEXT NOT NULL,
  at            BIGINT NOT NULL,
  user_id       TEXT,
  playground_id TEXT,
  server_id     TEXT,
  players       BIGINT,                         -- population: data.players
  session_ms    BIGINT,                         -- leave: data.sessionMs
  reason        TEXT,                           -- refused: data.reason
  data          TEXT,                           -- JSON object, NULL when none
  recorded_at   BIGINT NOT NULL
);
CREATE INDEX analytics_events_at ON analytics_events (at, id);
CREATE INDEX analytics_events_type_at ON analytics_events (type, at, id);
