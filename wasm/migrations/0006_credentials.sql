-- Credential versions, intermediate sessions and PKCE for mailed links.
--
-- A user's credentials_version is a random value drawn anew at each change
-- of what signs the user in: a new password (any reset endpoint), and the
-- first proof of the email by a fresh login. Every session records the version it was
-- started under; the engine inserts a session only while the user's version
-- is still the one the login read (INSERT … SELECT … WHERE), and counts a
-- session live only while the two agree. A login that read the old password
-- before a reset therefore cannot leave a session behind it, whatever the
-- timing. See RATIONALE.md, "Why do credentials have versions?".

ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN credentials_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;

-- A change of version ends, in the same statement: every session started
-- under another version (the revocation feed's trigger records each), and
-- every outstanding reset link and intermediate session of the user. A
-- session the change keeps (passwords/session/reset) was stamped with the
-- new version just before. Versions are random, never counted up, so a
-- session stamped for a change that then lost a race to another change
-- holds a version the user never has, and ends with the rest.
CREATE TRIGGER credentials_changed AFTER UPDATE OF credentials_version ON users
WHEN NEW.credentials_version != OLD.credentials_version
BEGIN
  UPDATE sessions SET revoked_at = NEW.credentials_changed_at, version = version + 1
    WHERE user_id = NEW.user_id AND revoked_at IS NULL AND credentials_version != NEW.credentials_version;
  UPDATE password_resets SET used_at = NEW.credentials_changed_at
    WHERE user_id = NEW.user_id AND used_at IS NULL;
  UPDATE intermediate_sessions SET used_at = NEW.credentials_changed_at
    WHERE user_id = NEW.user_id AND used_at IS NULL;
END;

-- The first proof of an address by a fresh email login (no session of the
-- user stepped up) also raises the version: a password set while the
-- address was unproven was set by whoever typed it, maybe not its owner,
-- so it goes with the sessions (RATIONALE.md, "What happens to a password
-- set before the email was verified?").
CREATE TRIGGER email_first_proven AFTER UPDATE OF email_verified ON users
WHEN OLD.email_verified = 0 AND NEW.email_verified = 1 AND NEW.credentials_version != OLD.credentials_version
BEGIN
  DELETE FROM passwords WHERE user_id = NEW.user_id;
END;

-- Between a first factor and a required second one the engine holds an
-- intermediate session: not a session (sessions/authenticate and the
-- verifier never accept it, no JWT is minted for it), only the right to
-- finish the login with totps/authenticate or totps/recover, for ten
-- minutes, once. Its token is stored hashed like every other token.
CREATE TABLE intermediate_sessions (
  token_hash          TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL,
  credentials_version INTEGER NOT NULL,
  factors             TEXT NOT NULL,
  attributes          TEXT NOT NULL DEFAULT '{}',
  custom_claims       TEXT NOT NULL DEFAULT '{}',
  duration_minutes    INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  used_at             INTEGER
);
CREATE INDEX intermediate_sessions_user ON intermediate_sessions (user_id);
CREATE INDEX intermediate_sessions_expiry ON intermediate_sessions (expires_at);

-- PKCE: a mailed link asked for with a code_challenge authenticates only
-- with its code_verifier, so it signs in only the browser that asked.
ALTER TABLE magic_links ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
