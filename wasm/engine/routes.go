package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"
)

// handlerFunc serves one endpoint; returning an error answers with it.
type handlerFunc func(e *Engine, c *call) error

// route is one endpoint: a net/http.ServeMux pattern ("METHOD /path",
// wildcards named as API.md names them) and its handler.
type route struct {
	pattern string
	public  bool // no project auth (the JWKS, OAuth, the M2M token endpoint)
	fn      handlerFunc
}

// routes lists every endpoint the engine serves. API.md documents each
// (TestRoutesDocumented).
func routes() []route {
	return []route{
		{pattern: "POST /v1/users", fn: (*Engine).createUser},
		{pattern: "GET /v1/users/{user_id}", fn: (*Engine).getUser},
		{pattern: "PUT /v1/users/{user_id}", fn: (*Engine).updateUser},
		{pattern: "POST /v1/users/search", fn: (*Engine).searchUsers},
		{pattern: "DELETE /v1/users/passwords/{password_id}", fn: (*Engine).deletePassword},
		{pattern: "DELETE /v1/users/totps/{totp_id}", fn: (*Engine).deleteTOTP},
		{pattern: "DELETE /v1/users/oauth/{oauth_user_registration_id}", fn: (*Engine).deleteOAuthRegistration},
		{pattern: "POST /v1/totps", fn: (*Engine).createTOTP},
		{pattern: "POST /v1/totps/authenticate", fn: (*Engine).authenticateTOTP},
		{pattern: "POST /v1/totps/recovery_codes", fn: (*Engine).recoveryCodes},
		{pattern: "POST /v1/totps/recover", fn: (*Engine).recoverTOTP},
		{pattern: "DELETE /v1/users/{user_id}", fn: (*Engine).deleteUser},
		{pattern: "POST /v1/magic_links", fn: (*Engine).createMagicLink},
		{pattern: "POST /v1/magic_links/authenticate", fn: (*Engine).authenticateMagicLink},
		{pattern: "POST /v1/magic_links/email/login_or_create", fn: (*Engine).loginOrCreateEmailLink},
		{pattern: "POST /v1/magic_links/email/send", fn: (*Engine).sendEmailLink},
		{pattern: "POST /v1/otps/email/login_or_create", fn: (*Engine).loginOrCreateEmailOTP},
		{pattern: "POST /v1/otps/email/send", fn: (*Engine).sendEmailOTP},
		{pattern: "POST /v1/otps/authenticate", fn: (*Engine).authenticateOTP},
		{pattern: "POST /v1/passwords/email/reset/start", fn: (*Engine).startEmailReset},
		{pattern: "POST /v1/passwords/email/reset", fn: (*Engine).resetByEmail},
		{pattern: "POST /v1/passwords", fn: (*Engine).createPassword},
		{pattern: "POST /v1/passwords/authenticate", fn: (*Engine).authenticatePassword},
		{pattern: "POST /v1/passwords/strength_check", fn: (*Engine).strengthCheck},
		{pattern: "POST /v1/passwords/existing_password/reset", fn: (*Engine).resetExistingPassword},
		{pattern: "POST /v1/passwords/session/reset", fn: (*Engine).resetSessionPassword},
		{pattern: "GET /v1/sessions", fn: (*Engine).listSessions},
		{pattern: "POST /v1/sessions/authenticate", fn: (*Engine).authenticateSession},
		{pattern: "POST /v1/sessions/revoke", fn: (*Engine).revokeSession},
		{pattern: "GET /v1/sessions/revocations", fn: (*Engine).revocations},
		{pattern: "GET /v1/sessions/jwks/{project_id}", public: true, fn: (*Engine).jwks},
		{pattern: "GET /v1/public/oauth/{provider}/start", public: true, fn: (*Engine).startOAuth},
		{pattern: "GET /v1/oauth/callback", public: true, fn: (*Engine).oauthCallback},
		{pattern: "POST /v1/oauth/authenticate", fn: (*Engine).authenticateOAuth},
		{pattern: "POST /v1/oauth/attach", fn: (*Engine).attachOAuth},
		{pattern: "POST /v1/webauthn/register/start", fn: (*Engine).startWebAuthnRegistration},
		{pattern: "POST /v1/webauthn/register", fn: (*Engine).finishWebAuthnRegistration},
		{pattern: "POST /v1/webauthn/authenticate/start", fn: (*Engine).startWebAuthnAuthentication},
		{pattern: "POST /v1/webauthn/authenticate", fn: (*Engine).authenticateWebAuthn},
		{pattern: "PUT /v1/webauthn/{webauthn_registration_id}", fn: (*Engine).updateWebAuthnRegistration},
		{pattern: "GET /v1/webauthn/credentials/{user_id}/{domain}", fn: (*Engine).listWebAuthnCredentials},
		{pattern: "DELETE /v1/users/webauthn_registrations/{webauthn_registration_id}", fn: (*Engine).deleteWebAuthnRegistration},
		{pattern: "POST /v1/m2m/clients", fn: (*Engine).createM2MClient},
		{pattern: "GET /v1/m2m/clients/{client_id}", fn: (*Engine).getM2MClient},
		{pattern: "PUT /v1/m2m/clients/{client_id}", fn: (*Engine).updateM2MClient},
		{pattern: "DELETE /v1/m2m/clients/{client_id}", fn: (*Engine).deleteM2MClient},
		{pattern: "POST /v1/m2m/clients/search", fn: (*Engine).searchM2MClients},
		{pattern: "POST /v1/m2m/clients/{client_id}/secrets/rotate/start", fn: (*Engine).startM2MRotation},
		{pattern: "POST /v1/m2m/clients/{client_id}/secrets/rotate/cancel", fn: (*Engine).cancelM2MRotation},
		{pattern: "POST /v1/m2m/clients/{client_id}/secrets/rotate", fn: (*Engine).finishM2MRotation},
		{pattern: "POST /v1/public/{project_id}/oauth2/token", public: true, fn: (*Engine).m2mToken},
	}
}

// newMux registers the routes on a ServeMux. What none matches reaches
// the catch-all "/", which answers a Stytch-shaped 405 with Allow when the
// path has routes for other methods (found by asking the mux itself), and a
// Stytch-shaped 404 otherwise. See RATIONALE.md, "Why net/http.ServeMux?".
func (e *Engine) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	real := map[string]bool{}
	var methods []string // every method some route has, in route order
	for _, rt := range routes() {
		mux.Handle(rt.pattern, e.endpoint(rt))
		real[rt.pattern] = true
		if m, _, _ := strings.Cut(rt.pattern, " "); !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e.answer(w, r, func(*call) error {
			var allow []string
			probe := *r
			for _, m := range methods {
				probe.Method = m
				if _, pattern := mux.Handler(&probe); real[pattern] {
					allow = append(allow, m)
					if m == http.MethodGet {
						allow = append(allow, http.MethodHead)
					}
				}
			}
			if len(allow) == 0 {
				return errNotFound
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return errMethodNotAllowed
		})
	})
	return mux
}

// endpoint wraps a route's handler with project auth.
func (e *Engine) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.answer(w, r, func(c *call) error {
			if !rt.public && !e.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Basic realm="latch"`)
				return errUnauthorized
			}
			return rt.fn(e, c)
		})
	})
}

// serve answers one request. A trailing slash is ignored; a path that is
// not in canonical form (".." or "//" segments) is not found, rather than
// redirected as ServeMux would.
func (e *Engine) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" || path.Clean(p) != p {
		e.answer(w, r, func(*call) error { return errNotFound })
		return
	}
	if p != r.URL.Path {
		r2, u := *r, *r.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		r = &r2
	}
	e.mux.ServeHTTP(w, r)
}

// answer runs f as one API call: it gives the call its request id, answers
// an error f returns in Stytch's shape, and turns a panic into a 500.
func (e *Engine) answer(w http.ResponseWriter, r *http.Request, f func(c *call) error) {
	c := &call{w: w, r: r, requestID: e.newID("request-id")}
	defer func() {
		if v := recover(); v != nil {
			e.cfg.Logger.Error("engine: panic", "request_id", c.requestID, "path", clip(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.fail(errInternal)
		}
	}()
	if err := f(c); err != nil {
		ae := asAPIError(err)
		if ae == errInternal {
			e.cfg.Logger.Error("engine: request failed", "request_id", c.requestID, "path", clip(r.URL.Path), "err", err)
		}
		c.fail(ae)
	}
}

// authorized checks project Basic auth in constant time. Both sides are
// hashed first so the comparison does not leak their lengths either.
func (e *Engine) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	okUser := subtle.ConstantTimeCompare(u[:], e.wantUser[:])
	okPass := subtle.ConstantTimeCompare(p[:], e.wantPass[:])
	return okUser&okPass == 1
}
