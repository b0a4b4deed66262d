package engine

import (
	"context"
	"errors"
	"fmt"
)

// The statements on M2M clients. Each is one statement; the feed's client
// events are written by the triggers of migration 0008 in the same
// statement as the change that ends a client's tokens.

// m2mClientObject is an m2m_clients row as one JSON object (see
// userObject). Its columns are named bare, so that it serves as a SELECT
// list and as a RETURNING clause alike.
const m2mClientObject = `json_object('client_id', client_id, 'client_name', client_name,
	'client_description', client_description, 'status', status, 'scopes', scopes,
	'trusted_metadata', trusted_metadata, 'secret_hash', secret_hash, 'secret_last_four', secret_last_four,
	'next_secret_hash', next_secret_hash, 'next_secret_last_four', next_secret_last_four,
	'created_at', created_at, 'failed_count', failed_count, 'failed_window_at', failed_window_at)`

func (e *Engine) insertM2MClient(ctx context.Context, m *m2mClient) error {
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO m2m_clients (client_id, client_name, client_description,
		status, scopes, trusted_metadata, secret_hash, secret_last_four, created_at, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Name, m.Description, m.Status, m.Scopes, m.TrustedMetadata, m.SecretHash, m.SecretLastFour,
		m.CreatedAt, m.CreatedAt)
	if isUniqueViolation(err) {
		return errDuplicateClientID
	}
	if err != nil {
		return fmt.Errorf("engine: insert m2m client: %w", err)
	}
	return nil
}

// m2mClientByID loads a client, or m2m_client_not_found.
func (e *Engine) m2mClientByID(ctx context.Context, id string) (*m2mClient, error) {
	m := &m2mClient{}
	err := scanJSON(e.cfg.DB.QueryRowContext(ctx, `SELECT `+m2mClientObject+` FROM m2m_clients WHERE client_id = ?`, id), m)
	if errors.Is(err, errNoRows) {
		return nil, errM2MClientNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load m2m client: %w", err)
	}
	return m, nil
}

// writeM2MClient stores next's name, description, status, scopes and
// metadata if the row still holds prev's; errConflict otherwise.
func (e *Engine) writeM2MClient(ctx context.Context, prev, next *m2mClient, now int64) error {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE m2m_clients SET client_name = ?, client_description = ?,
		status = ?, scopes = ?, trusted_metadata = ?, changed_at = ?
		WHERE client_id = ? AND client_name = ? AND client_description = ? AND status = ? AND scopes = ?
			AND trusted_metadata = ?`,
		next.Name, next.Description, next.Status, next.Scopes, next.TrustedMetadata, now,
		prev.ID, prev.Name, prev.Description, prev.Status, prev.Scopes, prev.TrustedMetadata)
	if err != nil {
		return fmt.Errorf("engine: update m2m client: %w", err)
	}
	// Nothing changed is a conflict; a count above one is the feed event
	// of a deactivation, on a driver that counts what triggers write.
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: update m2m client: %w", err)
	}
	if n == 0 {
		return errConflict
	}
	return nil
}

// deleteM2MClientRow deletes a client by setting deleted_at: the trigger
// writes the feed event and removes the row, in this one statement.
func (e *Engine) deleteM2MClientRow(ctx context.Context, id string, now int64) error {
	var got string
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE m2m_clients SET deleted_at = ?
		WHERE client_id = ? AND deleted_at IS NULL RETURNING client_id`, now, id).Scan(&got)
	if errors.Is(err, errNoRows) {
		return errM2MClientNotFound
	}
	if err != nil {
		return fmt.Errorf("engine: delete m2m client: %w", err)
	}
	return nil
}

// updateM2MReturning runs an UPDATE of one client (set and where, with
// args) and returns the row as it left it; errNoRows when no row matched.
func (e *Engine) updateM2MReturning(ctx context.Context, set, where string, args ...any) (*m2mClient, error) {
	m := &m2mClient{}
	err := scanJSON(e.cfg.DB.QueryRowContext(ctx, `UPDATE m2m_clients SET `+set+` WHERE `+where+` RETURNING `+m2mClientObject, args...), m)
	if errors.Is(err, errNoRows) {
		return nil, errNoRows
	}
	if err != nil {
		return nil, fmt.Errorf("engine: update m2m client: %w", err)
	}
	return m, nil
}
