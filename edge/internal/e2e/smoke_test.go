//go:build !js

package e2e

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/testharness/apitest"
)

// api is a minimal Latch client for the tests.
type api struct {
	t      testing.TB
	target Target
	client *http.Client
}

func newAPI(t testing.TB, tg Target) *api {
	return &api{t: t, target: tg, client: &http.Client{Timeout: 30 * time.Second, Transport: Transport()}}
}

// call sends a request (Basic auth unless auth is false) and decodes the
// JSON answer, checking status_code against the HTTP status.
func (a *api) call(method, path string, body any, auth bool) (int, map[string]any) {
	a.t.Helper()
	return a.callAs(method, path, body, auth, a.target.ProjectID, a.target.Secret)
}

func (a *api) callAs(method, path string, body any, auth bool, user, pass string) (int, map[string]any) {
	a.t.Helper()
	status, out, err := a.do(method, path, body, auth, user, pass)
	if err != nil {
		a.t.Fatal(err)
	}
	return status, out
}

// do is call without the test: safe from any goroutine.
func (a *api) do(method, path string, body any, auth bool, user, pass string) (int, map[string]any, error) {
	c := apitest.Client{URL: a.target.URL, ProjectID: user, Secret: pass, NoAuth: !auth, HTTP: a.client}
	status, out, err := c.Do(context.Background(), method, path, body)
	if err != nil {
		return 0, nil, err
	}
	if sc, ok := out["status_code"].(float64); !ok || int(sc) != status {
		return 0, nil, fmt.Errorf("%s %s: status_code %v, HTTP status %d", method, path, out["status_code"], status)
	}
	return status, out, nil
}

// try is must without the test: safe from any goroutine.
func (a *api) try(method, path string, body any) (map[string]any, error) {
	status, out, err := a.do(method, path, body, true, a.target.ProjectID, a.target.Secret)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s %s: status %d: %v", method, path, status, out)
	}
	return out, nil
}

// must calls and fails the test unless the answer is 200.
func (a *api) must(method, path string, body any) map[string]any {
	a.t.Helper()
	status, out := a.call(method, path, body, true)
	if status != http.StatusOK {
		a.t.Fatalf("%s %s: status %d: %v", method, path, status, out)
	}
	return out
}

func str(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok || s == "" {
		t.Fatalf("field %q: got %#v, want a non-empty string", key, m[key])
	}
	return s
}

// jwksKeys fetches the JWKS without credentials and returns its keys by kid.
func (a *api) jwksKeys() map[string]*rsa.PublicKey {
	a.t.Helper()
	status, out := a.call(http.MethodGet, "/v1/sessions/jwks/"+a.target.ProjectID, nil, false)
	if status != http.StatusOK {
		a.t.Fatalf("jwks: status %d: %v", status, out)
	}
	list, ok := out["keys"].([]any)
	if !ok || len(list) == 0 {
		a.t.Fatalf("jwks: no keys: %v", out)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, item := range list {
		k := item.(map[string]any)
		for field, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256"} {
			if k[field] != want {
				a.t.Errorf("jwks key %v: %s = %v, want %s", k["kid"], field, k[field], want)
			}
		}
		n, e := decodeB64Int(a.t, k["n"]), decodeB64Int(a.t, k["e"])
		keys[k["kid"].(string)] = &rsa.PublicKey{N: n, E: int(e.Int64())}
	}
	return keys
}

func decodeB64Int(t testing.TB, v any) *big.Int {
	t.Helper()
	s, _ := v.(string)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		t.Fatalf("bad base64url integer %q: %v", s, err)
	}
	return new(big.Int).SetBytes(b)
}

// verifyJWT checks a session JWT against the served JWKS and returns its
// claims.
func (a *api) verifyJWT(token string, keys map[string]*rsa.PublicKey, userID, sessionID string) jwt.MapClaims {
	a.t.Helper()
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		if typ := tok.Header["typ"]; typ != "JWT" {
			return nil, fmt.Errorf("typ %v", typ)
		}
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return k, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer("stytch.com/"+a.target.ProjectID),
		jwt.WithAudience(a.target.ProjectID),
		jwt.WithSubject(userID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil || !parsed.Valid {
		a.t.Fatalf("session_jwt does not verify: %v", err)
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp != iat+300 {
		a.t.Errorf("exp = %v, want iat+300 = %v", exp, iat+300)
	}
	if nbf, _ := claims["nbf"].(float64); nbf != iat {
		a.t.Errorf("nbf = %v, want iat = %v", nbf, iat)
	}
	sess, ok := claims["https://stytch.com/session"].(map[string]any)
	if !ok {
		a.t.Fatalf("no https://stytch.com/session claim: %v", claims)
	}
	if sess["id"] != sessionID {
		a.t.Errorf("session claim id = %v, want %s", sess["id"], sessionID)
	}
	if factors, _ := sess["authentication_factors"].([]any); len(factors) != 1 {
		a.t.Errorf("session claim factors = %v, want one", sess["authentication_factors"])
	}
	return claims
}

// TestSmoke runs the main flow of API.md against the Worker on workerd.
func TestSmoke(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)

	created := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "ada@example.com"})
	userID := str(t, created, "user_id")

	ml := a.must(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": userID})
	token := str(t, ml, "token")

	auth := a.must(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{
		"token": token, "session_duration_minutes": 60,
	})
	sessionToken, sessionJWT := str(t, auth, "session_token"), str(t, auth, "session_jwt")
	session, _ := auth["session"].(map[string]any)
	sessionID := str(t, session, "session_id")
	if got := str(t, auth, "user_id"); got != userID {
		t.Errorf("authenticate user_id = %s, want %s", got, userID)
	}

	keys := a.jwksKeys()
	a.verifyJWT(sessionJWT, keys, userID, sessionID)

	status, again := a.call(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": token}, true)
	if status != http.StatusUnauthorized || again["error_type"] != "unable_to_auth_magic_link" {
		t.Errorf("second use of magic link: %d %v, want 401 unable_to_auth_magic_link", status, again["error_type"])
	}

	byToken := a.must(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": sessionToken})
	if s, _ := byToken["session"].(map[string]any); s["session_id"] != sessionID {
		t.Errorf("authenticate by token: session %v, want %s", s["session_id"], sessionID)
	}
	a.verifyJWT(str(t, byToken, "session_jwt"), keys, userID, sessionID)

	byJWT := a.must(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_jwt": sessionJWT})
	if s, _ := byJWT["session"].(map[string]any); s["session_id"] != sessionID {
		t.Errorf("authenticate by JWT: session %v, want %s", s["session_id"], sessionID)
	}

	list := a.must(http.MethodGet, "/v1/sessions?user_id="+userID, nil)
	if sessions, _ := list["sessions"].([]any); len(sessions) != 1 {
		t.Errorf("list: %d sessions, want 1: %v", len(sessions), list)
	}

	a.must(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})
	for _, body := range []map[string]any{{"session_token": sessionToken}, {"session_jwt": sessionJWT}} {
		status, out := a.call(http.MethodPost, "/v1/sessions/authenticate", body, true)
		if status != http.StatusNotFound || out["error_type"] != "session_not_found" {
			t.Errorf("authenticate %v after revoke: %d %v, want 404 session_not_found", body, status, out["error_type"])
		}
	}

	for _, c := range []struct {
		name       string
		user, pass string
	}{
		{name: "wrong secret", user: w.ProjectID, pass: w.Secret + "x"},
		{name: "wrong project", user: "project-test-00000000-0000-4000-8000-000000000000", pass: w.Secret},
		{name: "empty", user: "", pass: ""},
	} {
		status, out := a.callAs(http.MethodPost, "/v1/users", map[string]any{"email": "bob@example.com"}, true, c.user, c.pass)
		if status != http.StatusUnauthorized || out["error_type"] != "unauthorized_credentials" {
			t.Errorf("%s: %d %v, want 401 unauthorized_credentials", c.name, status, out["error_type"])
		}
	}
	status, out := a.call(http.MethodPost, "/v1/users", map[string]any{"email": "bob@example.com"}, false)
	if status != http.StatusUnauthorized || out["error_type"] != "unauthorized_credentials" {
		t.Errorf("no credentials: %d %v, want 401 unauthorized_credentials", status, out["error_type"])
	}
}
