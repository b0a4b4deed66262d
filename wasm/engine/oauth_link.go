package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/latchauth/latch/wasm/oauth"
)

// Linking a provider identity to a user. An identity belongs to one user,
// found by (provider, subject). On first sight it joins the user with the
// same address only when the provider says it verified the address, and
// that counts as proof of the address (proveEmail: a password set by
// whoever typed an unproven address is dropped). An identity whose address
// the provider did not verify gets a user of its own without an address,
// so that the address stays free for whoever owns it. See RATIONALE.md,
// "Which user does a provider identity sign in?".

// linkIdentity returns the user id signs in, the id of its registration,
// and whether the user was created now. attachTo, when set, is the user a
// start with an oauth_attach_token adds the provider to.
func (e *Engine) linkIdentity(ctx context.Context, provider string, id *oauth.Identity, attachTo string) (*user, string, bool, error) {
	reg, owner, u, err := e.registration(ctx, provider, id.Subject)
	switch {
	case err == nil && attachTo != "" && owner != attachTo:
		return nil, "", false, errOAuthLinked
	case err == nil && u == nil:
		return nil, "", false, errUserNotFound
	case err == nil:
		return u, reg, false, nil
	case !errors.Is(err, errNoRows):
		return nil, "", false, err
	}
	email := ""
	if id.EmailVerified {
		if addr, err := normalEmail(id.Email); err == nil {
			email = addr
		}
	}
	created := false
	switch {
	case attachTo != "":
		if u, err = e.userByID(ctx, attachTo); err != nil {
			return nil, "", false, err
		}
	case email != "":
		if u, created, err = e.userForEmail(ctx, email, false); err != nil {
			return nil, "", false, err
		}
	default:
		u = &user{ID: e.newID("user"), CreatedAt: e.now(), Status: statusActive, TrustedMetadata: "{}", UntrustedMetadata: "{}"}
		if err := e.insertUser(ctx, u); err != nil {
			return nil, "", false, err
		}
		created = true
	}
	if created {
		u.FirstName, u.LastName = clipName(id.GivenName), clipName(id.FamilyName)
		if _, err := e.cfg.DB.ExecContext(ctx, `UPDATE users SET first_name = ?, last_name = ? WHERE user_id = ?`,
			u.FirstName, u.LastName, u.ID); err != nil {
			return nil, "", false, fmt.Errorf("engine: oauth user: %w", err)
		}
	}
	proves := email != "" && attachTo == "" && u.Email == email
	if proves {
		// The provider proved the address: the first proof ends what was
		// started under an unproven one, identities linked to the user
		// then among it, so it comes before this identity's link.
		if err := e.proveEmail(ctx, u, nil); err != nil {
			return nil, "", false, err
		}
	}
	reg = e.newID("oauth-user-registration")
	_, err = e.cfg.DB.ExecContext(ctx, `INSERT INTO oauth_registrations (registration_id, user_id, provider,
		subject, email, profile_picture_url, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		reg, u.ID, provider, id.Subject, clipField(id.Email, 254), clipField(id.PictureURL, 2048), clipField(id.Locale, 35), e.now())
	if isUniqueViolation(err) {
		// Linked meanwhile by a concurrent callback: that link stands,
		// and a user made for this one is not kept.
		if created {
			_ = e.deleteUserRows(ctx, u.ID, e.now())
		}
		return e.linkIdentity(ctx, provider, id, attachTo)
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("engine: oauth registration: %w", err)
	}
	if !proves {
		if err := e.activate(ctx, u); err != nil {
			return nil, "", false, err
		}
	}
	return u, reg, created, nil
}

// registration finds the registration of (provider, subject), the id of
// its user and, in the same statement, the user (nil if there is none).
func (e *Engine) registration(ctx context.Context, provider, subject string) (string, string, *user, error) {
	var reg, owner string
	var raw []byte
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT x.registration_id, x.user_id, `+userWhere("u.user_id = x.user_id")+`
		FROM oauth_registrations x WHERE x.provider = ? AND x.subject = ?`, provider, subject).Scan(&reg, &owner, &raw)
	if errors.Is(err, errNoRows) {
		return "", "", nil, err
	}
	var u *user
	if err == nil {
		u, err = optionalJSON[user](raw)
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("engine: oauth registration: %w", err)
	}
	return reg, owner, u, nil
}

// clipName bounds a name a provider gave as the API bounds names.
func clipName(s string) string { return clipField(s, maxNameBytes) }

func clipField(s string, n int) string {
	if len(s) > n || hasControl(s) {
		return ""
	}
	return s
}

// consumeAttachToken spends an oauth_attach_token for provider and
// returns the user it adds the provider to.
func (e *Engine) consumeAttachToken(ctx context.Context, token, provider string) (string, error) {
	var owner string
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE oauth_attach_tokens SET used_at = ?
		WHERE token_hash = ? AND provider = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		e.now(), hashToken(token), provider, e.now()).Scan(&owner)
	if errors.Is(err, errNoRows) {
		return "", errOAuthAttach
	}
	if err != nil {
		return "", fmt.Errorf("engine: oauth attach: %w", err)
	}
	return owner, nil
}

// DELETE /v1/users/oauth/{oauth_user_registration_id} — removes a provider
// identity from its user, and with it the tokens its sign-ins left
// unredeemed. The identity, seen again, is linked anew.
func (e *Engine) deleteOAuthRegistration(c *call) error {
	id := c.r.PathValue("oauth_user_registration_id")
	if !e.validID("oauth-user-registration", id) {
		return newError(http.StatusBadRequest, "invalid_oauth_user_registration_id", "oauth_user_registration_id is malformed.")
	}
	ctx := c.r.Context()
	var userID string
	err := e.cfg.DB.QueryRowContext(ctx, `DELETE FROM oauth_registrations WHERE registration_id = ? RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, errNoRows) {
		return newError(http.StatusNotFound, "oauth_user_registration_not_found", "The OAuth user registration could not be found.")
	}
	if err != nil {
		return fmt.Errorf("engine: delete oauth registration: %w", err)
	}
	if _, err := e.cfg.DB.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE registration_id = ?`, id); err != nil {
		return fmt.Errorf("engine: delete oauth registration: %w", err)
	}
	u, err := e.userByID(ctx, userID)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "user": u.view()})
	return nil
}
