package testharness

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// api makes one authenticated JSON call and decodes the answer into a map.
func call(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.ProjectID, s.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func mustOK(t *testing.T, status int, out map[string]any) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, out)
	}
}

// jwksKeyfunc fetches the JWKS the server publishes and returns a keyfunc
// that picks a key by kid.
func jwksKeyfunc(t *testing.T, s *Server) jwt.Keyfunc {
	t.Helper()
	resp, err := http.Get(s.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	pub := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad jwk %+v", k)
		}
		pub[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if k, ok := pub[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
}

// login creates a user and a magic link and authenticates it with a
// session, returning the authenticate answer.
func login(t *testing.T, s *Server, email string) map[string]any {
	t.Helper()
	status, user := call(t, s, "POST", "/v1/users", map[string]any{"email": email})
	mustOK(t, status, user)
	status, link := call(t, s, "POST", "/v1/magic_links", map[string]any{"user_id": user["user_id"]})
	mustOK(t, status, link)
	status, auth := call(t, s, "POST", "/v1/magic_links/authenticate", map[string]any{
		"token": link["token"], "session_duration_minutes": 60,
	})
	mustOK(t, status, auth)
	if auth["user_id"] != user["user_id"] {
		t.Fatalf("authenticated %v, created %v", auth["user_id"], user["user_id"])
	}
	return auth
}

func TestMagicLinkSessionJWT(t *testing.T) {
	s := Start(t)
	auth := login(t, s, "ada@example.com")
	raw, _ := auth["session_jwt"].(string)
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, jwksKeyfunc(t, s),
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(s.ProjectID),
		jwt.WithIssuer("stytch.com/"+s.ProjectID),
		jwt.WithTimeFunc(s.Now))
	if err != nil {
		t.Fatalf("session_jwt does not verify against the JWKS: %v", err)
	}
	if sub, _ := claims.GetSubject(); sub != auth["user_id"] {
		t.Errorf("sub = %q, want %v", sub, auth["user_id"])
	}
	if kid := tok.Header["kid"]; kid != s.Keys()[0].KID {
		t.Errorf("kid = %v, want %s", kid, s.Keys()[0].KID)
	}
	session, _ := auth["session"].(map[string]any)
	exp, _ := time.Parse(time.RFC3339, fmt.Sprint(session["expires_at"]))
	if d := exp.Sub(s.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("session expires in %v, want 60m", d)
	}

	// The opaque token authenticates too.
	status, again := call(t, s, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": auth["session_token"]})
	mustOK(t, status, again)

	// Duplicate email: the UNIQUE violation crosses the bridge intact.
	status, dup := call(t, s, "POST", "/v1/users", map[string]any{"email": "ada@example.com"})
	if status != http.StatusBadRequest || dup["error_type"] != "duplicate_email" {
		t.Fatalf("duplicate email: %d %v", status, dup)
	}
}
