package engine

import (
	"context"
	"errors"
	"fmt"
)

const (
	// lockAttempts failed logins within lockWindow seconds lock a user's
	// password until the window passes.
	lockAttempts = 10
	lockWindow   = 3600
)

type passwordRow struct {
	Hash           string
	FailedCount    int64
	FailedWindowAt int64
}

// locked reports whether the row's failure window still locks the user.
func (p *passwordRow) locked(now int64) bool {
	return p.FailedCount >= lockAttempts && now-p.FailedWindowAt < lockWindow
}

func (e *Engine) insertPassword(ctx context.Context, userID, passwordID, hash string, now int64) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO passwords (user_id, password_id, hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)`, userID, passwordID, hash, now, now)
	if err != nil {
		return fmt.Errorf("engine: insert password: %w", err)
	}
	return nil
}

func (e *Engine) passwordOf(ctx context.Context, userID string) (*passwordRow, error) {
	p := &passwordRow{}
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT hash, failed_count, failed_window_at FROM passwords
		WHERE user_id = ?`, userID).Scan(&p.Hash, &p.FailedCount, &p.FailedWindowAt)
	if errors.Is(err, errNoRows) {
		return nil, errNoRows
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load password: %w", err)
	}
	return p, nil
}

// recordFailure counts a failed login in one statement: a failure after
// the window has passed starts a new window.
func (e *Engine) recordFailure(ctx context.Context, userID string, now int64) error {
	_, err := e.cfg.DB.ExecContext(ctx, `UPDATE passwords SET
		failed_count = CASE WHEN failed_window_at <= ? THEN 1 ELSE failed_count + 1 END,
		failed_window_at = CASE WHEN failed_window_at <= ? THEN ? ELSE failed_window_at END
		WHERE user_id = ?`, now-lockWindow, now-lockWindow, now, userID)
	if err != nil {
		return fmt.Errorf("engine: record failed login: %w", err)
	}
	return nil
}

// passwordSucceeded clears the failure count and, when the stored hash was
// made with older parameters, replaces it.
func (e *Engine) passwordSucceeded(ctx context.Context, userID, newHash string, now int64) error {
	q, args := `UPDATE passwords SET failed_count = 0 WHERE user_id = ? AND failed_count > 0`, []any{userID}
	if newHash != "" {
		q, args = `UPDATE passwords SET failed_count = 0, hash = ?, updated_at = ? WHERE user_id = ?`, []any{newHash, now, userID}
	}
	if _, err := e.cfg.DB.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("engine: password login: %w", err)
	}
	return nil
}
