-- Social login (OAuth 2.0 and OpenID Connect providers). See RATIONALE.md,
-- "Social login".

-- One hop through a provider, from the start URL to Latch's callback. The
-- state sent to the provider and the value of the browser's binding cookie
-- are stored hashed; the nonce and the PKCE verifier towards the provider
-- are sealed by the host's secret box. Single use, ten minutes.
CREATE TABLE oauth_states (
  state_hash          TEXT PRIMARY KEY,
  browser_hash        TEXT NOT NULL,
  provider            TEXT NOT NULL,
  sealed              TEXT NOT NULL,
  code_challenge      TEXT NOT NULL DEFAULT '',
  login_redirect_url  TEXT NOT NULL,
  signup_redirect_url TEXT NOT NULL,
  attach_user_id      TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  used_at             INTEGER
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

-- A provider identity belongs to one user: (provider, subject) is unique.
CREATE TABLE oauth_registrations (
  registration_id     TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL,
  provider            TEXT NOT NULL,
  subject             TEXT NOT NULL,
  email               TEXT NOT NULL DEFAULT '',
  profile_picture_url TEXT NOT NULL DEFAULT '',
  locale              TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX oauth_registrations_subject ON oauth_registrations (provider, subject);
CREATE INDEX oauth_registrations_user ON oauth_registrations (user_id);

-- The token the callback hands the app (stytch_token_type=oauth), redeemed
-- once by oauth/authenticate within ten minutes, and only under the
-- credentials version the user had at the callback. The provider's tokens
-- wait here, sealed, until then.
CREATE TABLE oauth_tokens (
  token_hash          TEXT PRIMARY KEY,
  user_id             TEXT NOT NULL,
  registration_id     TEXT NOT NULL,
  credentials_version INTEGER NOT NULL,
  user_created        INTEGER NOT NULL DEFAULT 0,
  code_challenge      TEXT NOT NULL DEFAULT '',
  sealed              TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  used_at             INTEGER
);
CREATE INDEX oauth_tokens_user ON oauth_tokens (user_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

-- oauth/attach: lets a start add a provider to a signed-in user.
-- Rows of these tables past their time are deleted as new ones are
-- written, so a flood of starts leaves at most ten minutes of rows.
CREATE TABLE oauth_attach_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  provider   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX oauth_attach_tokens_expiry ON oauth_attach_tokens (expires_at);

-- A user signed up through a provider that did not verify an address has
-- no email: the address must stay free for its owner. Uniqueness now holds
-- for the users that have one; lookups keep a plain index.
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (email) WHERE email <> '';
CREATE INDEX users_email_lookup ON users (email);
