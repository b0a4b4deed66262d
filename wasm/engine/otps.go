package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

const (
	minOTPMinutes     = 1
	maxOTPMinutes     = 10
	defaultOTPMinutes = 2
	// otpAttempts wrong codes kill a code.
	otpAttempts = 5
	otpDigits   = 6
)

// otpSendArgs are the fields of otps/email/login_or_create and otps/email/send.
type otpSendArgs struct {
	Email               string      `json:"email"`
	ExpirationMinutes   int         `json:"expiration_minutes"`
	Attributes          *attributes `json:"attributes"`
	CreateUserAsPending bool        `json:"create_user_as_pending"`
	SessionToken        string      `json:"session_token"`
	SessionJWT          string      `json:"session_jwt"`
}

func (e *Engine) checkOTPArgs(a *otpSendArgs) (string, error) {
	addr, err := normalEmail(a.Email)
	if err != nil {
		return "", err
	}
	if a.ExpirationMinutes == 0 {
		a.ExpirationMinutes = defaultOTPMinutes
	}
	if a.ExpirationMinutes < minOTPMinutes || a.ExpirationMinutes > maxOTPMinutes {
		return "", errOTPExpiration
	}
	if a.SessionToken != "" && a.SessionJWT != "" {
		return "", errTooManySessionArgs
	}
	return addr, e.mailReady()
}

// POST /v1/otps/email/login_or_create
func (e *Engine) loginOrCreateEmailOTP(c *call) error {
	var a otpSendArgs
	if err := c.decode(&a); err != nil {
		return err
	}
	if a.SessionToken != "" || a.SessionJWT != "" {
		return badRequest("login_or_create takes no session; use otps/email/send.")
	}
	addr, err := e.checkOTPArgs(&a)
	if err != nil {
		return err
	}
	return e.loginOrCreate(c, addr, a.CreateUserAsPending, func(ctx context.Context, u *user, _ bool) error {
		return e.mailOTP(ctx, u, a.ExpirationMinutes)
	})
}

// POST /v1/otps/email/send
func (e *Engine) sendEmailOTP(c *call) error {
	var a otpSendArgs
	if err := c.decode(&a); err != nil {
		return err
	}
	addr, err := e.checkOTPArgs(&a)
	if err != nil {
		return err
	}
	return e.sendToUser(c, addr, a.SessionToken, a.SessionJWT, func(ctx context.Context, u *user) error { return e.mailOTP(ctx, u, a.ExpirationMinutes) })
}

// mailOTP stores a new code for u's email, replacing any earlier one, and
// mails it. A code whose mail failed is deleted again.
func (e *Engine) mailOTP(ctx context.Context, u *user, minutes int) error {
	code, err := e.newOTP()
	if err != nil {
		return err
	}
	now := e.now()
	hash := e.otpHash(u.EmailID, code)
	_, err = e.cfg.DB.ExecContext(ctx, `INSERT INTO email_otps (email_id, user_id, code_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (email_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at,
			expires_at = excluded.expires_at, attempts = 0, used_at = NULL`,
		u.EmailID, u.ID, hash, now, now+int64(minutes)*60)
	if err != nil {
		return fmt.Errorf("engine: store code: %w", err)
	}
	err = e.sendMail(ctx, MailOTP, &MailData{Email: u.Email, Code: code, ExpiresInMinutes: minutes})
	if err != nil {
		e.dropUnsent(ctx, `DELETE FROM email_otps WHERE email_id = ? AND code_hash = ?`, u.EmailID, hash)
	}
	return err
}

// newOTP returns a code of otpDigits decimal digits, uniform over all of
// them: 32-bit draws at or above the largest multiple of 10^6 are redrawn.
func (e *Engine) newOTP() (string, error) {
	const space = 1_000_000
	const limit = (1 << 32) / space * space
	var b [4]byte
	for {
		if _, err := io.ReadFull(e.cfg.Rand, b[:]); err != nil {
			return "", fmt.Errorf("engine: randomness: %w", err)
		}
		if n := binary.BigEndian.Uint32(b[:]); n < limit {
			return fmt.Sprintf("%06d", n%space), nil
		}
	}
}

// otpHash is how a code is stored: an HMAC-SHA256 under a key derived from
// the project secret, bound to its email. A 6-digit code hashed without a
// key would be found from a database read by trying all million.
func (e *Engine) otpHash(emailID, code string) string {
	m := hmac.New(sha256.New, e.otpKey[:])
	m.Write([]byte(emailID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// otpAuthenticate is the body of otps/authenticate.
type otpAuthenticate struct {
	MethodID string `json:"method_id"`
	Code     string `json:"code"`
	loginArgs
}

func (a *otpAuthenticate) validate(e *Engine) error {
	if !e.validID("email", a.MethodID) {
		return errInvalidMethodID
	}
	if !sixDigits(a.Code) {
		return errInvalidCode
	}
	return a.check()
}

// POST /v1/otps/authenticate — a code works once, also under concurrent
// calls; an attempt is counted before the code is compared (as a password
// attempt is), and otpAttempts wrong codes kill it. A login is two D1
// round trips (the code used with its user read, the session written),
// three with a session to step up or an email proven for the first time.
func (e *Engine) authenticateOTP(c *call) error {
	var a otpAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	stepUp, err := e.liveStepUp(ctx, &a.sessionArgs)
	if err != nil {
		return err
	}
	u, err := e.useOTP(ctx, a.MethodID, a.Code, stepUp)
	if err != nil {
		return err
	}
	if err := e.proveEmail(ctx, u, stepUp); err != nil {
		return err
	}
	f := factor{Type: "otp", DeliveryMethod: deliveryEmail, EmailFactor: &emailFactor{EmailID: u.EmailID, EmailAddress: u.Email}}
	return e.finishFactorLogin(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, f,
		map[string]any{"method_id": a.MethodID, "reset_sessions": false})
}

func sixDigits(s string) bool {
	if len(s) != otpDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// useOTP counts an attempt on the email's live code (sent, unused,
// unexpired), uses the code if it matches and reads the code's user, all in
// one conditional statement (one D1 round trip): however many race, at
// most otpAttempts are counted and one wins. A step-up touches only a code
// of the session's user. Why nothing was tried is asked afterwards, on
// failures only (whyNoOTP).
func (e *Engine) useOTP(ctx context.Context, emailID, code string, stepUp *session) (*user, error) {
	userID := stepUp.userID()
	now := e.now()
	var used bool
	var raw []byte
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE email_otps SET attempts = attempts + 1,
		used_at = CASE WHEN code_hash = ? THEN ? END
		WHERE email_id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ? AND (? = '' OR user_id = ?)
		RETURNING used_at IS NOT NULL, CASE WHEN used_at IS NOT NULL THEN `+userWhere("u.user_id = email_otps.user_id")+` END`,
		e.otpHash(emailID, code), now, emailID, now, otpAttempts, userID, userID).Scan(&used, &raw)
	if errors.Is(err, errNoRows) {
		return nil, e.whyNoOTP(ctx, emailID, stepUp, now)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: use code: %w", err)
	}
	if !used {
		return nil, errOTPWrong
	}
	u, err := optionalJSON[user](raw)
	if err != nil {
		return nil, fmt.Errorf("engine: load code's user: %w", err)
	}
	if u == nil {
		// The code outlived its user (a deletion under way): as if unsent.
		return nil, errOTPNotFound
	}
	// The statement's own condition makes this unreachable; a session is
	// never stepped up with another user's factor all the same.
	if err := stepUp.heldBy(u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

// whyNoOTP names the error of a code useOTP could not try: none live
// (never sent, used or expired), another user's than the stepped-up
// session's, or dead after otpAttempts wrong codes.
func (e *Engine) whyNoOTP(ctx context.Context, emailID string, stepUp *session, now int64) error {
	var owner string
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT user_id FROM email_otps
		WHERE email_id = ? AND used_at IS NULL AND expires_at > ?`, emailID, now).Scan(&owner)
	switch {
	case errors.Is(err, errNoRows):
		return errOTPNotFound
	case err != nil:
		return fmt.Errorf("engine: load code: %w", err)
	}
	if err := stepUp.heldBy(owner); err != nil {
		return err
	}
	return errOTPWrong
}
