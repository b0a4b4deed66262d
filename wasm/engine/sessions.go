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
	if errors.Is(err, errNoRows) || (err == nil && (!s.live(e.now()) || userID != "" && s.UserID != userID)) {
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
	if a.SessionToken == "" && a.SessionJWT == "" {
		return nil, a.claimsFit(nil)
	}
	s, _, err := e.liveSession(ctx, a.SessionToken, a.SessionJWT)
	if err != nil {
		return nil, err
	}
	if s.UserID != userID {
		return nil, errSessionUserMismatch
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
		fresh, _, err := e.sessionWithUser(ctx, "session_id", s.ID)
		if errors.Is(err, errNoRows) || (err == nil && !fresh.live(e.now())) {
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

// loginResult holds the session fields of a login response: no session
// (nil), token and JWT empty, when the login started none.
type loginResult struct {
	session *sessionView
	token   string
	jwt     string
}

// fields returns r as response fields.
func (r *loginResult) fields() map[string]any {
	return map[string]any{"session": r.session, "session_token": r.token, "session_jwt": r.jwt}
}

// replyLogin finishes a login endpoint whose factor checked out (see
// login) and answers with the session fields, user_id, user and extra.
func (e *Engine) replyLogin(c *call, a *sessionArgs, stepUp *session, u *user, f factor, extra map[string]any) error {
	res, err := e.login(c.r.Context(), a, stepUp, u, f)
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
// factor to the step-up session, or starts a session when a duration was
// given, or neither. It returns the session fields of the response.
func (e *Engine) login(ctx context.Context, a *sessionArgs, stepUp *session, u *user, f factor) (*loginResult, error) {
	now := e.now()
	f.CreatedAt, f.UpdatedAt, f.LastAuthenticatedAt = stamp(now), stamp(now), stamp(now)
	token := a.SessionToken
	s := stepUp
	switch {
	case s != nil:
		err := e.mutateSession(ctx, s, func(s *session) error {
			s.addFactor(f)
			return applyArgs(s, a, now)
		})
		if err != nil {
			return nil, err
		}
	case a.DurationMinutes == 0:
		return &loginResult{}, nil
	default:
		var err error
		if s, token, err = e.newSession(ctx, a, u.ID, f, now); err != nil {
			return nil, err
		}
	}
	jwt, err := e.mintJWT(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return &loginResult{session: s.view(), token: token, jwt: jwt}, nil
}

func (e *Engine) newSession(ctx context.Context, a *sessionArgs, userID string, f factor, now int64) (*session, string, error) {
	token, err := e.newSessionToken()
	if err != nil {
		return nil, "", err
	}
	s := &session{
		ID:        e.newID("session"),
		UserID:    userID,
		TokenHash: hashToken(token),
		StartedAt: now,
		Factors:   []factor{f},
	}
	if err := applyArgs(s, a, now); err != nil {
		return nil, "", err
	}
	if err := e.insertSession(ctx, s); err != nil {
		return nil, "", err
	}
	return s, token, nil
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
		err = e.touchSession(ctx, s, now)
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
func (e *Engine) revokeSession(c *call) error {
	var a struct {
		SessionID    string `json:"session_id"`
		SessionToken string `json:"session_token"`
		SessionJWT   string `json:"session_jwt"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	given := 0
	for _, v := range []string{a.SessionID, a.SessionToken, a.SessionJWT} {
		if v != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return errNoRevokeArgs
	case given > 1:
		return errTooManyRevokeArgs
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
