// Package sdk serves the /sdk/v1 surface that Stytch's frontend SDKs
// (@stytch/vanilla-js and the libraries built on it) call from an app's
// pages: the project's bootstrap, email OTP and magic links, passwords,
// social login's token and attach, the caller's own user and session. It is an http.Handler in front of the
// engine, as the hosted login page is: each call is checked here (public
// token, authorized origin, per-client limits), then made of the engine's
// own endpoints, called in process with the project credentials, and
// answered in the SDK's envelope ({"data": …} on success, the engine's
// error body otherwise). See RATIONALE.md, "How does Stytch's frontend SDK
// reach Latch?".
package sdk

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/internal/ratelimit"
)

// Per-client limits of the surface, per process (per isolate on the
// Worker), as the hosted login page's: calls that mail, and calls that
// check a secret (a code, a link, a password) or tell whether an address
// has an account. The lasting limits are the engine's own, per inbox
// (mail) and per factor (attempts, lockouts).
const (
	limitMails      = 10
	limitMailWindow = 10 * time.Minute
	limitChecks     = 30
	limitWindow     = time.Minute
	limitClients    = 10000
	// maxToken bounds the Basic password (a session token or the public
	// token) read from a request.
	maxToken = 512
)

// New returns the SDK surface: requests under /sdk/ are its own, every
// other request goes to cfg.API unchanged.
func New(cfg Config) (http.Handler, error) {
	s, err := cfg.check()
	if err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mails = ratelimit.New(limitMails, limitMailWindow, limitClients)
	s.checks = ratelimit.New(limitChecks, limitWindow, limitClients)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.endpoint(rt))
	}
	s.mux.HandleFunc("/sdk/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, http.StatusNotFound, "not_found", "The SDK endpoint could not be found.")
	})
	return s, nil
}

// surface is a checked Config with its router and limits.
type surface struct {
	Config
	env     string            // the project's environment, "test" or "live"
	origins []string          // Origins, canonical
	token   [sha256.Size]byte // SHA-256 of PublicToken
	mux     *http.ServeMux
	mails   *ratelimit.Limiter // calls that mail, per client
	checks  *ratelimit.Limiter // calls that check a secret, per client
}

// check validates c and fills in its defaults.
func (c Config) check() (*surface, error) {
	switch {
	case c.API == nil:
		return nil, fmt.Errorf("%w: missing API", ErrConfig)
	case c.ProjectID == "" || c.Secret == "":
		return nil, fmt.Errorf("%w: missing project credentials", ErrConfig)
	case len(c.Origins) == 0:
		return nil, fmt.Errorf("%w: no authorized origins", ErrConfig)
	}
	if err := checkPublicToken(c.ProjectID, c.PublicToken); err != nil {
		return nil, err
	}
	s := &surface{Config: c, env: engine.EnvOf(c.ProjectID), token: sha256.Sum256([]byte(c.PublicToken))}
	for _, raw := range c.Origins {
		o, err := ParseOrigin(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if !slices.Contains(s.origins, o) {
			s.origins = append(s.origins, o)
		}
	}
	if c.CookieDomain != "" {
		ck := http.Cookie{Name: tokenCookie, Value: "x", Domain: c.CookieDomain}
		if err := ck.Valid(); err != nil || strings.ContainsAny(c.CookieDomain, ":/ ") {
			return nil, fmt.Errorf("%w: CookieDomain %q is not a domain", ErrConfig, c.CookieDomain)
		}
	}
	if s.ProjectName == "" {
		s.ProjectName = "Latch"
	}
	if s.ClientIP == nil {
		s.ClientIP = ratelimit.RemoteHost
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// ServeHTTP answers a request under /sdk/ and passes any other to the API.
// A request is the surface's only from an authorized origin: its Origin
// header, or without one (a same-origin GET) the SDK's X-SDK-Parent-Host.
// Preflights from such an origin are answered with credentialed CORS
// headers naming it; everything from any other origin is refused, so a
// page elsewhere can neither read an answer nor have a mail sent.
func (s *surface) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/sdk/") {
		s.API.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == framePath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.serveFrame(w)
		return
	}
	origin, ok := s.origin(r)
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Cache-Control", "no-store")
	if ok {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if !ok {
			s.fail(w, http.StatusForbidden, "invalid_origin", "This origin is not authorized for the project's SDK.")
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-SDK-Client, X-SDK-Parent-Host")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !ok {
		s.Logger.Warn("sdk: call from an unauthorized origin refused", "path", clip(r.URL.Path))
		s.fail(w, http.StatusForbidden, "invalid_origin", "This origin is not authorized for the project's SDK.")
		return
	}
	// A path not in canonical form ("..", "//", a trailing slash) is not
	// found, rather than redirected as ServeMux would, in HTML.
	if path.Clean(r.URL.Path) != r.URL.Path {
		s.fail(w, http.StatusNotFound, "not_found", "The SDK endpoint could not be found.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// origin returns the request's origin and whether it is authorized.
func (s *surface) origin(r *http.Request) (string, bool) {
	raw := r.Header.Get("Origin")
	if raw == "" {
		raw = r.Header.Get("X-SDK-Parent-Host")
	}
	if raw == "" {
		return "", false
	}
	o, err := ParseOrigin(raw)
	if err != nil || !slices.Contains(s.origins, o) {
		return "", false
	}
	return raw, true
}

// caller is who makes an SDK call: the session token the SDK sends as its
// Basic password, or "" when it sends the public token again (signed out).
type caller struct {
	session    string
	fromCookie bool // the session came from the HttpOnly cookie
}

// authenticate checks the call's Basic credentials: the public token as
// the user, compared in constant time through SHA-256 (as the engine
// compares the project credentials), and a password of bounded length.
func (s *surface) authenticate(r *http.Request) (caller, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok || len(pass) > maxToken {
		return caller{}, false
	}
	u := sha256.Sum256([]byte(user))
	if subtle.ConstantTimeCompare(u[:], s.token[:]) != 1 {
		return caller{}, false
	}
	if pass != user && pass != "" {
		return caller{session: pass}, true
	}
	if s.HTTPOnlyCookies {
		if ck, err := r.Cookie(tokenCookie); err == nil && ck.Value != "" && len(ck.Value) <= maxToken {
			return caller{session: ck.Value, fromCookie: true}, true
		}
	}
	return caller{}, true
}

// fail answers in the engine's error shape, which the SDK reads as a
// StytchAPIError.
func (s *surface) fail(w http.ResponseWriter, status int, errorType, message string) {
	engine.WriteError(w, s.env, status, errorType, message)
}

// clip bounds a value that goes to the log.
func clip(v string) string {
	if len(v) > 200 {
		return v[:200]
	}
	return v
}
