package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Cookie names the Stytch frontend SDKs use.
const (
	jwtCookie   = "stytch_session_jwt"
	tokenCookie = "stytch_session"
)

type sessionKey struct{}

// FromContext returns the session Middleware stored in ctx.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(*Session)
	return s, ok && s != nil
}

// Middleware authenticates each request before next sees it. It takes the
// session from an Authorization: Bearer header (a JWT or an opaque token),
// else from the stytch_session_jwt cookie, else from the stytch_session
// cookie, through Authenticate. When the edge minted a fresh JWT for a
// cookie-borne session, the response sets stytch_session_jwt to it, with
// the attributes of Config's Cookie fields (Secure, HttpOnly and
// SameSite=Lax by default).
// next finds the session with FromContext. A request without a valid
// session goes to Config.ErrorHandler instead; by default the answer is
// 401 with a JSON error body (503 when the edge could not be reached to
// decide).
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, fresh, fromCookie, err := v.authenticateRequest(r)
		if err != nil {
			v.refuse(w, r, err)
			return
		}
		if fresh != "" && fromCookie {
			http.SetCookie(w, v.cfg.refreshCookie(fresh, s.ExpiresAt, r))
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

func (v *Verifier) authenticateRequest(r *http.Request) (s *Session, fresh string, fromCookie bool, err error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, "", false, ErrNoToken
		}
		s, fresh, err = v.Authenticate(ctx, strings.TrimSpace(tok))
		return s, fresh, false, err
	}
	err = ErrNoToken
	if c, cerr := r.Cookie(jwtCookie); cerr == nil && c.Value != "" {
		if s, fresh, err = v.Authenticate(ctx, c.Value); err == nil {
			return s, fresh, true, nil
		}
	}
	if c, cerr := r.Cookie(tokenCookie); cerr == nil && c.Value != "" {
		var terr error
		if s, fresh, terr = v.Authenticate(ctx, c.Value); terr == nil {
			return s, fresh, true, nil
		}
		if errors.Is(err, ErrNoToken) {
			err = terr
		}
	}
	return nil, "", false, err
}

// refuse answers a request Middleware turns away: Config.ErrorHandler,
// or else the default answer.
func (v *Verifier) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if v.cfg.onError != nil {
		v.cfg.onError(w, r, err)
		return
	}
	v.writeError(w, r, err)
}

// The default answer's error_message for each error_type. It is fixed:
// err's text can name the edge's address, a dial error or the edge's
// request id, which are for the origin's logs, not for its clients.
const (
	msgUnauthorized = "A valid session is required."
	msgNotFound     = "The session has ended or does not exist."
	msgUnavailable  = "Sessions cannot be checked right now; try again later."
)

// writeError is the default answer: a Stytch-shaped JSON error with a
// fixed message, and err's text in a log line through Config.Logger, at
// Warn when the origin or the edge is at fault (the edge or the keys
// unreachable, the edge refusing the project's secret, no secret for an
// opaque token) and at Debug when the request is (no session, a bad or
// ended one).
func (v *Verifier) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, kind, msg := http.StatusUnauthorized, "unauthorized", msgUnauthorized
	level := slog.LevelDebug
	switch {
	case errors.Is(err, ErrUnavailable) || errors.Is(err, ErrKeysUnavailable):
		status, kind, msg, level = http.StatusServiceUnavailable, "service_unavailable", msgUnavailable, slog.LevelWarn
	case errors.Is(err, ErrSessionNotFound):
		kind, msg = "session_not_found", msgNotFound
	case errors.Is(err, ErrRemote) || errors.Is(err, ErrNoSecret):
		level = slog.LevelWarn
	}
	v.cfg.logger.LogAttrs(r.Context(), level, "verifier: request refused",
		slog.Int("status", status), slog.String("error_type", kind), slog.String("error", err.Error()))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="session"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		StatusCode   int    `json:"status_code"`
		ErrorType    string `json:"error_type"`
		ErrorMessage string `json:"error_message"`
	}{status, kind, msg})
}
