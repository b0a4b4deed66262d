-- The revocation feed: every early end of a session — revoked by any
-- identifier, its user deleted, its user's password reset — is written
-- here by a trigger, in the same statement as the end itself, so no
-- revoke that returned can be missing from the feed. Events older than the
-- feed's retention are dropped as new ones arrive.
CREATE TABLE session_revocations (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  revoked_at INTEGER NOT NULL
);
CREATE INDEX session_revocations_at ON session_revocations (revoked_at);

CREATE TRIGGER session_revoked AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
  INSERT INTO session_revocations (session_id, user_id, revoked_at) VALUES (NEW.session_id, NEW.user_id, NEW.revoked_at);
  DELETE FROM session_revocations WHERE revoked_at < NEW.revoked_at - 3600;
END;
