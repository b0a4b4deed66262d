package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Credential versions. A user's credentials_version is drawn anew whenever
// what signs the user in changes: a new password (every reset endpoint) and
// the first proof of the email by a fresh email login. Sessions and
// intermediate sessions record the version they were started under; they
// are stored only while the user's version is still the one their login
// read (insertSession, newIntermediate) and are live only while the two
// agree (session.live). The store's credentials_changed trigger ends, in
// the statement that changes the version, every session under another
// version and every outstanding reset link and intermediate session. See
// RATIONALE.md, "Why do credentials have versions?".

// newCredentialsVersion draws a version: random, nonzero, below 2^48 so
// that it survives a trip through a JavaScript number (D1).
func (e *Engine) newCredentialsVersion() (int64, error) {
	b, err := e.randomBytes(8)
	if err != nil {
		return 0, err
	}
	v := int64(binary.BigEndian.Uint64(b) >> 16)
	if v == 0 {
		v = 1
	}
	return v, nil
}

// changeCredentials gives u a new credentials version, if u's version is
// still the one u was read with; otherwise another change won the race
// and nothing is changed (errCredentialsChanged). keep, a session of u,
// is stamped with the new version first so that it outlives the change;
// if the change then loses, keep holds a version u never has and ends
// with the others.
func (e *Engine) changeCredentials(ctx context.Context, u *user, keep *session, now int64) error {
	next, err := e.newCredentialsVersion()
	if err != nil {
		return err
	}
	if keep != nil {
		if err := e.mutateSession(ctx, keep, func(s *session) error {
			s.CredentialsVersion = next
			return nil
		}); err != nil {
			return err
		}
	}
	// RETURNING, not RowsAffected, tells whether the row changed: D1
	// counts the rows the statement's triggers changed too.
	var changed int
	err = e.cfg.DB.QueryRowContext(ctx, `UPDATE users SET credentials_version = ?, credentials_changed_at = ?
		WHERE user_id = ? AND credentials_version = ? RETURNING 1`, next, now, u.ID, u.CredentialsVersion).Scan(&changed)
	// Sessions may have ended, in this change or in the one that won.
	e.revoked()
	if errors.Is(err, errNoRows) {
		return errCredentialsChanged
	}
	if err != nil {
		return fmt.Errorf("engine: change credentials: %w", err)
	}
	u.CredentialsVersion = next
	return nil
}

// proveEmail records that the user reads u's email: an email factor (a
// mailed link or code) checked out. The user becomes active too, as any
// first login makes it.
//
// The first proof ends what was started before it, unless the login steps
// up a live session of the user (stepUp): a password, an authenticator
// app, a passkey or a provider identity set while the address was unproven
// was set by whoever typed the address, not necessarily its owner, so
// they are deleted and every session ends (a new credentials version, in
// one statement with the proof; the store's triggers do the rest). A
// caller who holds a session of the user and reads the mail is the one
// who set them, so a step-up keeps them all. See RATIONALE.md, "What
// happens to a password set before the email was verified?".
func (e *Engine) proveEmail(ctx context.Context, u *user, stepUp *session) error {
	switch {
	case u.EmailVerified:
		return e.activate(ctx, u)
	case stepUp != nil:
		if _, err := e.cfg.DB.ExecContext(ctx, `UPDATE users SET email_verified = 1, status = 'active'
			WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("engine: verify email: %w", err)
		}
		u.EmailVerified, u.Status = true, statusActive
		return nil
	}
	next, err := e.newCredentialsVersion()
	if err != nil {
		return err
	}
	var got int64
	err = e.cfg.DB.QueryRowContext(ctx, `UPDATE users SET email_verified = 1, status = 'active',
		credentials_version = ?, credentials_changed_at = ?
		WHERE user_id = ? AND email_verified = 0 RETURNING credentials_version`, next, e.now(), u.ID).Scan(&got)
	if errors.Is(err, errNoRows) {
		// Proven meanwhile by a concurrent login: read what it left.
		fresh, err := e.userByID(ctx, u.ID)
		if err != nil {
			return err
		}
		*u = *fresh
		return e.activate(ctx, u)
	}
	if err != nil {
		return fmt.Errorf("engine: verify email: %w", err)
	}
	e.revoked()
	u.EmailVerified, u.Status, u.CredentialsVersion, u.PasswordID = true, statusActive, got, ""
	u.TOTPs, u.WebAuthn, u.Providers = json.RawMessage(`[]`), []webauthnView{}, []providerView{}
	return nil
}
