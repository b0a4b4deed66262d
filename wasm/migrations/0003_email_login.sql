-- Email login: users that are pending until they first authenticate, one
-- outstanding one-time code per email, password reset links, and the
-- per-address send counts that keep Latch from flooding an inbox.

ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';

-- A code is stored as an HMAC under a key derived from the project
-- secret, so a read of the database alone does not yield it. Sending a new
-- code to an email replaces the old one.
CREATE TABLE email_otps (
  email_id   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  code_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  used_at    INTEGER
);
CREATE INDEX email_otps_user ON email_otps (user_id);

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE mail_sends (
  email     TEXT PRIMARY KEY,
  window_at INTEGER NOT NULL,
  sent      INTEGER NOT NULL,
  last_at   INTEGER NOT NULL
);
