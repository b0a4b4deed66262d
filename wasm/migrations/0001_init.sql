-- Latch schema, SQLite dialect. Applied by `wrangler d1 migrations apply` on D1
-- and by the testharness on an embedded SQLite: the same file for both.
-- Times are unix seconds (UTC). Opaque tokens are stored only as SHA-256 hex.

CREATE TABLE users (
  user_id            TEXT PRIMARY KEY,
  email              TEXT NOT NULL,
  email_id           TEXT NOT NULL,
  email_verified     INTEGER NOT NULL DEFAULT 0,
  first_name         TEXT NOT NULL DEFAULT '',
  middle_name        TEXT NOT NULL DEFAULT '',
  last_name          TEXT NOT NULL DEFAULT '',
  trusted_metadata   TEXT NOT NULL DEFAULT '{}',
  untrusted_metadata TEXT NOT NULL DEFAULT '{}',
  created_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE passwords (
  user_id          TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
  password_id      TEXT NOT NULL,
  hash             TEXT NOT NULL,
  failed_count     INTEGER NOT NULL DEFAULT 0,
  failed_window_at INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);

CREATE TABLE magic_links (
  token_hash      TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL,
  delivery_method TEXT NOT NULL DEFAULT 'embedded',
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX magic_links_user ON magic_links (user_id);

CREATE TABLE sessions (
  session_id       TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL,
  token_hash       TEXT NOT NULL,
  started_at       INTEGER NOT NULL,
  last_accessed_at INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  revoked_at       INTEGER,
  attributes       TEXT NOT NULL DEFAULT '{}',
  factors          TEXT NOT NULL DEFAULT '[]',
  custom_claims    TEXT NOT NULL DEFAULT '{}',
  version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);
