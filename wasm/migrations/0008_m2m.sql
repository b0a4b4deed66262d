-- Machine-to-machine clients and the feed's client events. See
-- RATIONALE.md, "Machine-to-machine tokens".
--
-- A client's secrets are stored as SHA-256 (hex) only, like every other
-- high-entropy token; its last four characters are kept to show. During a
-- rotation the next secret sits beside the current one and both mint
-- tokens. issued_at is the iat of the newest token minted: the token
-- endpoint raises it in the same conditional statement that checks the
-- client is still active under the secret it presented, so an event
-- written after that statement is never older than the token.
-- failed_count wrong secrets within the minute from failed_window_at
-- hold the client's token requests until the minute has passed.
CREATE TABLE m2m_clients (
  client_id             TEXT PRIMARY KEY,
  client_name           TEXT NOT NULL,
  client_description    TEXT NOT NULL,
  status                TEXT NOT NULL,
  scopes                TEXT NOT NULL,
  trusted_metadata      TEXT NOT NULL,
  secret_hash           TEXT NOT NULL,
  secret_last_four      TEXT NOT NULL,
  next_secret_hash      TEXT,
  next_secret_last_four TEXT,
  created_at            INTEGER NOT NULL,
  changed_at            INTEGER NOT NULL,
  issued_at             INTEGER NOT NULL DEFAULT 0,
  failed_count          INTEGER NOT NULL DEFAULT 0,
  failed_window_at      INTEGER NOT NULL DEFAULT 0,
  deleted_at            INTEGER
);
CREATE INDEX m2m_clients_created ON m2m_clients (created_at, client_id);

-- The feed's events name a session and its user, or a client: a client
-- event has session_id and user_id ''.
ALTER TABLE session_revocations ADD COLUMN client_id TEXT NOT NULL DEFAULT '';

-- M2M tokens live an hour, so the feed keeps two: a verifier that starts
-- now reads every client event whose tokens it could still accept.
DROP TRIGGER session_revoked;
CREATE TRIGGER session_revoked AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
  INSERT INTO session_revocations (session_id, user_id, revoked_at) VALUES (NEW.session_id, NEW.user_id, NEW.revoked_at);
  DELETE FROM session_revocations WHERE revoked_at < NEW.revoked_at - 7200;
END;

-- A client event is written in the same statement as the change that ends
-- the client's tokens: a deactivation, a finished rotation, a deletion. Its
-- time is the change's, or the newest token's iat when that is later (a
-- clock of another instance ahead by a second), so that every token minted
-- before the change has iat <= revoked_at.
CREATE TRIGGER m2m_client_deactivated AFTER UPDATE OF status ON m2m_clients
WHEN OLD.status = 'active' AND NEW.status != 'active'
BEGIN
  INSERT INTO session_revocations (session_id, user_id, client_id, revoked_at) VALUES ('', '', NEW.client_id, max(NEW.changed_at, NEW.issued_at));
  DELETE FROM session_revocations WHERE revoked_at < NEW.changed_at - 7200;
END;

CREATE TRIGGER m2m_client_rotated AFTER UPDATE OF secret_hash ON m2m_clients
WHEN NEW.secret_hash != OLD.secret_hash
BEGIN
  INSERT INTO session_revocations (session_id, user_id, client_id, revoked_at) VALUES ('', '', NEW.client_id, max(NEW.changed_at, NEW.issued_at));
  DELETE FROM session_revocations WHERE revoked_at < NEW.changed_at - 7200;
END;

-- A deletion is the statement that sets deleted_at: the trigger writes the
-- event and removes the row, so the two cannot be parted by a crash.
CREATE TRIGGER m2m_client_deleted AFTER UPDATE OF deleted_at ON m2m_clients
WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
BEGIN
  INSERT INTO session_revocations (session_id, user_id, client_id, revoked_at) VALUES ('', '', NEW.client_id, max(NEW.deleted_at, NEW.issued_at));
  DELETE FROM session_revocations WHERE revoked_at < NEW.deleted_at - 7200;
  DELETE FROM m2m_clients WHERE client_id = NEW.client_id;
END;
