-- PKCE for password reset links, as for magic links (0006): a reset link
-- sent with a code_challenge resets only with its code_verifier, so it
-- works only in the browser that asked for it.
ALTER TABLE password_resets ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
