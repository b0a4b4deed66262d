package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

const (
	minSessionMinutes = 5
	maxSessionMinutes = 527040
	// touchInterval throttles last_accessed_at writes: a session
	// authenticated many times a minute costs one write a minute.
	touchInterval = 60
	// updateAttempts bounds retries of a session update that lost a race.
	updateAttempts = 5
)

// sessionArgs are the session fields of login and session endpoints.
type sessionArgs struct {
	SessionToken    string      `json:"session_token"`
	SessionJWT      string      `json:"session_jwt"`
	DurationMinutes int         `json:"session_duration_minutes"`
	CustomClaims    claimUpdate `json:"session_custom_claims"`
	Attributes      *attributes `json:"attributes"`
}

// check validates the arguments before anything is read or written.
// A duration of 0 means none was given. Custom claims and attributes were
// checked as they were decoded (claimUpdate, attributes.validate).
func (a *sessionArgs) check() error {
	if a.SessionToken != "" && a.SessionJWT != "" {
		return errTooManySessionArgs
	}
	if a.DurationMinutes != 0 && (a.DurationMinutes < minSessionMinutes || a.DurationMinutes > maxSessionMinutes) {
		return errSessionDuration
	}
	return nil
}

// liveSession finds the live session named by a token or a JWT, with its user.
func (e *Engine) liveSession(ctx context.Context, token, jwt string) (*session, *user, error) {
	var column, value, userID string
	switch {
	case token != "":
		if !wellFormedSessionToken(token) {
			return nil, nil, errInvalidSessionToken
		}
		column, value = "token_hash", hashToken(token)
	case jwt != "":
		ref, err := e.readJWT(jwt)
		if err != nil {
			return nil, nil, err
		}
		column, value, userID = "session_id", ref.sessionID, ref.userID
	default:
		return nil, nil, errNoSessionArgs
	}
	s, u, err := e.sessionWithUser(ctx, column, value)
	if errors.Is(err, errNoRows) || (err == nil && (!s.live(u, e.now()) || userID != "" && s.UserID != userID)) {
		return nil, nil, errSessionNotFound
	}
	return s, u, err
}

// stepUpSession returns the live session a login call names, if any; it must
// belong to the user logging in. Called before the factor is consumed so a
// refused step-up costs the caller nothing.
//
// It also checks that the custom claims fit once merged into the session
// they will land in (the step-up session, or a new, empty one), so that a
// login refused for its claims is refused before it spends anything.
func (e *Engine) stepUpSession(ctx context.Context, a *sessionArgs, userID string) (*session, error) {
	s, err := e.liveStepUp(ctx, a)
	if mismatch := s.heldBy(userID); mismatch != nil {
		return nil, mismatch
	}
	return s, err
}

// heldBy answers session_user_mismatch unless s, a session a login steps
// up, is userID's; no session (nil) holds for any user.
func (s *session) heldBy(userID string) error {
	if s != nil && s.UserID != userID {
		return errSessionUserMismatch
	}
	return nil
}

// userID is the id of the user of s, a session a login steps up, or ""
// for none: the condition a login's consuming statement puts on the
// factor's user ("" holds any).
func (s *session) userID() string {
	if s == nil {
		return ""
	}
	return s.UserID
}

// liveStepUp is stepUpSession for a login that learns its user only as it
// uses its factor: the caller checks that the session is that user's.
func (e *Engine) liveStepUp(ctx context.Context, a *sessionArgs) (*session, error) {
	if a.SessionToken == "" && a.SessionJWT == "" {
		return nil, a.claimsFit(nil)
	}
	s, _, err := e.liveSession(ctx, a.SessionToken, a.SessionJWT)
	if err != nil {
		return nil, err
	}
	return s, a.claimsFit(s)
}

// claimsFit reports whether the custom claims fit once merged into s (a
// new session when s is nil).
func (a *sessionArgs) claimsFit(s *session) error {
	if a.CustomClaims == nil {
		return nil
	}
	var have claims
	if s != nil {
		have = s.CustomClaims
	}
	_, err := have.merge(a.CustomClaims)
	return err
}

// mutateSession applies change to s and writes it back, reloading and
// reapplying when a concurrent writer got there first.
func (e *Engine) mutateSession(ctx context.Context, s *session, change func(*session) error) error {
	for range updateAttempts {
		if err := change(s); err != nil {
			return err
		}
		err := e.updateSession(ctx, s)
		if !errors.Is(err, errConflict) {
			return err
		}
		fresh, u, err := e.sessionWithUser(ctx, "session_id", s.ID)
		if errors.Is(err, errNoRows) || (err == nil && !fresh.live(u, e.now())) {
			return errSessionNotFound
		}
		if err != nil {
			return err
		}
		*s = *fresh
	}
	return fmt.Errorf("engine: session %s: %w", s.ID, errConflict)
}

// applyArgs extends the session, merges custom claims and records
// attributes, as every call carrying them does.
func applyArgs(s *session, a *sessionArgs, now int64) error {
	if a.DurationMinutes != 0 {
		s.ExpiresAt = now + int64(a.DurationMinutes)*60
	}
	if a.CustomClaims != nil {
		merged, err := s.CustomClaims.merge(a.CustomClaims)
		if err != nil {
			return err
		}
		s.CustomClaims = merged
	}
	if a.Attributes != nil {
		s.Attributes = *a.Attributes
	}
	s.LastAccessedAt = now
	return nil
}

// loginArgs are the session fields of a first-factor login endpoint:
// sessionArgs and require_mfa.
type loginArgs struct {
	sessionArgs
	// RequireMFA (a Latch extension) asks for an intermediate session
	// rather than a session when the user has an authenticator app: the
	// login is finished by totps/authenticate or totps/recover. See
	// RATIONALE.md, "Why intermediate sessions?".
	RequireMFA bool `json:"require_mfa"`
}

// ending says how a login ends once its factor checked out.
type ending struct {
	// stepUp is the session the login adds its factor to, if any.
	stepUp *session
	// completes is the intermediate session the login finishes, if any.
	completes *intermediate
	// requireMFA asks for an intermediate session when the user has an
	// authenticator app (loginArgs.RequireMFA).
	requireMFA bool
}

// loginResult holds the session fields of a login response: no session
// (nil), token and JWT empty, when the login started none.
type loginResult struct {
	session *sessionView
	token   string
	jwt     string
	// intermediate is the intermediate session token, when the login
	// asked for one (mfa) and the user has a second factor to check.
	intermediate string
	mfa          bool
}

// fields returns r as response fields.
func (r *loginResult) fields() map[string]any {
	f := map[string]any{"session": r.session, "session_token": r.token, "session_jwt": r.jwt}
	if r.mfa {
		f["intermediate_session_token"] = r.intermediate
	}
	return f
}

// finishFactorLogin is the last step of every factor's login endpoint,
// which all have one shape: decode the typed request, check its fields,
// find the factor's row and its user, check everything that could still
// refuse the call (the step-up session, PKCE, the claims) so that a refusal
// spends nothing, consume the factor with one conditional statement, then
// this: add the factor to the step-up session, finish an intermediate
// session, hold the login in a new one, or start a session (see login),
// and answer with the session fields, user_id, user and extra.
func (e *Engine) finishFactorLogin(c *call, a *sessionArgs, how ending, u *user, f factor, extra map[string]any) error {
	res, err := e.login(c.r.Context(), a, how, u, f)
	if err != nil {
		return err
	}
	fields := res.fields()
	for k, v := range extra {
		fields[k] = v
	}
	fields["user_id"] = u.ID
	fields["user"] = u.view()
	c.reply(fields)
	return nil
}

// login finishes a login endpoint after its factor checked out: it adds the
// factor to the step-up session, or finishes an intermediate session, or
// holds the login in a new intermediate session (require_mfa and an
// authenticator app), or starts a session when a duration was given, or
// none of these. It returns the session fields of the response.
func (e *Engine) login(ctx context.Context, a *sessionArgs, how ending, u *user, f factor) (*loginResult, error) {
	now := e.now()
	f.CreatedAt, f.UpdatedAt, f.LastAuthenticatedAt = stamp(now), stamp(now), stamp(now)
	token := a.SessionToken
	s := how.stepUp
	var err error
	switch {
	case how.completes != nil:
		if s, token, err = e.completeIntermediate(ctx, a, how.completes, u, f, now); err != nil {
			return nil, err
		}
	case s != nil:
		err := e.mutateSession(ctx, s, func(s *session) error {
			s.addFactor(f)
			return applyArgs(s, a, now)
		})
		if err != nil {
			return nil, err
		}
	case how.requireMFA && u.hasTOTP():
		im, err := e.newIntermediate(ctx, a, u, f, now)
		if err != nil {
			return nil, err
		}
		return &loginResult{intermediate: im, mfa: true}, nil
	case a.DurationMinutes == 0:
		return &loginResult{mfa: how.requireMFA}, nil
	default:
		s = &session{UserID: u.ID, CredentialsVersion: u.CredentialsVersion, Factors: []factor{f}}
		if token, err = e.newSession(ctx, a, s, now); err != nil {
			return nil, err
		}
	}
	jwt, err := e.mintJWT(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return &loginResult{session: s.view(), token: token, jwt: jwt, mfa: how.requireMFA}, nil
}

// newSession stores s, a session of s.UserID with its factors and
// credentials version set, as a new session with a new token and a's
// fields applied, and returns the token.
func (e *Engine) newSession(ctx context.Context, a *sessionArgs, s *session, now int64) (string, error) {
	token, err := e.newSessionToken()
	if err != nil {
		return "", err
	}
	s.ID, s.TokenHash, s.StartedAt = e.newID("session"), hashToken(token), now
	if err := applyArgs(s, a, now); err != nil {
		return "", err
	}
	if err := e.insertSession(ctx, s); err != nil {
		return "", err
	}
	return token, nil
}

// POST /v1/sessions/authenticate
func (e *Engine) authenticateSession(c *call) error {
	var a sessionArgs
	if err := c.decode(&a); err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	ctx := c.r.Context()
	s, u, err := e.liveSession(ctx, a.SessionToken, a.SessionJWT)
	if err != nil {
		return err
	}
	now := e.now()
	if a.DurationMinutes != 0 || a.CustomClaims != nil || a.Attributes != nil {
		err = e.mutateSession(ctx, s, func(s *session) error { return applyArgs(s, &a, now) })
	} else {
		e.touchSession(ctx, s, now)
	}
	if err != nil {
		return err
	}
	jwt, err := e.mintJWT(ctx, s, now)
	if err != nil {
		return err
	}
	c.replyWith(&sessionAuthResponse{
		RequestID:    c.requestID,
		Session:      s.view(),
		SessionJWT:   jwt,
		SessionToken: a.SessionToken,
		StatusCode:   http.StatusOK,
		User:         u.view(),
	})
	return nil
}

// sessionAuthResponse is the body of a sessions/authenticate success,
// fields in alphabetical order like every response of the API.
type sessionAuthResponse struct {
	RequestID    string       `json:"request_id"`
	Session      *sessionView `json:"session"`
	SessionJWT   string       `json:"session_jwt"`
	SessionToken string       `json:"session_token"`
	StatusCode   int          `json:"status_code"`
	User         *userView    `json:"user"`
}

// GET /v1/sessions?user_id=…
func (e *Engine) listSessions(c *call) error {
	id := c.r.URL.Query().Get("user_id")
	if !e.validID("user", id) {
		return errInvalidUserID
	}
	ctx := c.r.Context()
	if _, err := e.userByID(ctx, id); err != nil {
		return err
	}
	list, err := e.liveSessions(ctx, id, e.now())
	if err != nil {
		return err
	}
	views := make([]*sessionView, len(list))
	for i, s := range list {
		views[i] = s.view()
	}
	c.reply(map[string]any{"sessions": views})
	return nil
}

// POST /v1/sessions/revoke — idempotent: revoking a revoked or expired
// session succeeds; a session that never existed is session_not_found.
// An intermediate_session_token (a Latch extension) ends that
// intermediate session: a sign-in between its factors was cancelled.
func (e *Engine) revokeSession(c *call) error {
	var a struct {
		SessionID                string `json:"session_id"`
		SessionToken             string `json:"session_token"`
		SessionJWT               string `json:"session_jwt"`
		IntermediateSessionToken string `json:"intermediate_session_token"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	given := 0
	for _, v := range []string{a.SessionID, a.SessionToken, a.SessionJWT, a.IntermediateSessionToken} {
		if v != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return errNoRevokeArgs
	case given > 1:
		return errTooManyRevokeArgs
	case a.IntermediateSessionToken != "":
		if err := e.revokeIntermediate(c.r.Context(), a.IntermediateSessionToken, e.now()); err != nil {
			return err
		}
		c.reply(nil)
		return nil
	}
	column, value, userID := "session_id", a.SessionID, ""
	switch {
	case a.SessionID != "" && !e.validID("session", a.SessionID):
		return errInvalidSessionID
	case a.SessionToken != "":
		if !wellFormedSessionToken(a.SessionToken) {
			return errInvalidSessionToken
		}
		column, value = "token_hash", hashToken(a.SessionToken)
	case a.SessionJWT != "":
		ref, err := e.readJWT(a.SessionJWT)
		if err != nil {
			return err
		}
		value, userID = ref.sessionID, ref.userID
	}
	if err := e.revokeSessionBy(c.r.Context(), column, value, userID, e.now()); err != nil {
		return err
	}
	c.reply(nil)
	return nil
}
