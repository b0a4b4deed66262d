-- What a change of credentials and the first proof of an address end,
-- widened to the credentials that came after migration 0006.
--
-- A change of credentials (a reset, the first proof) now also spends what
-- the old credentials had begun: attach tokens and the social login starts
-- they opened (so a stolen session's attach token cannot link a provider
-- identity after the owner reset the password), and WebAuthn ceremonies of
-- the user (a registration begun before a reset cannot finish after it).
--
-- The first proof of an address by a fresh login (no session of the user
-- stepped up) drops every way in that was set while the address was
-- unproven, not only the password: authenticator apps and their recovery
-- codes, passkeys, and linked provider identities with their tokens.
-- Whoever typed an unproven address may not own it, and anything they
-- attached to its user would outlive the owner's arrival as a way back in.
-- An owner who set those up first keeps them by proving the address with
-- the session they signed in with (a step-up). See RATIONALE.md, "What
-- happens to a password set before the email was verified?".

CREATE INDEX oauth_attach_tokens_user ON oauth_attach_tokens (user_id);
CREATE INDEX oauth_states_attach_user ON oauth_states (attach_user_id);
CREATE INDEX webauthn_challenges_user ON webauthn_challenges (user_id);

DROP TRIGGER credentials_changed;
CREATE TRIGGER credentials_changed AFTER UPDATE OF credentials_version ON users
WHEN NEW.credentials_version != OLD.credentials_version
BEGIN
  UPDATE sessions SET revoked_at = NEW.credentials_changed_at, version = version + 1
    WHERE user_id = NEW.user_id AND revoked_at IS NULL AND credentials_version != NEW.credentials_version;
  UPDATE password_resets SET used_at = NEW.credentials_changed_at
    WHERE user_id = NEW.user_id AND used_at IS NULL;
  UPDATE intermediate_sessions SET used_at = NEW.credentials_changed_at
    WHERE user_id = NEW.user_id AND used_at IS NULL;
  UPDATE oauth_attach_tokens SET used_at = NEW.credentials_changed_at
    WHERE user_id = NEW.user_id AND used_at IS NULL;
  UPDATE oauth_states SET used_at = NEW.credentials_changed_at
    WHERE attach_user_id = NEW.user_id AND used_at IS NULL;
  DELETE FROM webauthn_challenges WHERE user_id = NEW.user_id;
END;

DROP TRIGGER email_first_proven;
CREATE TRIGGER email_first_proven AFTER UPDATE OF email_verified ON users
WHEN OLD.email_verified = 0 AND NEW.email_verified = 1 AND NEW.credentials_version != OLD.credentials_version
BEGIN
  DELETE FROM passwords WHERE user_id = NEW.user_id;
  DELETE FROM recovery_codes WHERE user_id = NEW.user_id;
  DELETE FROM totps WHERE user_id = NEW.user_id;
  DELETE FROM webauthn_registrations WHERE user_id = NEW.user_id;
  DELETE FROM oauth_tokens WHERE user_id = NEW.user_id;
  DELETE FROM oauth_registrations WHERE user_id = NEW.user_id;
END;
