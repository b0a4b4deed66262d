package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Intermediate sessions hold a login between its first factor and the
// second one it must still pass: a first-factor endpoint called with
// require_mfa for a user with an authenticator app answers an
// intermediate_session_token instead of a session. The token is not a
// session token (another length, another table): sessions/authenticate
// and the verifier never accept it, and no JWT is minted for it. Only
// totps/authenticate and totps/recover take it, once, within
// intermediateMinutes, and only while the user's credentials are those it
// was started under. See RATIONALE.md, "Why intermediate sessions?".
const (
	intermediateMinutes = 10
	// intermediateTokenBytes makes a 43-character token: never the 44 of
	// a session token.
	intermediateTokenBytes = 32
	// defaultIntermediateDuration is the session's length when neither
	// the first factor's call nor the second's named one (Stytch's default
	// for a session started from an intermediate session).
	defaultIntermediateDuration = 60
)

var (
	errIntermediateNotFound = newError(http.StatusNotFound, "intermediate_session_not_found", "The intermediate session could not be found: it was never started, was used, has expired, or the user's credentials changed since.")
	errInvalidIntermediate  = newError(http.StatusBadRequest, "invalid_intermediate_session_token", "intermediate_session_token is malformed.")
	errIntermediateAndSess  = newError(http.StatusBadRequest, "too_many_session_arguments", "Provide only one of session_token, session_jwt or intermediate_session_token.")
)

// intermediate is a row of intermediate_sessions.
type intermediate struct {
	TokenHash          string
	UserID             string
	CredentialsVersion int64
	Factors            []factor
	Attributes         attributes
	CustomClaims       claims
	DurationMinutes    int
}

// wellFormedIntermediate reports whether tok could be an intermediate
// session token.
func wellFormedIntermediate(tok string) bool {
	if len(tok) != base64.RawURLEncoding.EncodedLen(intermediateTokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil
}

// newIntermediate holds a login of u whose factor f checked out in a new
// intermediate session, with the session fields a asked for, and returns
// its token. Like a session it is stored only while u's credentials are
// the ones the login read.
func (e *Engine) newIntermediate(ctx context.Context, a *sessionArgs, u *user, f factor, now int64) (string, error) {
	b, err := e.randomBytes(intermediateTokenBytes)
	if err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	var cc claims
	if a.CustomClaims != nil {
		if cc, err = cc.merge(a.CustomClaims); err != nil {
			return "", err
		}
	}
	held := &session{Factors: []factor{f}, CustomClaims: cc}
	if a.Attributes != nil {
		held.Attributes = *a.Attributes
	}
	attrs, factors, claimsJSON, err := sessionJSON(held)
	if err != nil {
		return "", fmt.Errorf("engine: encode intermediate session: %w", err)
	}
	// Expired intermediate sessions go with this insert (migration 0011's
	// trigger).
	res, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO intermediate_sessions (token_hash, user_id, credentials_version,
		factors, attributes, custom_claims, duration_minutes, created_at, expires_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ? AND credentials_version = ?)`,
		hashToken(token), u.ID, u.CredentialsVersion, factors, attrs, claimsJSON, a.DurationMinutes,
		now, now+intermediateMinutes*60, u.ID, u.CredentialsVersion)
	if err != nil {
		return "", fmt.Errorf("engine: insert intermediate session: %w", err)
	}
	if err := oneRow(res, errCredentialsChanged); err != nil {
		return "", err
	}
	return token, nil
}

// liveIntermediate loads the intermediate session token names, with its
// user and the user's TOTP (totpObject; nil when there is none), in one
// statement: it must be unused, unexpired and started under the user's
// current credentials.
func (e *Engine) liveIntermediate(ctx context.Context, token string) (*intermediate, *user, *storedTOTP, error) {
	if !wellFormedIntermediate(token) {
		return nil, nil, nil, errInvalidIntermediate
	}
	var row struct {
		UserID             string          `json:"user_id"`
		CredentialsVersion int64           `json:"credentials_version"`
		Factors            []factor        `json:"factors"`
		Attributes         attributes      `json:"attributes"`
		CustomClaims       claims          `json:"custom_claims"`
		DurationMinutes    int             `json:"duration_minutes"`
		User               json.RawMessage `json:"u"`
		TOTP               *storedTOTP     `json:"t"`
	}
	hash := hashToken(token)
	now := e.now()
	err := scanJSON(e.cfg.DB.QueryRowContext(ctx, `SELECT json_object('user_id', i.user_id,
		'credentials_version', i.credentials_version, 'factors', json(i.factors), 'attributes', json(i.attributes),
		'custom_claims', json(i.custom_claims), 'duration_minutes', i.duration_minutes, 'u', `+userObject+`,
		't', `+totpObject+`)
		FROM intermediate_sessions i JOIN users u ON u.user_id = i.user_id
		LEFT JOIN passwords p ON p.user_id = u.user_id
		WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ?`, now, hash, now), &row)
	if errors.Is(err, errNoRows) {
		return nil, nil, nil, errIntermediateNotFound
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("engine: load intermediate session: %w", err)
	}
	u := &user{}
	if err := json.Unmarshal(row.User, u); err != nil {
		return nil, nil, nil, fmt.Errorf("engine: load intermediate session: %w", err)
	}
	if row.CredentialsVersion != u.CredentialsVersion {
		return nil, nil, nil, errIntermediateNotFound
	}
	return &intermediate{TokenHash: hash, UserID: row.UserID, CredentialsVersion: row.CredentialsVersion,
		Factors: row.Factors, Attributes: row.Attributes, CustomClaims: row.CustomClaims,
		DurationMinutes: row.DurationMinutes}, u, row.TOTP, nil
}

// completeIntermediate finishes the login im holds with its second factor
// f: im is spent (exactly one caller wins, however many race), then a
// session starts with im's factors and f, under the credentials im was
// started under. a's fields apply over im's: a duration given now wins,
// claims merge onto im's, attributes given now replace im's.
func (e *Engine) completeIntermediate(ctx context.Context, a *sessionArgs, im *intermediate, u *user, f factor, now int64) (*session, string, error) {
	res, err := e.cfg.DB.ExecContext(ctx, `UPDATE intermediate_sessions SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, now, im.TokenHash, now)
	if err != nil {
		return nil, "", fmt.Errorf("engine: use intermediate session: %w", err)
	}
	if err := oneRow(res, errIntermediateNotFound); err != nil {
		return nil, "", err
	}
	args := *a
	if args.DurationMinutes == 0 {
		args.DurationMinutes = im.DurationMinutes
	}
	if args.DurationMinutes == 0 {
		args.DurationMinutes = defaultIntermediateDuration
	}
	s := &session{UserID: u.ID, CredentialsVersion: im.CredentialsVersion, Attributes: im.Attributes,
		CustomClaims: im.CustomClaims, Factors: im.Factors}
	s.addFactor(f)
	token, err := e.newSession(ctx, &args, s, now)
	if err != nil {
		return nil, "", err
	}
	return s, token, nil
}

// revokeIntermediate ends the intermediate session token names (the
// sign-in was cancelled). Ending one already used or expired succeeds;
// one that never existed is intermediate_session_not_found.
func (e *Engine) revokeIntermediate(ctx context.Context, token string, now int64) error {
	if !wellFormedIntermediate(token) {
		return errInvalidIntermediate
	}
	var found int
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE intermediate_sessions SET used_at = COALESCE(used_at, ?)
		WHERE token_hash = ? RETURNING 1`, now, hashToken(token)).Scan(&found)
	if errors.Is(err, errNoRows) {
		return errIntermediateNotFound
	}
	if err != nil {
		return fmt.Errorf("engine: revoke intermediate session: %w", err)
	}
	return nil
}
