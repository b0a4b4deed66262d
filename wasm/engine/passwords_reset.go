package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const (
	minResetMinutes     = 5
	maxResetMinutes     = 10080
	defaultResetMinutes = 30
)

// POST /v1/passwords/email/reset/start — mails a password reset link.
func (e *Engine) startEmailReset(c *call) error {
	var a struct {
		Email                          string      `json:"email"`
		ResetPasswordRedirectURL       string      `json:"reset_password_redirect_url"`
		ResetPasswordExpirationMinutes int         `json:"reset_password_expiration_minutes"`
		CodeChallenge                  string      `json:"code_challenge"`
		Attributes                     *attributes `json:"attributes"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if err := checkChallenge(a.CodeChallenge); err != nil {
		return err
	}
	addr, err := normalEmail(a.Email)
	if err != nil {
		return err
	}
	if a.ResetPasswordExpirationMinutes == 0 {
		a.ResetPasswordExpirationMinutes = defaultResetMinutes
	}
	if a.ResetPasswordExpirationMinutes < minResetMinutes || a.ResetPasswordExpirationMinutes > maxResetMinutes {
		return newError(http.StatusBadRequest, "invalid_expiration_minutes", "reset_password_expiration_minutes must be between %d and %d.", minResetMinutes, maxResetMinutes)
	}
	redirect, err := e.redirectURL(a.ResetPasswordRedirectURL)
	if err != nil {
		return err
	}
	if err := e.mailReady(); err != nil {
		return err
	}
	return e.sendToUser(c, addr, "", "", func(ctx context.Context, u *user) error {
		return e.mailReset(ctx, u, redirect, a.ResetPasswordExpirationMinutes, a.CodeChallenge)
	})
}

// mailReset stores a new reset token for u, bound to challenge when one
// was given, and mails its link. A token whose mail failed is deleted
// again.
func (e *Engine) mailReset(ctx context.Context, u *user, redirect string, minutes int, challenge string) error {
	token, err := e.newMagicLinkToken()
	if err != nil {
		return err
	}
	now, hash := e.now(), hashToken(token)
	if _, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, code_challenge)
		VALUES (?, ?, ?, ?, ?)`, hash, u.ID, now, now+int64(minutes)*60, challenge); err != nil {
		return fmt.Errorf("engine: store reset: %w", err)
	}
	err = e.sendMail(ctx, MailPasswordReset, &MailData{Email: u.Email, Link: mailedLink(redirect, "reset_password", token), ExpiresInMinutes: minutes})
	if err != nil {
		e.dropUnsent(ctx, `DELETE FROM password_resets WHERE token_hash = ?`, hash)
	}
	return err
}

// emailReset is the body of passwords/email/reset.
type emailReset struct {
	Token        string `json:"token"`
	Password     string `json:"password"`
	CodeVerifier string `json:"code_verifier"`
	loginArgs
}

func (a *emailReset) validate(*Engine) error {
	if a.Token == "" {
		return badRequest("token is required.")
	}
	return a.check()
}

// existingPasswordReset is the body of passwords/existing_password/reset.
// The new password is checked here, against the address given; the
// current one only once the user is found.
type existingPasswordReset struct {
	Email            string `json:"email"`
	ExistingPassword string `json:"existing_password"`
	NewPassword      string `json:"new_password"`
	loginArgs
	addr string // Email, normalized by validate
}

func (a *existingPasswordReset) validate(*Engine) error {
	addr, err := normalEmail(a.Email)
	if err != nil {
		return err
	}
	a.addr = addr
	if err := a.check(); err != nil {
		return err
	}
	if err := strong(a.NewPassword, addr); err != nil {
		return err
	}
	if a.NewPassword == a.ExistingPassword {
		return weakPassword("The new password must differ from the current one.")
	}
	return nil
}

// sessionPasswordReset is the body of passwords/session/reset. Its
// password's strength is checked once the session's user is known.
type sessionPasswordReset struct {
	Password string `json:"password"`
	sessionArgs
}

func (a *sessionPasswordReset) validate(*Engine) error { return a.check() }

// POST /v1/passwords/email/reset — sets a new password with a mailed
// reset token. The token works once. Every other session of the user ends;
// the caller's own step-up session, if given, is kept and gains the factor.
func (e *Engine) resetByEmail(c *call) error {
	var a emailReset
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	hash := hashToken(a.Token)
	u, usable, challenge, err := e.resetWithUser(ctx, hash)
	if err != nil {
		return err
	}
	if !usable {
		return errResetUsed
	}
	if err := checkPKCE(challenge, a.CodeVerifier); err != nil {
		return errResetPKCE
	}
	if err := strong(a.Password, u.Email); err != nil {
		return err
	}
	stepUp, err := e.stepUpSession(ctx, &a.sessionArgs, u.ID)
	if err != nil {
		return err
	}
	now := e.now()
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE password_resets SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, now, hash, now)
	if err != nil {
		return fmt.Errorf("engine: use reset: %w", err)
	}
	if err := oneRow(res, errResetUsed); err != nil {
		return err
	}
	if err := e.proveEmail(ctx, u, stepUp); err != nil {
		return err
	}
	f := factor{Type: "password", DeliveryMethod: deliveryEmail, EmailFactor: &emailFactor{EmailID: u.EmailID, EmailAddress: u.Email}}
	return e.finishReset(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, a.Password, f)
}

// resetWithUser loads a reset token's user, whether the token can still
// be used, and the code_challenge it was sent with ("" for none).
func (e *Engine) resetWithUser(ctx context.Context, hash string) (*user, bool, string, error) {
	u := &user{}
	var raw []byte
	var usable bool
	var challenge string
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT `+userObject+`, r.used_at IS NULL AND r.expires_at > ?, r.code_challenge
		FROM password_resets r JOIN users u ON u.user_id = r.user_id LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE r.token_hash = ?`, e.now(), hash).Scan(&raw, &usable, &challenge)
	if errors.Is(err, errNoRows) {
		return nil, false, "", errResetNotFound
	}
	if err == nil {
		err = json.Unmarshal(raw, u)
	}
	if err != nil {
		return nil, false, "", fmt.Errorf("engine: load reset: %w", err)
	}
	return u, usable, challenge, nil
}

// setPassword stores hash as u's password, creating it if u has none, and
// clears its failed attempts.
func (e *Engine) setPassword(ctx context.Context, u *user, hash string, now int64) error {
	id := u.PasswordID
	if id == "" {
		id = e.newID("password")
	}
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO passwords (user_id, password_id, hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at,
			failed_count = 0, failed_window_at = 0`, u.ID, id, hash, now, now)
	if err != nil {
		return fmt.Errorf("engine: set password: %w", err)
	}
	if u.PasswordID == "" {
		// A concurrent reset may have created it first; read the one stored.
		if err := e.cfg.DB.QueryRowContext(ctx, `SELECT password_id FROM passwords WHERE user_id = ?`, u.ID).Scan(&u.PasswordID); err != nil {
			return fmt.Errorf("engine: set password: %w", err)
		}
	}
	return nil
}

// POST /v1/passwords/existing_password/reset — a new password for a user
// who knows the current one. The current password is checked as a login
// checks it (an attempt counted first, the lockout applies); every other
// session of the user ends.
func (e *Engine) resetExistingPassword(c *call) error {
	var a existingPasswordReset
	if err := e.read(c, &a); err != nil {
		return err
	}
	// No rehash of the current password: it is replaced below.
	u, stepUp, err := e.checkPassword(c.r.Context(), a.addr, a.ExistingPassword, &a.sessionArgs, false)
	if err != nil {
		return err
	}
	return e.finishReset(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, a.NewPassword, passwordFactor(u))
}

// sessionResetWindow is how recent the factor a passwords/session/reset
// stands on must be, in seconds, as Stytch's: a password, or a link or
// code mailed to the user, authenticated within the last five minutes.
const sessionResetWindow = 5 * 60

var errSessionTooOld = newError(http.StatusBadRequest, "session_too_old_to_reset_password",
	"Resetting a password needs a session with a password, email magic link or email code authenticated within the last 5 minutes.")

// provenSince reports whether s lists a password, email link or email
// code factor authenticated at or after since.
func (s *session) provenSince(since int64) bool {
	for _, f := range s.Factors {
		if f.Type != "password" && (f.Type != "magic_link" && f.Type != "otp" || f.DeliveryMethod != deliveryEmail) {
			continue
		}
		if at, err := time.Parse(time.RFC3339, f.LastAuthenticatedAt); err == nil && at.Unix() >= since {
			return true
		}
	}
	return false
}

// POST /v1/passwords/session/reset — a new password for the user of a
// live session, which is kept; every other session of the user ends. The
// session must have proven the user recently (sessionResetWindow): a
// stolen session of yesterday cannot lock its owner out.
func (e *Engine) resetSessionPassword(c *call) error {
	var a sessionPasswordReset
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	s, u, err := e.liveSession(ctx, a.SessionToken, a.SessionJWT)
	if err != nil {
		return err
	}
	if !s.provenSince(e.now() - sessionResetWindow) {
		return errSessionTooOld
	}
	if err := strong(a.Password, u.Email); err != nil {
		return err
	}
	if err := a.claimsFit(s); err != nil {
		return err
	}
	return e.finishReset(c, &a.sessionArgs, ending{stepUp: s}, u, a.Password, passwordFactor(u))
}

// finishReset sets plain as u's password after its checks passed: u's
// credentials change first (a new version: every session of u but the
// one kept ends, with every outstanding reset link and intermediate
// session, and no login that read the old password can still start a
// session), then the password changes, then the login finishes in the
// kept session (how.stepUp) or a new one when a duration is given.
// Stopping half way leaves the old password with no sessions, never the
// new one beside an intruder's session. The change is conditional on the
// version u was read with, so of two resets racing one wins and the other
// changes nothing (errCredentialsChanged).
func (e *Engine) finishReset(c *call, a *sessionArgs, how ending, u *user, plain string, f factor) error {
	ctx := c.r.Context()
	hash, err := e.hasher.Hash(e.cfg.Rand, plain)
	if err != nil {
		return err
	}
	now := e.now()
	if err := e.changeCredentials(ctx, u, how.stepUp, now); err != nil {
		return err
	}
	if err := e.setPassword(ctx, u, hash, now); err != nil {
		return err
	}
	// A login that read the old hash with the version just drawn (between
	// the two statements above) would start a session under it: a second
	// version ends that one too. A crash before it leaves the new password
	// with every session from before the first change already ended.
	if err := e.changeCredentials(ctx, u, how.stepUp, now); err != nil {
		return err
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	return e.finishFactorLogin(c, a, how, u, f, nil)
}
