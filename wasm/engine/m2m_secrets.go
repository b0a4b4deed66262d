package engine

import (
	"context"
	"errors"
	"net/http"
)

// Rotating a client's secret: start gives the client a next secret beside
// its current one (both mint tokens); rotate makes the next one current,
// so the old one stops working and every token minted before ends (a feed
// event); cancel drops the next one.

var (
	errRotationPending    = newError(http.StatusBadRequest, "m2m_client_secret_rotation_in_progress", "The client already has a next secret; finish or cancel that rotation first.")
	errRotationNotStarted = newError(http.StatusBadRequest, "m2m_client_secret_rotation_not_started", "The client has no next secret; start a rotation first.")
)

// POST /v1/m2m/clients/{client_id}/secrets/rotate/start — the answer is
// the only one that shows the next secret.
func (e *Engine) startM2MRotation(c *call) error {
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	secret, err := e.newClientSecret()
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	m, err := e.updateM2MReturning(ctx, `next_secret_hash = ?, next_secret_last_four = ?`,
		`client_id = ? AND next_secret_hash IS NULL`, hashToken(secret), lastFour(secret), id)
	if err != nil {
		return e.rotationRefused(ctx, id, err, errRotationPending)
	}
	v := m.view()
	v.NextClientSecret = secret
	c.reply(map[string]any{"m2m_client": v})
	return nil
}

// POST /v1/m2m/clients/{client_id}/secrets/rotate/cancel
func (e *Engine) cancelM2MRotation(c *call) error {
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	m, err := e.updateM2MReturning(ctx, `next_secret_hash = NULL, next_secret_last_four = NULL`,
		`client_id = ? AND next_secret_hash IS NOT NULL`, id)
	if err != nil {
		return e.rotationRefused(ctx, id, err, errRotationNotStarted)
	}
	c.reply(map[string]any{"m2m_client": m.view()})
	return nil
}

// POST /v1/m2m/clients/{client_id}/secrets/rotate — the trigger on
// secret_hash writes the client's feed event in this statement.
func (e *Engine) finishM2MRotation(c *call) error {
	id, err := pathClientID(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	m, err := e.updateM2MReturning(ctx, `secret_hash = next_secret_hash, secret_last_four = next_secret_last_four,
		next_secret_hash = NULL, next_secret_last_four = NULL, changed_at = ?`,
		`client_id = ? AND next_secret_hash IS NOT NULL`, e.now(), id)
	if err != nil {
		return e.rotationRefused(ctx, id, err, errRotationNotStarted)
	}
	e.revoked()
	c.reply(map[string]any{"m2m_client": m.view()})
	return nil
}

// rotationRefused explains a rotation step that changed no row: the
// client is not there, or is not in the state the step needs (state).
func (e *Engine) rotationRefused(ctx context.Context, id string, err, state error) error {
	if !errors.Is(err, errNoRows) {
		return err
	}
	if _, err := e.m2mClientByID(ctx, id); err != nil {
		return err
	}
	return state
}
