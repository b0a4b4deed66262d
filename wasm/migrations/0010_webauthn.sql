-- Passkeys and security keys (WebAuthn). See RATIONALE.md, "Passkeys".
--
-- A registration is one credential of one user for one relying party ID
-- (domain). credential_id is the authenticator's credential id and
-- public_key its COSE key, both base64url; user_handle is the user.id the
-- credential was created with (base64url), which a discoverable sign-in
-- returns. sign_count, backup_eligible and backup_state are the
-- authenticator data of the last ceremony, checked on the next.
CREATE TABLE webauthn_registrations (
  registration_id    TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL,
  domain             TEXT NOT NULL,
  credential_id      TEXT NOT NULL UNIQUE,
  public_key         TEXT NOT NULL,
  user_handle        TEXT NOT NULL,
  attestation_type   TEXT NOT NULL,
  aaguid             TEXT NOT NULL,
  transports         TEXT NOT NULL,
  authenticator_type TEXT NOT NULL,
  name               TEXT NOT NULL,
  user_agent         TEXT NOT NULL,
  sign_count         INTEGER NOT NULL,
  user_verified      INTEGER NOT NULL,
  backup_eligible    INTEGER NOT NULL,
  backup_state       INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  last_used_at       INTEGER NOT NULL
);
CREATE INDEX webauthn_registrations_user ON webauthn_registrations (user_id, domain);

-- A ceremony begun and not yet finished. The row is found by the SHA-256
-- (hex) of the challenge the browser signs and is deleted by the statement
-- that finishes the ceremony, so a challenge works once. ceremony is the
-- relying party's record of what was asked (go-webauthn's SessionData,
-- without the challenge). user_id is '' for a discoverable sign-in.
CREATE TABLE webauthn_challenges (
  challenge_hash     TEXT PRIMARY KEY,
  kind               TEXT NOT NULL,
  user_id            TEXT NOT NULL,
  domain             TEXT NOT NULL,
  ceremony           TEXT NOT NULL,
  authenticator_type TEXT NOT NULL,
  user_agent         TEXT NOT NULL,
  expires_at         INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
