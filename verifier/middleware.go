package verifier

import (
	"context"
	"encoding/json"
	"errors"
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
			v.cfg.onError(w, r, err)
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

// writeError is the default Config.ErrorHandler.
func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	status, kind := http.StatusUnauthorized, "unauthorized"
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrKeysUnavailable) {
		status, kind = http.StatusServiceUnavailable, "service_unavailable"
	}
	if errors.Is(err, ErrSessionNotFound) {
		kind = "session_not_found"
	}
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
	}{status, kind, err.Error()})
}
