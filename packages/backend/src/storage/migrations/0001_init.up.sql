-- Identity, sessions and matchmaking seats. Times are epoch milliseconds.
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT UNIQUE,                    -- lower case; NULL for guests
  password_hash TEXT,                           -- scrypt$N$r$p$salt$hash; NULL for guests
  is_guest      INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1)),
  first_name    TEXT NOT NULL,
  last_name     TEXT NOT NULL DEFAULT '',
  privacy_mode  INTEGER NOT NULL DEFAULT 0 CHECK (privacy_mode IN (0, 1)),
  avatar        TEXT NOT NULL DEFAULT '',
  avatar_3d     TEXT,                           -- JSON of the Avatar3D object; NULL when empty
  company_name  TEXT NOT NULL DEFAULT '',
  company_title TEXT NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

-- Only the SHA-256 of a session id is stored.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Public matchmade playgrounds: id = 'public-<type>-<seq>'.
CREATE TABLE playgrounds (
  id         TEXT PRIMARY KEY,
  type       TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  capacity   INTEGER NOT NULL CHECK (capacity > 0),
  created_at BIGINT NOT NULL,
  UNIQUE (type, seq)
);

-- One seat per user and playground type; a seat counts while assigned_at is within the seat TTL.
CREATE TABLE playground_seats (
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  playground_type TEXT NOT NULL,
  playground_id   TEXT NOT NULL REFERENCES playgrounds (id) ON DELETE CASCADE,
  assigned_at     BIGINT NOT NULL,
  PRIMARY KEY (user_id, playground_type)
);
CREATE INDEX playground_seats_playground ON playground_seats (playground_id, assigned_at);
CREATE INDEX playground_seats_type_age ON playground_seats (playground_type, assigned_at);
