-- The short-lived rows (social login's states and tokens, WebAuthn
-- ceremonies, intermediate sessions) are dropped once expired by the
-- statement that inserts the next row of their table, through a trigger,
-- so that keeping these tables small costs a login no round trip of its
-- own. The time is the new row's created_at, the engine's clock (which
-- tests move), never SQLite's. A row still live is never dropped: the
-- reads check expires_at in any case.
ALTER TABLE webauthn_challenges ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER oauth_states_expired AFTER INSERT ON oauth_states
BEGIN
  DELETE FROM oauth_states WHERE expires_at < NEW.created_at;
END;

CREATE TRIGGER oauth_tokens_expired AFTER INSERT ON oauth_tokens
BEGIN
  DELETE FROM oauth_tokens WHERE expires_at < NEW.created_at;
END;

CREATE TRIGGER oauth_attach_tokens_expired AFTER INSERT ON oauth_attach_tokens
BEGIN
  DELETE FROM oauth_attach_tokens WHERE expires_at < NEW.created_at;
END;

CREATE TRIGGER webauthn_challenges_expired AFTER INSERT ON webauthn_challenges
BEGIN
  DELETE FROM webauthn_challenges WHERE expires_at <= NEW.created_at;
END;

-- An intermediate session is kept an hour past its expiry, so that ending
-- one that just expired (the sign-in cancelled late) answers as for one
-- used rather than as for one never started.
CREATE TRIGGER intermediate_sessions_expired AFTER INSERT ON intermediate_sessions
BEGIN
  DELETE FROM intermediate_sessions WHERE expires_at < NEW.created_at - 3600;
END;
