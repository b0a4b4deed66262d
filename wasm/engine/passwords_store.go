package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

const (
	// lockAttempts failed logins within lockWindow seconds lock a user's
	// password until the window passes.
	lockAttempts = 10
	lockWindow   = 3600
)

// insertUserWithPassword stores a new user and its password hash in one
// statement (the user_with_password view's trigger writes both rows), so
// that no crash leaves one without the other.
func (e *Engine) insertUserWithPassword(ctx context.Context, u *user, hash string) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO user_with_password (user_id, email, email_id, email_verified,
		first_name, middle_name, last_name, trusted_metadata, untrusted_metadata, created_at, password_id, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.EmailID, u.EmailVerified, u.FirstName, u.MiddleName, u.LastName,
		u.TrustedMetadata, u.UntrustedMetadata, u.CreatedAt, u.PasswordID, hash)
	if isUniqueViolation(err) {
		return errDuplicateEmail
	}
	if err != nil {
		return fmt.Errorf("engine: insert user with password: %w", err)
	}
	return nil
}

// userByEmail loads the user with this email, or errNoRows.
func (e *Engine) userByEmail(ctx context.Context, email string) (*user, error) {
	u, _, err := e.userWithPassword(ctx, email)
	return u, err
}

// userWithPassword loads the user with this email and its password hash
// ("" when the user has no password) in one statement, or errNoRows.
func (e *Engine) userWithPassword(ctx context.Context, email string) (*user, string, error) {
	u := &user{}
	var rawUser []byte
	var hash string
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT `+userObject+`, COALESCE(p.hash, '')
		FROM users u LEFT JOIN passwords p ON p.user_id = u.user_id WHERE u.email = ?`, email).Scan(&rawUser, &hash)
	if errors.Is(err, errNoRows) {
		return nil, "", errNoRows
	}
	if err == nil {
		err = json.Unmarshal(rawUser, u)
	}
	if err != nil {
		return nil, "", fmt.Errorf("engine: load user: %w", err)
	}
	return u, hash, nil
}

// claimAttempt counts a login attempt on the password of the user with
// email before the password is checked, and reads the user and the hash,
// in one conditional statement (one D1 round trip). It answers
// user_lock_limit_reached when the user already has lockAttempts attempts
// in the current window. Counting first means concurrent guesses cannot
// all slip in before the first failure is written; a correct password
// clears the count (passwordSucceeded). An attempt after the window has
// passed starts a new window. A step-up counts only on the session's
// user's password. Why nothing was counted is asked afterwards, on
// failures only (whyNoAttempt).
func (e *Engine) claimAttempt(ctx context.Context, email string, stepUp *session, now int64) (*user, string, error) {
	userID := stepUp.userID()
	cut := now - lockWindow
	var rawUser []byte
	var hash string
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE passwords SET
		failed_count = CASE WHEN failed_window_at <= ? THEN 1 ELSE failed_count + 1 END,
		failed_window_at = CASE WHEN failed_window_at <= ? THEN ? ELSE failed_window_at END
		WHERE user_id = (SELECT user_id FROM users WHERE email = ?) AND (? = '' OR user_id = ?)
			AND (failed_window_at <= ? OR failed_count < ?)
		RETURNING hash, `+userWhere("u.user_id = passwords.user_id"),
		cut, cut, now, email, userID, userID, cut, lockAttempts).Scan(&hash, &rawUser)
	if errors.Is(err, errNoRows) {
		return nil, "", e.whyNoAttempt(ctx, email, stepUp)
	}
	if err != nil {
		return nil, "", fmt.Errorf("engine: count login attempt: %w", err)
	}
	u := &user{}
	if err := json.Unmarshal(rawUser, u); err != nil {
		return nil, "", fmt.Errorf("engine: load user: %w", err)
	}
	// The statement's own condition makes this unreachable; a session is
	// never stepped up with another user's factor all the same.
	if err := stepUp.heldBy(u.ID); err != nil {
		return nil, "", err
	}
	return u, hash, nil
}

// whyNoAttempt names the error of a password login claimAttempt did not
// count, checking in the order a caller would: no such email, no password,
// another user's than the stepped-up session's, or locked.
func (e *Engine) whyNoAttempt(ctx context.Context, email string, stepUp *session) error {
	u, hash, err := e.userWithPassword(ctx, email)
	switch {
	case errors.Is(err, errNoRows):
		return errEmailNotFound
	case err != nil:
		return err
	case hash == "":
		return errWrongPassword
	}
	if err := stepUp.heldBy(u.ID); err != nil {
		return err
	}
	return errUserLocked
}

// passwordSucceeded clears the failure count and, when the stored hash was
// made with older parameters, replaces it: only while it is still the hash
// that was checked (checked), so that a login that read a password before
// a reset cannot write the old password back over the new one.
func (e *Engine) passwordSucceeded(ctx context.Context, userID, checked, newHash string, now int64) error {
	q, args := `UPDATE passwords SET failed_count = 0 WHERE user_id = ? AND failed_count > 0`, []any{userID}
	if newHash != "" {
		q, args = `UPDATE passwords SET failed_count = 0, hash = ?, updated_at = ? WHERE user_id = ? AND hash = ?`,
			[]any{newHash, now, userID, checked}
	}
	if _, err := e.cfg.DB.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("engine: password login: %w", err)
	}
	return nil
}
