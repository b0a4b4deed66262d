package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The store. Every statement the engine runs is in the SQLite dialect and
// is a single statement, so that it is atomic on D1, which has no
// transactions; multi-row changes are ordered so that a failure half way
// leaves nothing unsafe behind (see RATIONALE.md, "Why no transactions?").
// This file holds the row shapes every product reads (userObject,
// sessionObject) and the statements on users, sessions and magic links;
// each other product keeps its statements beside its handlers, in the
// file named for it (passwords_store.go, passwords_reset.go, otps.go,
// totps.go, sessions_intermediate.go, credentials.go, revocations.go,
// users_update.go, users_search.go, mail.go). The schema and its
// triggers are in wasm/migrations.

var errNoRows = sql.ErrNoRows

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Rows are read as JSON objects that SQLite builds (json_object) and the
// engine decodes once: on D1 every result cell crosses from JavaScript into
// Go on its own, several calls each, so one cell per row instead of twenty
// is most of the cost of reading a row there. The same SQL runs on every
// host. D1 allows at most 32 arguments per SQL function, so a session and
// its user are two objects, each within that. See RATIONALE.md, "Why does
// the store read rows as JSON?".

// userObject is a user row (alias u, with its password as p) as one JSON
// object; metadata stays text, exactly as stored.
const userObject = `json_object('user_id', u.user_id, 'email', u.email, 'email_id', u.email_id,
	'email_verified', json(iif(u.email_verified, 'true', 'false')), 'first_name', u.first_name,
	'middle_name', u.middle_name, 'last_name', u.last_name, 'trusted_metadata', u.trusted_metadata,
	'untrusted_metadata', u.untrusted_metadata, 'created_at', u.created_at,
	'password_id', COALESCE(p.password_id, ''), 'status', u.status, 'credentials_version', u.credentials_version,
	'totps', json((SELECT json_group_array(json_object('totp_id', t.totp_id, 'verified', json('true')))
		FROM totps t WHERE t.user_id = u.user_id AND t.verified = 1)),
	'providers', json((SELECT json_group_array(json_object('oauth_user_registration_id', r.registration_id,
		'profile_picture_url', r.profile_picture_url, 'locale', r.locale, 'provider_subject', r.subject,
		'provider_type', r.provider)) FROM oauth_registrations r WHERE r.user_id = u.user_id)),
	'webauthn_registrations', json((SELECT json_group_array(json_object('webauthn_registration_id', w.registration_id,
		'domain', w.domain, 'user_agent', w.user_agent, 'verified', json('true'), 'authenticator_type', w.authenticator_type,
		'name', w.name)) FROM (SELECT * FROM webauthn_registrations WHERE user_id = u.user_id ORDER BY created_at, registration_id) w)))`

// userWhere is, as a subquery, userObject of the user that the SQL
// condition cond (on u) finds: NULL when there is none.
func userWhere(cond string) string {
	return `(SELECT ` + userObject + ` FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE ` + cond + `)`
}

// sessionObject is a session row (alias s) as one JSON object, its JSON
// columns embedded as JSON.
const sessionObject = `json_object('session_id', s.session_id, 'user_id', s.user_id,
	'started_at', s.started_at, 'last_accessed_at', s.last_accessed_at, 'expires_at', s.expires_at,
	'revoked', json(iif(s.revoked_at IS NULL, 'false', 'true')), 'attributes', json(s.attributes),
	'factors', json(s.factors), 'custom_claims', json(s.custom_claims), 'version', s.version,
	'credentials_version', s.credentials_version)`

// optionalJSON decodes raw, a JSON object a statement read (a subquery's,
// NULL when it found no row), into a new T: nil for NULL.
func optionalJSON[T any](raw []byte) (*T, error) {
	if raw == nil {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	return v, nil
}

// scanJSON reads a one-cell row holding a JSON object into dst.
func scanJSON(sc interface{ Scan(...any) error }, dst any) error {
	var raw []byte
	if err := sc.Scan(&raw); err != nil {
		return err
	}
	return json.Unmarshal(raw, dst)
}

func (e *Engine) insertUser(ctx context.Context, u *user) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO users (user_id, email, email_id, email_verified,
		first_name, middle_name, last_name, trusted_metadata, untrusted_metadata, created_at, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.EmailID, u.EmailVerified, u.FirstName, u.MiddleName, u.LastName,
		u.TrustedMetadata, u.UntrustedMetadata, u.CreatedAt, u.Status)
	if isUniqueViolation(err) {
		return errDuplicateEmail
	}
	if err != nil {
		return fmt.Errorf("engine: insert user: %w", err)
	}
	return nil
}

// userByID loads a user or answers user_not_found.
func (e *Engine) userByID(ctx context.Context, id string) (*user, error) {
	u := &user{}
	err := scanJSON(e.cfg.DB.QueryRowContext(ctx, `SELECT `+userObject+`
		FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE u.user_id = ?`, id), u)
	if errors.Is(err, errNoRows) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load user: %w", err)
	}
	return u, nil
}

// userAnd loads the user id, or answers user_not_found, and in the same
// statement more: an SQL expression on the user (alias u) whose
// parameters, args, come before the id. It returns what more read, nil
// for NULL.
func (e *Engine) userAnd(ctx context.Context, id, more string, args ...any) (*user, []byte, error) {
	var raw, rawMore []byte
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT `+userObject+`, `+more+`
		FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE u.user_id = ?`, append(args, id)...).
		Scan(&raw, &rawMore)
	if errors.Is(err, errNoRows) {
		return nil, nil, errUserNotFound
	}
	u := &user{}
	if err == nil {
		err = json.Unmarshal(raw, u)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load user: %w", err)
	}
	return u, rawMore, nil
}

// deleteUserRows revokes the user's sessions first, so that a failure later on
// never leaves a deleted user with a live session, then removes the rest,
// the user last; then revokes again whatever session a login that finished
// meanwhile stored (none can be stored once the user is gone: see
// insertSession), so that the feed tells verifiers of it too.
func (e *Engine) deleteUserRows(ctx context.Context, id string, now int64) error {
	revoke := `UPDATE sessions SET revoked_at = ?, version = version + 1 WHERE user_id = ? AND revoked_at IS NULL`
	steps := []struct {
		query string
		args  []any
	}{
		{revoke, []any{now, id}},
		{`DELETE FROM magic_links WHERE user_id = ?`, []any{id}},
		{`DELETE FROM email_otps WHERE user_id = ?`, []any{id}},
		{`DELETE FROM password_resets WHERE user_id = ?`, []any{id}},
		{`DELETE FROM totps WHERE user_id = ?`, []any{id}},
		{`DELETE FROM recovery_codes WHERE user_id = ?`, []any{id}},
		{`DELETE FROM passwords WHERE user_id = ?`, []any{id}},
		{`DELETE FROM oauth_tokens WHERE user_id = ?`, []any{id}},
		{`DELETE FROM oauth_attach_tokens WHERE user_id = ?`, []any{id}},
		{`DELETE FROM oauth_registrations WHERE user_id = ?`, []any{id}},
		{`DELETE FROM webauthn_registrations WHERE user_id = ?`, []any{id}},
		{`DELETE FROM webauthn_challenges WHERE user_id = ?`, []any{id}},
		{`DELETE FROM intermediate_sessions WHERE user_id = ?`, []any{id}},
		{`DELETE FROM oauth_states WHERE attach_user_id = ?`, []any{id}},
		{`DELETE FROM users WHERE user_id = ?`, []any{id}},
		{revoke, []any{now, id}},
	}
	for i, st := range steps {
		res, err := e.cfg.DB.ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return fmt.Errorf("engine: delete user: %w", err)
		}
		// The feed's readers are woken by the first revoke, and by the
		// last when it found a session.
		if n, _ := res.RowsAffected(); i == 0 || i == len(steps)-1 && n > 0 {
			e.revoked()
		}
	}
	return nil
}

// Sessions.

func sessionJSON(s *session) (attrs, factors, cc string, err error) {
	a, err := json.Marshal(s.Attributes)
	if err != nil {
		return "", "", "", err
	}
	fs := s.Factors
	if fs == nil {
		fs = []factor{}
	}
	f, err := json.Marshal(fs)
	if err != nil {
		return "", "", "", err
	}
	c := s.CustomClaims
	if c == nil {
		c = claims{}
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return "", "", "", err
	}
	return string(a), string(f), string(cb), nil
}

// insertSession stores a new session started under the credentials
// version the login read (s.CredentialsVersion), if the user's version is
// still that one: a login that read a password a reset has since replaced
// stores nothing and answers errCredentialsChanged. See RATIONALE.md, "Why
// do credentials have versions?".
func (e *Engine) insertSession(ctx context.Context, s *session) error {
	attrs, factors, cc, err := sessionJSON(s)
	if err != nil {
		return fmt.Errorf("engine: encode session: %w", err)
	}
	res, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO sessions (session_id, user_id, token_hash,
		started_at, last_accessed_at, expires_at, attributes, factors, custom_claims, version, credentials_version)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?
		WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ? AND credentials_version = ?)`,
		s.ID, s.UserID, s.TokenHash, s.StartedAt, s.LastAccessedAt, s.ExpiresAt, attrs, factors, cc,
		s.CredentialsVersion, s.UserID, s.CredentialsVersion)
	if err != nil {
		return fmt.Errorf("engine: insert session: %w", err)
	}
	if err := oneRow(res, errCredentialsChanged); err != nil {
		return err
	}
	s.Version = 1
	return nil
}

// oneRow returns none when the statement changed exactly one row, and
// none (the caller's error for "nothing changed") otherwise.
func oneRow(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: rows affected: %w", err)
	}
	if n != 1 {
		return none
	}
	return nil
}

// updateSession writes s back if nobody else changed it since it was read
// (optimistic concurrency on version); otherwise it returns errConflict.
func (e *Engine) updateSession(ctx context.Context, s *session) error {
	attrs, factors, cc, err := sessionJSON(s)
	if err != nil {
		return fmt.Errorf("engine: encode session: %w", err)
	}
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE sessions SET last_accessed_at = ?, expires_at = ?,
		attributes = ?, factors = ?, custom_claims = ?, credentials_version = ?, version = version + 1
		WHERE session_id = ? AND version = ? AND revoked_at IS NULL`,
		s.LastAccessedAt, s.ExpiresAt, attrs, factors, cc, s.CredentialsVersion, s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("engine: update session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: update session: %w", err)
	}
	if n != 1 {
		return errConflict
	}
	s.Version++
	return nil
}

// touchSession moves last_accessed_at forward unless it moved recently; it
// does not bump the version, so it never makes a concurrent update retry.
// The answer does not wait for the write (Config.Later): it already says
// now, and a write that fails is logged, never the caller's error.
func (e *Engine) touchSession(ctx context.Context, s *session, now int64) {
	if now-s.LastAccessedAt < touchInterval {
		return
	}
	s.LastAccessedAt = now
	id := s.ID
	e.later(ctx, func(ctx context.Context) {
		_, err := e.cfg.DB.ExecContext(ctx, `UPDATE sessions SET last_accessed_at = ?
			WHERE session_id = ? AND last_accessed_at < ?`, now, id, now)
		if err != nil {
			e.cfg.Logger.Error("engine: touch session", "err", err)
		}
	})
}

// sessionWithUser loads a session by a column (token hash or id) together
// with its user, in one statement.
func (e *Engine) sessionWithUser(ctx context.Context, column, value string) (*session, *user, error) {
	var row struct {
		S *session `json:"s"`
		U *user    `json:"u"`
	}
	err := scanJSON(e.cfg.DB.QueryRowContext(ctx, `SELECT json_object('s', `+sessionObject+`, 'u', `+userObject+`)
		FROM sessions s JOIN users u ON u.user_id = s.user_id
		LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE s.`+column+` = ?`, value), &row)
	if errors.Is(err, errNoRows) {
		return nil, nil, errNoRows
	}
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load session: %w", err)
	}
	if row.S == nil || row.U == nil {
		return nil, nil, errors.New("engine: load session: incomplete row")
	}
	return row.S, row.U, nil
}

func (e *Engine) liveSessions(ctx context.Context, userID string, now int64) ([]*session, error) {
	rows, err := e.cfg.DB.QueryContext(ctx, `SELECT `+sessionObject+` FROM sessions s
		WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
			AND s.credentials_version = (SELECT u.credentials_version FROM users u WHERE u.user_id = s.user_id)
		ORDER BY s.started_at, s.session_id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("engine: list sessions: %w", err)
	}
	defer rows.Close()
	out := []*session{}
	for rows.Next() {
		s := &session{}
		if err := scanJSON(rows, s); err != nil {
			return nil, fmt.Errorf("engine: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("engine: list sessions: %w", err)
	}
	return out, nil
}

// revokeSessionBy revokes the session whose column (session_id or
// token_hash) is value and, when userID is not empty, whose user it is.
// Revoking is idempotent: a session already revoked or expired is left as
// it is; one that never existed is session_not_found.
func (e *Engine) revokeSessionBy(ctx context.Context, column, value, userID string, now int64) error {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, version = version + 1
		WHERE `+column+` = ? AND (? = '' OR user_id = ?) AND revoked_at IS NULL`, now, value, userID, userID)
	if err != nil {
		return fmt.Errorf("engine: revoke session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: revoke session: %w", err)
	}
	if n > 0 {
		e.revoked()
		return nil
	}
	var exists int
	err = e.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE `+column+` = ? AND (? = '' OR user_id = ?)`,
		value, userID, userID).Scan(&exists)
	if err != nil {
		return fmt.Errorf("engine: revoke session: %w", err)
	}
	if exists == 0 {
		return errSessionNotFound
	}
	return nil
}

// Magic links.

func (e *Engine) insertMagicLink(ctx context.Context, hash, userID, delivery, challenge string, now, expires int64) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO magic_links (token_hash, user_id, delivery_method, code_challenge, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash, userID, delivery, challenge, now, expires)
	if err != nil {
		return fmt.Errorf("engine: insert magic link: %w", err)
	}
	return nil
}

// activate makes a pending user active: its first successful login.
func (e *Engine) activate(ctx context.Context, u *user) error {
	if u.Status == statusActive {
		return nil
	}
	if _, err := e.cfg.DB.ExecContext(ctx, `UPDATE users SET status = 'active' WHERE user_id = ? AND status != 'active'`, u.ID); err != nil {
		return fmt.Errorf("engine: activate user: %w", err)
	}
	u.Status = statusActive
	return nil
}

// useMagicLink consumes the live link of hash (unused, unexpired) when
// verifier matches the challenge it was sent with (both empty, or the S256
// of one the other) and, for a step-up, it is the session's user's: one
// conditional UPDATE that also reads the link's delivery method and user
// (one D1 round trip). Exactly one caller wins, however many race. Why
// nothing was consumed is asked afterwards, on failures only
// (whyNoMagicLink).
func (e *Engine) useMagicLink(ctx context.Context, hash, verifier string, stepUp *session) (string, *user, error) {
	userID := stepUp.userID()
	now := e.now()
	var delivery string
	var raw []byte
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE magic_links SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? AND code_challenge = ? AND (? = '' OR user_id = ?)
		RETURNING delivery_method, `+userWhere("u.user_id = magic_links.user_id"),
		now, hash, now, pkceChallenge(verifier), userID, userID).Scan(&delivery, &raw)
	if errors.Is(err, errNoRows) {
		return "", nil, e.whyNoMagicLink(ctx, hash, verifier, stepUp, now)
	}
	if err != nil {
		return "", nil, fmt.Errorf("engine: use magic link: %w", err)
	}
	u, err := optionalJSON[user](raw)
	if err != nil {
		return "", nil, fmt.Errorf("engine: load magic link's user: %w", err)
	}
	if u == nil {
		// The link outlived its user (a deletion under way): as if unsent.
		return "", nil, errMagicLinkNotFound
	}
	// The statement's own condition makes this unreachable; a session is
	// never stepped up with another user's factor all the same.
	if err := stepUp.heldBy(u.ID); err != nil {
		return "", nil, err
	}
	return delivery, u, nil
}

// whyNoMagicLink names the error of a link useMagicLink did not consume,
// checking what it held in the order a caller would: not found, used or
// expired, the PKCE verifier, the step-up's user; a link that passes them
// all now was used meanwhile by a concurrent call.
func (e *Engine) whyNoMagicLink(ctx context.Context, hash, verifier string, stepUp *session, now int64) error {
	var expires int64
	var used bool
	var challenge, owner string
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT expires_at, used_at IS NOT NULL, code_challenge, user_id
		FROM magic_links WHERE token_hash = ?`, hash).Scan(&expires, &used, &challenge, &owner)
	switch {
	case errors.Is(err, errNoRows):
		return errMagicLinkNotFound
	case err != nil:
		return fmt.Errorf("engine: load magic link: %w", err)
	case used || expires <= now:
		return errMagicLinkUsed
	}
	if err := checkPKCE(challenge, verifier); err != nil {
		return err
	}
	if err := stepUp.heldBy(owner); err != nil {
		return err
	}
	return errMagicLinkUsed
}
