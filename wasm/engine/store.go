package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The store: every statement the engine runs, in the SQLite dialect, each a
// single statement so that it is atomic on D1, which has no transactions.
// Multi-row changes are ordered so that a failure half way leaves nothing
// unsafe behind (see RATIONALE.md, "Why no transactions?").

var errNoRows = sql.ErrNoRows

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

const userColumns = `u.user_id, u.email, u.email_id, u.email_verified, u.first_name, u.middle_name,
	u.last_name, u.trusted_metadata, u.untrusted_metadata, u.created_at, COALESCE(p.password_id, '')`

// userDest lists where the columns of userColumns scan into.
func userDest(u *user) []any {
	return []any{&u.ID, &u.Email, &u.EmailID, &u.EmailVerified, &u.FirstName, &u.MiddleName,
		&u.LastName, &u.TrustedMetadata, &u.UntrustedMetadata, &u.CreatedAt, &u.PasswordID}
}

func (e *Engine) insertUser(ctx context.Context, u *user) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO users (user_id, email, email_id, email_verified,
		first_name, middle_name, last_name, trusted_metadata, untrusted_metadata, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.EmailID, u.EmailVerified, u.FirstName, u.MiddleName, u.LastName,
		u.TrustedMetadata, u.UntrustedMetadata, u.CreatedAt)
	if isUniqueViolation(err) {
		return errDuplicateEmail
	}
	if err != nil {
		return fmt.Errorf("engine: insert user: %w", err)
	}
	return nil
}

func (e *Engine) userBy(ctx context.Context, column, value string) (*user, error) {
	u := &user{}
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT `+userColumns+`
		FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE u.`+column+` = ?`, value).Scan(userDest(u)...)
	if errors.Is(err, errNoRows) {
		return nil, errNoRows
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load user: %w", err)
	}
	return u, nil
}

// userByID loads a user or answers user_not_found.
func (e *Engine) userByID(ctx context.Context, id string) (*user, error) {
	u, err := e.userBy(ctx, "user_id", id)
	if errors.Is(err, errNoRows) {
		return nil, errUserNotFound
	}
	return u, err
}

// deleteUserRows revokes the user's sessions first, so that a failure later on
// never leaves a deleted user with a live session, then removes the rest.
func (e *Engine) deleteUserRows(ctx context.Context, id string, now int64) error {
	steps := []struct {
		query string
		args  []any
	}{
		{`UPDATE sessions SET revoked_at = ?, version = version + 1 WHERE user_id = ? AND revoked_at IS NULL`, []any{now, id}},
		{`DELETE FROM magic_links WHERE user_id = ?`, []any{id}},
		{`DELETE FROM passwords WHERE user_id = ?`, []any{id}},
		{`DELETE FROM users WHERE user_id = ?`, []any{id}},
	}
	for _, st := range steps {
		if _, err := e.cfg.DB.ExecContext(ctx, st.query, st.args...); err != nil {
			return fmt.Errorf("engine: delete user: %w", err)
		}
	}
	return nil
}

// Sessions.

const sessionColumns = `s.session_id, s.user_id, s.token_hash, s.started_at, s.last_accessed_at,
	s.expires_at, s.revoked_at IS NOT NULL, s.attributes, s.factors, s.custom_claims, s.version`

func scanSession(sc interface{ Scan(...any) error }, s *session) error {
	var attrs, factors, cc string
	if err := sc.Scan(&s.ID, &s.UserID, &s.TokenHash, &s.StartedAt, &s.LastAccessedAt,
		&s.ExpiresAt, &s.Revoked, &attrs, &factors, &cc, &s.Version); err != nil {
		return err
	}
	return decodeSessionJSON(s, attrs, factors, cc)
}

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

func (e *Engine) insertSession(ctx context.Context, s *session) error {
	attrs, factors, cc, err := sessionJSON(s)
	if err != nil {
		return fmt.Errorf("engine: encode session: %w", err)
	}
	_, err = e.cfg.DB.ExecContext(ctx, `INSERT INTO sessions (session_id, user_id, token_hash,
		started_at, last_accessed_at, expires_at, attributes, factors, custom_claims, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		s.ID, s.UserID, s.TokenHash, s.StartedAt, s.LastAccessedAt, s.ExpiresAt, attrs, factors, cc)
	if err != nil {
		return fmt.Errorf("engine: insert session: %w", err)
	}
	s.Version = 1
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
		attributes = ?, factors = ?, custom_claims = ?, version = version + 1
		WHERE session_id = ? AND version = ? AND revoked_at IS NULL`,
		s.LastAccessedAt, s.ExpiresAt, attrs, factors, cc, s.ID, s.Version)
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
func (e *Engine) touchSession(ctx context.Context, s *session, now int64) error {
	if now-s.LastAccessedAt < touchInterval {
		return nil
	}
	_, err := e.cfg.DB.ExecContext(ctx, `UPDATE sessions SET last_accessed_at = ?
		WHERE session_id = ? AND last_accessed_at < ?`, now, s.ID, now)
	if err != nil {
		return fmt.Errorf("engine: touch session: %w", err)
	}
	s.LastAccessedAt = now
	return nil
}

// sessionWithUser loads a session by a column (token hash or id) together
// with its user, in one statement.
func (e *Engine) sessionWithUser(ctx context.Context, column, value string) (*session, *user, error) {
	s, u := &session{}, &user{}
	row := e.cfg.DB.QueryRowContext(ctx, `SELECT `+sessionColumns+`, `+userColumns+`
		FROM sessions s JOIN users u ON u.user_id = s.user_id
		LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE s.`+column+` = ?`, value)
	var attrs, factors, cc string
	dest := append([]any{&s.ID, &s.UserID, &s.TokenHash, &s.StartedAt, &s.LastAccessedAt,
		&s.ExpiresAt, &s.Revoked, &attrs, &factors, &cc, &s.Version}, userDest(u)...)
	err := row.Scan(dest...)
	if errors.Is(err, errNoRows) {
		return nil, nil, errNoRows
	}
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load session: %w", err)
	}
	if err := decodeSessionJSON(s, attrs, factors, cc); err != nil {
		return nil, nil, err
	}
	return s, u, nil
}

func decodeSessionJSON(s *session, attrs, factors, cc string) error {
	if err := json.Unmarshal([]byte(attrs), &s.Attributes); err != nil {
		return fmt.Errorf("engine: session %s attributes: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(factors), &s.Factors); err != nil {
		return fmt.Errorf("engine: session %s factors: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(cc), &s.CustomClaims); err != nil {
		return fmt.Errorf("engine: session %s claims: %w", s.ID, err)
	}
	return nil
}

func (e *Engine) liveSessions(ctx context.Context, userID string, now int64) ([]*session, error) {
	rows, err := e.cfg.DB.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
		ORDER BY s.started_at, s.session_id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("engine: list sessions: %w", err)
	}
	defer rows.Close()
	out := []*session{}
	for rows.Next() {
		s := &session{}
		if err := scanSession(rows, s); err != nil {
			return nil, fmt.Errorf("engine: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("engine: list sessions: %w", err)
	}
	return out, nil
}

func (e *Engine) revokeSessionRow(ctx context.Context, id string, now int64) error {
	_, err := e.cfg.DB.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, version = version + 1
		WHERE session_id = ? AND revoked_at IS NULL`, now, id)
	if err != nil {
		return fmt.Errorf("engine: revoke session: %w", err)
	}
	return nil
}

// Magic links.

type magicLink struct {
	UserID         string
	DeliveryMethod string
	ExpiresAt      int64
	Used           bool
}

func (e *Engine) insertMagicLink(ctx context.Context, hash, userID, delivery string, now, expires int64) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO magic_links (token_hash, user_id, delivery_method, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, hash, userID, delivery, now, expires)
	if err != nil {
		return fmt.Errorf("engine: insert magic link: %w", err)
	}
	return nil
}

func (e *Engine) magicLinkByHash(ctx context.Context, hash string) (*magicLink, error) {
	m := &magicLink{}
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT user_id, delivery_method, expires_at, used_at IS NOT NULL
		FROM magic_links WHERE token_hash = ?`, hash).Scan(&m.UserID, &m.DeliveryMethod, &m.ExpiresAt, &m.Used)
	if errors.Is(err, errNoRows) {
		return nil, errMagicLinkNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load magic link: %w", err)
	}
	return m, nil
}

// verifyEmail marks the user's email verified: following a link that was
// mailed to it proves the user reads it.
func (e *Engine) verifyEmail(ctx context.Context, userID string) error {
	_, err := e.cfg.DB.ExecContext(ctx, `UPDATE users SET email_verified = 1 WHERE user_id = ? AND email_verified = 0`, userID)
	if err != nil {
		return fmt.Errorf("engine: verify email: %w", err)
	}
	return nil
}

// consumeMagicLink marks the link used. Exactly one caller wins, however
// many race: the update is conditional on used_at still being NULL.
func (e *Engine) consumeMagicLink(ctx context.Context, hash string, now int64) error {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE magic_links SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, now, hash, now)
	if err != nil {
		return fmt.Errorf("engine: consume magic link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: consume magic link: %w", err)
	}
	if n != 1 {
		return errMagicLinkUsed
	}
	return nil
}
