package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

const (
	// maxMetadataKeys and maxMetadataBytes bound each metadata object.
	maxMetadataKeys  = 20
	maxMetadataBytes = 4096
	maxNameBytes     = 256
)

var (
	errInvalidMetadata  = newError(http.StatusBadRequest, "invalid_metadata", "trusted_metadata and untrusted_metadata must be JSON objects of at most %d top-level keys.", maxMetadataKeys)
	errMetadataTooLarge = newError(http.StatusBadRequest, "metadata_too_large", "trusted_metadata and untrusted_metadata must each serialise to at most %d bytes.", maxMetadataBytes)
)

// nameUpdate is the name of PUT /v1/users: only the members given change.
type nameUpdate struct {
	FirstName  *string `json:"first_name"`
	MiddleName *string `json:"middle_name"`
	LastName   *string `json:"last_name"`
}

func (n *nameUpdate) validate() error {
	return checkNameParts(n.FirstName, n.MiddleName, n.LastName)
}

// checkNameParts bounds the name parts given (nil for one not given), for
// a new user and a changed one alike.
func checkNameParts(parts ...*string) error {
	for _, p := range parts {
		if p != nil && (len(*p) > maxNameBytes || hasControl(*p)) {
			return badRequest("name parts may be at most %d bytes, without control characters.", maxNameBytes)
		}
	}
	return nil
}

// PUT /v1/users/{user_id} — changes the name and merges metadata: a
// top-level key given overwrites, one set to null is deleted, others stay.
func (e *Engine) updateUser(c *call) error {
	var a struct {
		Name              *nameUpdate     `json:"name"`
		TrustedMetadata   json.RawMessage `json:"trusted_metadata"`
		UntrustedMetadata json.RawMessage `json:"untrusted_metadata"`
		Attributes        *attributes     `json:"attributes"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	trusted, err := metadataUpdate(a.TrustedMetadata)
	if err != nil {
		return err
	}
	untrusted, err := metadataUpdate(a.UntrustedMetadata)
	if err != nil {
		return err
	}
	u, err := e.pathUser(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	for range updateAttempts {
		next := *u
		if a.Name != nil {
			for _, f := range []struct {
				to   *string
				from *string
			}{{&next.FirstName, a.Name.FirstName}, {&next.MiddleName, a.Name.MiddleName}, {&next.LastName, a.Name.LastName}} {
				if f.from != nil {
					*f.to = *f.from
				}
			}
		}
		if next.TrustedMetadata, err = mergeMetadata(u.TrustedMetadata, trusted); err != nil {
			return err
		}
		if next.UntrustedMetadata, err = mergeMetadata(u.UntrustedMetadata, untrusted); err != nil {
			return err
		}
		err = e.writeUser(ctx, u, &next)
		if !errors.Is(err, errConflict) {
			if err != nil {
				return err
			}
			view := next.view()
			c.reply(map[string]any{"user_id": next.ID, "emails": view.Emails, "phone_numbers": view.PhoneNumbers,
				"crypto_wallets": view.CryptoWallets, "user": view})
			return nil
		}
		if u, err = e.userByID(ctx, u.ID); err != nil {
			return err
		}
	}
	return fmt.Errorf("engine: user %s: %w", u.ID, errConflict)
}

// metadataUpdate reads a metadata update: an object (members named once),
// or nothing.
func metadataUpdate(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	m, err := objectMembers(raw)
	if err != nil {
		return nil, errInvalidMetadata
	}
	return m, nil
}

// mergeMetadata applies update to the stored object have, at the top
// level only, and checks the result's bounds.
func mergeMetadata(have string, update map[string]json.RawMessage) (string, error) {
	if update == nil {
		return have, nil
	}
	out := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(have), &out); err != nil {
		return "", fmt.Errorf("engine: stored metadata: %w", err)
	}
	for k, v := range update {
		if isNull(v) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	if len(out) > maxMetadataKeys {
		return "", errInvalidMetadata
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", errInvalidMetadata
	}
	if len(b) > maxMetadataBytes {
		return "", errMetadataTooLarge
	}
	return string(b), nil
}

// writeUser stores next's name and metadata if the row still holds
// prev's: a concurrent update that got there first is errConflict, and the
// caller merges again onto what it wrote.
func (e *Engine) writeUser(ctx context.Context, prev, next *user) error {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE users SET first_name = ?, middle_name = ?, last_name = ?,
		trusted_metadata = ?, untrusted_metadata = ?
		WHERE user_id = ? AND first_name = ? AND middle_name = ? AND last_name = ?
			AND trusted_metadata = ? AND untrusted_metadata = ?`,
		next.FirstName, next.MiddleName, next.LastName, next.TrustedMetadata, next.UntrustedMetadata,
		prev.ID, prev.FirstName, prev.MiddleName, prev.LastName, prev.TrustedMetadata, prev.UntrustedMetadata)
	if err != nil {
		return fmt.Errorf("engine: update user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("engine: update user: %w", err)
	}
	if n == 0 {
		return errConflict
	}
	return nil
}

// DELETE /v1/users/passwords/{password_id}
func (e *Engine) deletePassword(c *call) error {
	id := c.r.PathValue("password_id")
	if !e.validID("password", id) {
		return newError(http.StatusBadRequest, "invalid_password_id", "password_id is malformed.")
	}
	ctx := c.r.Context()
	var userID string
	err := e.cfg.DB.QueryRowContext(ctx, `DELETE FROM passwords WHERE password_id = ? RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, errNoRows) {
		return newError(http.StatusNotFound, "password_not_found", "Password could not be found.")
	}
	if err != nil {
		return fmt.Errorf("engine: delete password: %w", err)
	}
	u, err := e.userByID(ctx, userID)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "user": u.view()})
	return nil
}
