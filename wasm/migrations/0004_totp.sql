-- Authenticator apps (TOTP, RFC 6238) and their recovery codes. A secret is
-- stored sealed by the host's SecretBox, so a read of the database alone
-- does not yield it; a recovery code is stored as an HMAC under a key
-- derived from the project secret, and sealed beside it so that the user
-- can be shown the codes again.

CREATE TABLE totps (
  totp_id          TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL,
  secret_sealed    TEXT NOT NULL,
  codes_sealed     TEXT NOT NULL,
  verified         INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  last_step        INTEGER NOT NULL DEFAULT 0,
  failed_count     INTEGER NOT NULL DEFAULT 0,
  failed_window_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX totps_user ON totps (user_id, verified);

CREATE TABLE recovery_codes (
  code_hash TEXT PRIMARY KEY,
  code_id   TEXT NOT NULL,
  totp_id   TEXT NOT NULL,
  user_id   TEXT NOT NULL,
  used_at   INTEGER
);
CREATE INDEX recovery_codes_totp ON recovery_codes (totp_id);
