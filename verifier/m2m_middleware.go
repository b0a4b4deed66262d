package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

type m2mKey struct{}

// M2MFromContext returns the M2M access token M2MMiddleware stored in ctx.
func M2MFromContext(ctx context.Context) (*M2MToken, bool) {
	t, ok := ctx.Value(m2mKey{}).(*M2MToken)
	return t, ok && t != nil
}

// M2MMiddleware returns middleware that lets a request through only with
// an M2M access token in its Authorization: Bearer header that VerifyM2M
// accepts with requiredScopes; next finds the token with M2MFromContext.
// It answers as RFC 6750 says a resource server does, with a JSON body
// {error, error_description}:
//
//   - no bearer token: 401 with WWW-Authenticate: Bearer realm="m2m";
//   - a token VerifyM2M refuses (malformed, badly signed, expired, a
//     session JWT, a revoked client): 401 with error="invalid_token";
//   - a valid token without a required scope: 403 with
//     error="insufficient_scope" and the scopes required;
//   - the keys cannot be loaded, or the revocation feed cannot vouch for
//     the token (ErrKeysUnavailable, ErrFeedStale): 503, as no decision
//     could be made; the client should retry, not mint a new token.
//
// Config.ErrorHandler is not used: it answers browsers, and M2M callers
// read these statuses. Why a request was refused goes to Config.Logger.
func (v *Verifier) M2MMiddleware(requiredScopes ...string) func(http.Handler) http.Handler {
	required := append([]string(nil), requiredScopes...)
	challenge := `Bearer realm="m2m", error="insufficient_scope"`
	if len(required) > 0 && scopeTokens(required) {
		challenge += `, scope="` + strings.Join(required, " ") + `"`
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := bearerToken(r)
			if !ok {
				v.refuseM2M(w, r, ErrNoToken, challenge)
				return
			}
			t, err := v.VerifyM2M(r.Context(), tok, required...)
			if err != nil {
				v.refuseM2M(w, r, err, challenge)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), m2mKey{}, t)))
		})
	}
}

// scopeTokens reports whether every scope is an RFC 6750 §3 scope-token
// (printable ASCII but space, '"' and '\'), so that the challenge can
// name them.
func scopeTokens(scopes []string) bool {
	for _, s := range scopes {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// The M2M answers' error_description for each error code. They are
// fixed: err's text is for the origin's logs.
const (
	msgM2MMissing      = "An M2M access token is required."
	msgM2MInvalid      = "The access token is invalid, expired or revoked."
	msgM2MScope        = "The access token lacks a required scope."
	msgM2MUnavailable  = "Access tokens cannot be checked right now; try again later."
	m2mRealm           = `Bearer realm="m2m"`
	m2mInvalidToken    = `Bearer realm="m2m", error="invalid_token"`
	codeInvalidToken   = "invalid_token"
	codeInsufficient   = "insufficient_scope"
	codeM2MUnavailable = "temporarily_unavailable"
)

// refuseM2M answers a request M2MMiddleware turns away. scopeChallenge
// is the WWW-Authenticate value for a missing scope.
func (v *Verifier) refuseM2M(w http.ResponseWriter, r *http.Request, err error, scopeChallenge string) {
	status, code, msg, challenge := http.StatusUnauthorized, codeInvalidToken, msgM2MInvalid, m2mInvalidToken
	level := slog.LevelDebug
	switch {
	case errors.Is(err, ErrNoToken):
		code, msg, challenge = "", msgM2MMissing, m2mRealm
	case errors.Is(err, ErrInsufficientScope):
		status, code, msg, challenge = http.StatusForbidden, codeInsufficient, msgM2MScope, scopeChallenge
	case errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrFeedStale):
		status, code, msg, challenge = http.StatusServiceUnavailable, codeM2MUnavailable, msgM2MUnavailable, ""
		level = slog.LevelWarn
	}
	v.cfg.logger.LogAttrs(r.Context(), level, "verifier: M2M request refused",
		slog.Int("status", status), slog.String("error", err.Error()))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	w.WriteHeader(status)
	body := struct {
		Error       string `json:"error,omitempty"`
		Description string `json:"error_description"`
	}{code, msg}
	_ = json.NewEncoder(w).Encode(body)
}
