package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/skip2/go-qrcode"
)

// TOTP as RFC 6238 says and authenticator apps expect: HMAC-SHA1, six
// digits, 30-second steps, a code of the step before or after accepted.
const (
	totpStep          = 30
	totpSkew          = 1
	totpSecretBytes   = 20
	recoveryCodeCount = 10
	defaultTOTPMins   = 60
	minTOTPMins       = 5
	maxTOTPMins       = 1440
)

var (
	errTOTPUnavailable = newError(http.StatusServiceUnavailable, "totp_unavailable", "This Latch has no secret box configured for TOTP.")
	errTOTPNotFound    = newError(http.StatusNotFound, "totp_not_found", "The user has no authenticator app to check this code against.")
	errTOTPExists      = newError(http.StatusBadRequest, "totp_already_exists", "The user already has a verified authenticator app; delete it first.")
	errTOTPCode        = newError(http.StatusUnauthorized, "unable_to_auth_totp_code", "The code is incorrect or was already used.")
	errRecoveryCode    = newError(http.StatusUnauthorized, "unable_to_auth_recovery_code", "The recovery code is incorrect or was already used.")
	errInvalidTOTPCode = newError(http.StatusBadRequest, "invalid_totp_code", "totp_code must be 6 digits.")
	errInvalidTOTPID   = newError(http.StatusBadRequest, "invalid_totp_id", "totp_id is malformed.")
	errTOTPExpiration  = newError(http.StatusBadRequest, "invalid_expiration_minutes", "expiration_minutes must be between %d and %d.", minTOTPMins, maxTOTPMins)
	base32NoPad        = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// recoveryCodeAlphabet leaves out what reads alike: 0/o, 1/l/i.
const recoveryCodeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// totpCode is the RFC 4226 HOTP value of secret at counter step.
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// otpauthURI is what the QR code holds, for authenticator apps.
func otpauthURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{"secret": {base32NoPad.EncodeToString(secret)}, "issuer": {issuer},
		"algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

func (e *Engine) totpReady() error {
	if e.cfg.SecretBox == nil {
		return errTOTPUnavailable
	}
	return nil
}

// recoveryHash is how a recovery code is stored: an HMAC under a key
// derived from the project secret, bound to the user.
func (e *Engine) recoveryHash(userID, code string) string {
	m := hmac.New(sha256.New, e.otpKey[:])
	m.Write([]byte("recovery\x00" + userID + "\x00" + normalRecoveryCode(code)))
	return hex.EncodeToString(m.Sum(nil))
}

// normalRecoveryCode lets a code be typed in either case, with or
// without its dashes and spaces.
func normalRecoveryCode(s string) string {
	return lowerASCII(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// newRecoveryCode returns a code of 12 letters and digits in three groups
// (about 59 bits), drawn without bias.
func (e *Engine) newRecoveryCode() (string, error) {
	var b strings.Builder
	var one [1]byte
	limit := byte(256 / len(recoveryCodeAlphabet) * len(recoveryCodeAlphabet))
	for b.Len() < 14 {
		if b.Len() == 4 || b.Len() == 9 {
			b.WriteByte('-')
			continue
		}
		if _, err := io.ReadFull(e.cfg.Rand, one[:]); err != nil {
			return "", fmt.Errorf("engine: randomness: %w", err)
		}
		if one[0] < limit {
			b.WriteByte(recoveryCodeAlphabet[int(one[0])%len(recoveryCodeAlphabet)])
		}
	}
	return b.String(), nil
}

// POST /v1/totps — starts enrolling an authenticator app: a new secret,
// its QR code and ten recovery codes. The TOTP is verified by its first
// accepted code, which must come within expiration_minutes.
func (e *Engine) createTOTP(c *call) error {
	var a struct {
		UserID            string `json:"user_id"`
		ExpirationMinutes int    `json:"expiration_minutes"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if !e.validID("user", a.UserID) {
		return errInvalidUserID
	}
	if a.ExpirationMinutes == 0 {
		a.ExpirationMinutes = defaultTOTPMins
	}
	if a.ExpirationMinutes < minTOTPMins || a.ExpirationMinutes > maxTOTPMins {
		return errTOTPExpiration
	}
	if err := e.totpReady(); err != nil {
		return err
	}
	ctx := c.r.Context()
	u, err := e.userByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	var verified int
	if err := e.cfg.DB.QueryRowContext(ctx, `SELECT count(*) FROM totps WHERE user_id = ? AND verified = 1`, u.ID).Scan(&verified); err != nil {
		return fmt.Errorf("engine: totps: %w", err)
	}
	if verified > 0 {
		return errTOTPExists
	}
	secret := make([]byte, totpSecretBytes)
	if _, err := io.ReadFull(e.cfg.Rand, secret); err != nil {
		return fmt.Errorf("engine: randomness: %w", err)
	}
	codes := make([]string, recoveryCodeCount)
	for i := range codes {
		if codes[i], err = e.newRecoveryCode(); err != nil {
			return err
		}
	}
	sealedSecret, err := e.cfg.SecretBox.Seal(ctx, secret)
	if err != nil {
		return fmt.Errorf("engine: seal totp secret: %w", err)
	}
	rawCodes, _ := json.Marshal(codes)
	sealedCodes, err := e.cfg.SecretBox.Seal(ctx, rawCodes)
	if err != nil {
		return fmt.Errorf("engine: seal recovery codes: %w", err)
	}
	uri := otpauthURI(e.cfg.ProjectName, u.Email, secret)
	// Eight pixels a module, a whole number, so every module is a crisp
	// square: scaled to a fixed width, some codes did not scan.
	png, err := qrcode.Encode(uri, qrcode.Medium, -8)
	if err != nil {
		return fmt.Errorf("engine: qr code: %w", err)
	}
	totpID := e.newID("totp")
	now := e.now()
	if err := e.insertTOTP(ctx, u.ID, totpID, sealedSecret, sealedCodes, codes, now, now+int64(a.ExpirationMinutes)*60); err != nil {
		return err
	}
	c.reply(map[string]any{
		"totp_id": totpID, "secret": base32NoPad.EncodeToString(secret),
		"qr_code":        "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		"recovery_codes": codes, "user_id": u.ID, "user": u.view(),
	})
	return nil
}

// insertTOTP stores a new TOTP and its recovery codes, and drops the
// user's earlier unverified ones. The codes go in first and the TOTP row
// last: codes are only usable beside their TOTP, so stopping half way
// leaves nothing usable.
func (e *Engine) insertTOTP(ctx context.Context, userID, totpID string, secret, codes []byte, plain []string, now, expires int64) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO recovery_codes (code_hash, code_id, totp_id, user_id) VALUES `)
	args := make([]any, 0, 4*len(plain))
	for i, code := range plain {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, e.recoveryHash(userID, code), e.newID("totp-recovery-code"), totpID, userID)
	}
	if _, err := e.cfg.DB.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("engine: insert recovery codes: %w", err)
	}
	if _, err := e.cfg.DB.ExecContext(ctx, `DELETE FROM totps WHERE user_id = ? AND verified = 0`, userID); err != nil {
		return fmt.Errorf("engine: drop unverified totps: %w", err)
	}
	_, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO totps (totp_id, user_id, secret_sealed, codes_sealed, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, totpID, userID, base64.StdEncoding.EncodeToString(secret),
		base64.StdEncoding.EncodeToString(codes), now, expires)
	if err != nil {
		return fmt.Errorf("engine: insert totp: %w", err)
	}
	return nil
}

// storedTOTP is a TOTP row as the checks need it, read as totpObject.
type storedTOTP struct {
	ID       string `json:"totp_id"`
	Secret   string `json:"secret_sealed"`
	Codes    string `json:"codes_sealed"`
	Verified bool   `json:"verified"`
	LastStep int64  `json:"last_step"`
}

// totpObject reads, as one JSON object (NULL when there is none), the
// TOTP of user u codes are checked against: its verified one, or else its
// unverified one still within its enrolment window. Its one parameter is
// now. A login reads it with the user, in the statement that reads the
// user (userWithTOTP, liveIntermediate).
const totpObject = `json((SELECT json_object('totp_id', totp_id, 'secret_sealed', secret_sealed,
		'codes_sealed', codes_sealed, 'verified', json(iif(verified, 'true', 'false')), 'last_step', last_step)
	FROM totps WHERE user_id = u.user_id AND (verified = 1 OR expires_at > ?)
	ORDER BY verified DESC, created_at DESC LIMIT 1))`

// userWithTOTP loads a user and its TOTP (totpObject; nil when it has
// none) in one statement, or answers user_not_found.
func (e *Engine) userWithTOTP(ctx context.Context, id string) (*user, *storedTOTP, error) {
	u, rawTOTP, err := e.userAnd(ctx, id, totpObject, e.now())
	if err != nil {
		return nil, nil, err
	}
	t, err := optionalJSON[storedTOTP](rawTOTP)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load totp: %w", err)
	}
	return u, t, nil
}

// open unseals a base64 column.
func (e *Engine) open(ctx context.Context, col string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(col)
	if err != nil {
		return nil, fmt.Errorf("engine: sealed value: %w", err)
	}
	out, err := e.cfg.SecretBox.Open(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("engine: open sealed value: %w", err)
	}
	return out, nil
}

// claimTOTPAttempt counts a code attempt against the TOTP before the code
// is checked, with the password lockout's rule and bounds.
func (e *Engine) claimTOTPAttempt(ctx context.Context, totpID string, now int64) error {
	cut := now - lockWindow
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE totps SET
		failed_count = CASE WHEN failed_window_at <= ? THEN 1 ELSE failed_count + 1 END,
		failed_window_at = CASE WHEN failed_window_at <= ? THEN ? ELSE failed_window_at END
		WHERE totp_id = ? AND (failed_window_at <= ? OR failed_count < ?)`,
		cut, cut, now, totpID, cut, lockAttempts)
	if err != nil {
		return fmt.Errorf("engine: count totp attempt: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errUserLocked
	}
	return nil
}

// totpArgs are the common fields of totps/authenticate and totps/recover.
// With an intermediate session token (which names the user; user_id may
// then be left out) the login finishes that intermediate session.
type totpArgs struct {
	UserID                   string `json:"user_id"`
	IntermediateSessionToken string `json:"intermediate_session_token"`
	sessionArgs
}

// totpLogin runs the checks both totps/authenticate and totps/recover
// share before their code is compared: the user (or the intermediate
// session and its user), the step-up session, the TOTP, then prepare
// (which may fail without counting anything), and an attempt counted. A
// wrong code leaves an intermediate session as it was: the TOTP's
// lockout bounds the guesses.
func (e *Engine) totpLogin(ctx context.Context, a *totpArgs, prepare func(*storedTOTP) error) (*user, *storedTOTP, ending, error) {
	u, t, how, err := e.totpUser(ctx, a)
	if err != nil {
		return nil, nil, ending{}, err
	}
	if prepare != nil {
		if err := prepare(t); err != nil {
			return nil, nil, ending{}, err
		}
	}
	if err := e.claimTOTPAttempt(ctx, t.ID, e.now()); err != nil {
		return nil, nil, ending{}, err
	}
	return u, t, how, nil
}

// totpUser checks a's fields and returns the user a TOTP login is for and
// how the login ends: in the intermediate session a names, in the
// step-up session a names, or as a login of its own; and the user's
// TOTP, read with the user (totp_not_found when there is none).
func (e *Engine) totpUser(ctx context.Context, a *totpArgs) (*user, *storedTOTP, ending, error) {
	if err := a.check(); err != nil {
		return nil, nil, ending{}, err
	}
	if a.UserID != "" || a.IntermediateSessionToken == "" {
		if !e.validID("user", a.UserID) {
			return nil, nil, ending{}, errInvalidUserID
		}
	}
	if err := e.totpReady(); err != nil {
		return nil, nil, ending{}, err
	}
	if a.IntermediateSessionToken != "" {
		if a.SessionToken != "" || a.SessionJWT != "" {
			return nil, nil, ending{}, errIntermediateAndSess
		}
		im, u, t, err := e.liveIntermediate(ctx, a.IntermediateSessionToken)
		if err != nil {
			return nil, nil, ending{}, err
		}
		if a.UserID != "" && a.UserID != u.ID {
			return nil, nil, ending{}, errSessionUserMismatch
		}
		if err := a.claimsFit(&session{CustomClaims: im.CustomClaims}); err != nil {
			return nil, nil, ending{}, err
		}
		if t == nil {
			return nil, nil, ending{}, errTOTPNotFound
		}
		return u, t, ending{completes: im}, nil
	}
	u, t, err := e.userWithTOTP(ctx, a.UserID)
	if err != nil {
		return nil, nil, ending{}, err
	}
	stepUp, err := e.stepUpSession(ctx, &a.sessionArgs, u.ID)
	if err != nil {
		return nil, nil, ending{}, err
	}
	if t == nil {
		return nil, nil, ending{}, errTOTPNotFound
	}
	return u, t, ending{stepUp: stepUp}, nil
}

// totpAuthenticate is the body of totps/authenticate.
type totpAuthenticate struct {
	TOTPCode string `json:"totp_code"`
	totpArgs
}

func (a *totpAuthenticate) validate(*Engine) error {
	if !sixDigits(a.TOTPCode) {
		return errInvalidTOTPCode
	}
	return nil
}

// totpRecover is the body of totps/recover.
type totpRecover struct {
	RecoveryCode string `json:"recovery_code"`
	totpArgs
}

func (a *totpRecover) validate(*Engine) error {
	if a.RecoveryCode == "" || len(a.RecoveryCode) > 64 {
		return badRequest("recovery_code is required.")
	}
	return nil
}

// POST /v1/totps/authenticate — a code of the current step, or the one
// before or after, that is later than the last code accepted: a code that
// was used is refused, also under concurrent calls.
func (e *Engine) authenticateTOTP(c *call) error {
	var a totpAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	var secret []byte
	// The secret is opened before an attempt is counted: a secret that no
	// longer opens (the host's key changed) fails without costing the
	// user an attempt.
	u, t, how, err := e.totpLogin(ctx, &a.totpArgs, func(t *storedTOTP) error {
		var err error
		secret, err = e.open(ctx, t.Secret)
		return err
	})
	if err != nil {
		return err
	}
	now := e.now()
	step := int64(0)
	for d := -totpSkew; d <= totpSkew; d++ {
		s := now/totpStep + int64(d)
		if s > t.LastStep && hmac.Equal([]byte(totpCode(secret, s)), []byte(a.TOTPCode)) {
			step = s
		}
	}
	if step == 0 {
		return errTOTPCode
	}
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE totps SET last_step = ?, verified = 1, failed_count = 0
		WHERE totp_id = ? AND last_step < ?`, step, t.ID, step)
	if err != nil {
		return fmt.Errorf("engine: use totp code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errTOTPCode
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	f := factor{Type: "totp", DeliveryMethod: "authenticator_app", AuthenticatorApp: &authenticatorAppFactor{TOTPID: t.ID}}
	return e.finishFactorLogin(c, &a.sessionArgs, how, u, f, map[string]any{"totp_id": t.ID})
}

// POST /v1/totps/recover — a recovery code instead of a TOTP code; each
// works once.
func (e *Engine) recoverTOTP(c *call) error {
	var a totpRecover
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	u, t, how, err := e.totpLogin(ctx, &a.totpArgs, nil)
	if err != nil {
		return err
	}
	var codeID string
	err = e.cfg.DB.QueryRowContext(ctx, `UPDATE recovery_codes SET used_at = ?
		WHERE code_hash = ? AND totp_id = ? AND used_at IS NULL RETURNING code_id`,
		e.now(), e.recoveryHash(u.ID, a.RecoveryCode), t.ID).Scan(&codeID)
	if errors.Is(err, errNoRows) {
		return errRecoveryCode
	}
	if err != nil {
		return fmt.Errorf("engine: use recovery code: %w", err)
	}
	if _, err := e.cfg.DB.ExecContext(ctx, `UPDATE totps SET failed_count = 0 WHERE totp_id = ?`, t.ID); err != nil {
		return fmt.Errorf("engine: use recovery code: %w", err)
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	f := factor{Type: "recovery_codes", DeliveryMethod: "recovery_code", RecoveryCode: &recoveryCodeFactor{CodeID: codeID}}
	return e.finishFactorLogin(c, &a.sessionArgs, how, u, f, map[string]any{"totp_id": t.ID})
}

// POST /v1/totps/recovery_codes — the user's unused recovery codes.
func (e *Engine) recoveryCodes(c *call) error {
	var a struct {
		UserID string `json:"user_id"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if !e.validID("user", a.UserID) {
		return errInvalidUserID
	}
	if err := e.totpReady(); err != nil {
		return err
	}
	ctx := c.r.Context()
	u, err := e.userByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	rows, err := e.cfg.DB.QueryContext(ctx, `SELECT totp_id, verified, codes_sealed FROM totps WHERE user_id = ? ORDER BY created_at`, u.ID)
	if err != nil {
		return fmt.Errorf("engine: totps: %w", err)
	}
	type entry struct {
		ID       string
		Verified bool
		Sealed   string
	}
	var list []entry
	for rows.Next() {
		var en entry
		if err := rows.Scan(&en.ID, &en.Verified, &en.Sealed); err != nil {
			rows.Close()
			return fmt.Errorf("engine: totps: %w", err)
		}
		list = append(list, en)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("engine: totps: %w", err)
	}
	out := []map[string]any{}
	for _, en := range list {
		raw, err := e.open(ctx, en.Sealed)
		if err != nil {
			return err
		}
		var codes []string
		if err := json.Unmarshal(raw, &codes); err != nil {
			return fmt.Errorf("engine: recovery codes: %w", err)
		}
		unused := []string{}
		for _, code := range codes {
			var used bool
			err := e.cfg.DB.QueryRowContext(ctx, `SELECT used_at IS NOT NULL FROM recovery_codes WHERE code_hash = ?`,
				e.recoveryHash(u.ID, code)).Scan(&used)
			if err == nil && !used {
				unused = append(unused, code)
			}
		}
		out = append(out, map[string]any{"totp_id": en.ID, "verified": en.Verified, "recovery_codes": unused})
	}
	c.reply(map[string]any{"user_id": u.ID, "totps": out})
	return nil
}

// DELETE /v1/users/totps/{totp_id}
func (e *Engine) deleteTOTP(c *call) error {
	id := c.r.PathValue("totp_id")
	if !e.validID("totp", id) {
		return errInvalidTOTPID
	}
	ctx := c.r.Context()
	var userID string
	// The TOTP row first: its codes are only usable beside it.
	err := e.cfg.DB.QueryRowContext(ctx, `DELETE FROM totps WHERE totp_id = ? RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, errNoRows) {
		return errTOTPNotFound
	}
	if err != nil {
		return fmt.Errorf("engine: delete totp: %w", err)
	}
	if _, err := e.cfg.DB.ExecContext(ctx, `DELETE FROM recovery_codes WHERE totp_id = ?`, id); err != nil {
		return fmt.Errorf("engine: delete recovery codes: %w", err)
	}
	u, err := e.userByID(ctx, userID)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "user": u.view()})
	return nil
}
