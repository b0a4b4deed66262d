package sdk

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// The cookies of Config.HTTPOnlyCookies: the names Stytch's SDK uses.
const (
	tokenCookie = "stytch_session"
	jwtCookie   = "stytch_session_jwt"
)

// keepSession is the HttpOnly mode's part of an answer: a success that
// carries a session sets its cookies and takes the tokens out of the body;
// a revoke, or a session the engine no longer knows, clears them.
func (s *surface) keepSession(w http.ResponseWriter, r *http.Request, who caller, a *answer) {
	if a.status != http.StatusOK {
		if who.fromCookie && (a.status == http.StatusNotFound || a.status == http.StatusUnauthorized) {
			s.setCookies(w, r, "", "", time.Unix(0, 0))
		}
		return
	}
	if r.URL.Path == "/sdk/v1/sessions/revoke" {
		s.setCookies(w, r, "", "", time.Unix(0, 0))
		return
	}
	token, _ := a.data["session_token"].(string)
	jwt, _ := a.data["session_jwt"].(string)
	if token == "" || jwt == "" {
		return
	}
	sv, _ := a.data["session"].(map[string]any)
	raw, _ := sv["expires_at"].(string)
	expires, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return
	}
	s.setCookies(w, r, token, jwt, expires)
	a.data["session_token"], a.data["session_jwt"] = "", ""
}

// setCookies sets (or, with empty values and a past expiry, clears) the
// session cookies: HttpOnly, SameSite=Lax, Path=/, on CookieDomain, and
// Secure unless the surface is served over plain HTTP on loopback.
func (s *surface) setCookies(w http.ResponseWriter, r *http.Request, token, jwt string, expires time.Time) {
	secure := r.TLS != nil || !loopbackHost(r.Host)
	for name, v := range map[string]string{tokenCookie: token, jwtCookie: jwt} {
		ck := &http.Cookie{Name: name, Value: v, Path: "/", Domain: s.CookieDomain, Expires: expires,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
		if v == "" {
			ck.MaxAge = -1
		}
		http.SetCookie(w, ck)
	}
}

// loopbackHost reports whether a Host header names a loopback address or
// localhost.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
