package wazerohost

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/keys"
)

// call makes one authenticated JSON call to s and decodes the answer.
func call(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	c := apitest.Client{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret, HTTP: http.DefaultClient}
	status, out, err := c.Do(context.Background(), method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, out
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

// loginErr is login for goroutines: it reports instead of failing t.
func loginErr(s *Server, email string) (map[string]any, error) {
	steps := []struct {
		path string
		body func(prev map[string]any) map[string]any
	}{
		{"/v1/users", func(map[string]any) map[string]any { return map[string]any{"email": email} }},
		{"/v1/magic_links", func(p map[string]any) map[string]any { return map[string]any{"user_id": p["user_id"]} }},
		{"/v1/magic_links/authenticate", func(p map[string]any) map[string]any {
			return map[string]any{"token": p["token"], "session_duration_minutes": 60}
		}},
	}
	var prev map[string]any
	for _, st := range steps {
		b, _ := json.Marshal(st.body(prev))
		req, err := http.NewRequest("POST", s.URL+st.path, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(s.ProjectID, s.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		prev = nil
		err = json.NewDecoder(resp.Body).Decode(&prev)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %d %v %v", st.path, resp.StatusCode, prev, err)
		}
	}
	return prev, nil
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
	s := start(t)
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

func TestConcurrentRequests(t *testing.T) {
	s, err := newServer(Config{Instances: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const workers, each = 8, 4
	errs := make(chan error, workers)
	sessions := make(chan string, workers*each)
	for w := range workers {
		go func() {
			errs <- func() error {
				for i := range each {
					auth, err := loginErr(s, fmt.Sprintf("w%d-%d@example.com", w, i))
					if err != nil {
						return err
					}
					session, _ := auth["session"].(map[string]any)
					sessions <- fmt.Sprint(session["session_id"])
				}
				return nil
			}()
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(sessions)
	seen := map[string]bool{}
	for id := range sessions {
		if seen[id] {
			t.Fatalf("session %s minted twice", id)
		}
		seen[id] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d sessions, want %d", len(seen), workers*each)
	}
}

func TestKeyRotation(t *testing.T) {
	s := start(t)
	before := login(t, s, "rot@example.com")
	old := s.Keys()[0]
	k, err := s.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Keys(); len(got) != 2 || got[0].KID != k.KID || got[1].KID != old.KID {
		t.Fatalf("keys after rotation: %v", got)
	}
	after := login(t, s, "rot2@example.com")
	keyfunc := jwksKeyfunc(t, s)
	for name, want := range map[string]string{"before": old.KID, "after": k.KID} {
		auth := map[string]map[string]any{"before": before, "after": after}[name]
		tok, err := jwt.Parse(auth["session_jwt"].(string), keyfunc, jwt.WithTimeFunc(s.Now))
		if err != nil {
			t.Fatalf("%s rotation: %v", name, err)
		}
		if tok.Header["kid"] != want {
			t.Errorf("%s rotation: kid %v, want %s", name, tok.Header["kid"], want)
		}
	}
	// A JWT from the old key still authenticates, and comes back signed
	// by the new one.
	status, out := call(t, s, "POST", "/v1/sessions/authenticate", map[string]any{"session_jwt": before["session_jwt"]})
	mustOK(t, status, out)
	tok, _, err := jwt.NewParser().ParseUnverified(out["session_jwt"].(string), jwt.MapClaims{})
	if err != nil || tok.Header["kid"] != k.KID {
		t.Fatalf("refreshed JWT: kid %v, err %v", tok.Header["kid"], err)
	}
	if err := s.SetKeys(nil); !errors.Is(err, ErrConfig) {
		t.Errorf("SetKeys(nil): err = %v, want ErrConfig", err)
	}
}

func TestAdvance(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := newServer(Config{Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	auth := login(t, s, "clock@example.com")
	session, _ := auth["session"].(map[string]any)
	if session["started_at"] != "2030-01-02T03:04:05Z" {
		t.Fatalf("started_at = %v, want the configured clock", session["started_at"])
	}
	s.Advance(59 * time.Minute)
	status, out := call(t, s, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": auth["session_token"]})
	mustOK(t, status, out)
	s.Advance(2 * time.Minute)
	status, out = call(t, s, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": auth["session_token"]})
	if status != http.StatusNotFound || out["error_type"] != "session_not_found" {
		t.Fatalf("after expiry: %d %v", status, out)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{name: "negative instances", cfg: Config{Instances: -1}, want: ErrConfig},
		{name: "negative request timeout", cfg: Config{RequestTimeout: -time.Second}, want: ErrConfig},
		{name: "key without private half", cfg: Config{Keys: []keys.Key{{KID: "jwk-test-x"}}}, want: ErrConfig},
		{name: "secret key of 16 bytes", cfg: Config{SecretKey: make([]byte, 16)}, want: ErrConfig},
		{name: "secret key of 33 bytes", cfg: Config{SecretKey: make([]byte, keys.SecretKeySize+1)}, want: ErrConfig},
		{name: "missing wasm", cfg: Config{WasmPath: filepath.Join(t.TempDir(), "none.wasm")}, want: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newServer(tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s != nil {
				t.Fatal("got a server with an error")
			}
		})
	}
}

func TestFileStoreSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.db")
	cfg := Config{DBPath: path, ProjectID: "project-test-restart", Secret: "secret-test-restart"}
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys = s.Keys()
	auth := login(t, s, "persist@example.com")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s, err = newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	status, out := call(t, s, "POST", "/v1/sessions/authenticate", map[string]any{"session_token": auth["session_token"]})
	mustOK(t, status, out)
}

func TestHostErrors(t *testing.T) {
	s := start(t)
	req, _ := http.NewRequest("GET", s.URL+"/v1/users/user-test-x", nil)
	for i := range wire.MaxHeaders + 1 {
		req.Header.Add("X-Many", fmt.Sprint(i))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("too many headers: status %d", resp.StatusCode)
	}
	// A body over the engine's 1 MiB limit still reaches the engine, cut
	// one byte past the limit, and the engine refuses it.
	status, out := call(t, s, "POST", "/v1/users", map[string]any{"email": strings.Repeat("a", 2<<20)})
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d %v", status, out)
	}
}

func TestRejectedConfig(t *testing.T) {
	var stderr bytes.Buffer
	s, err := newServer(Config{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	// A config the guest refuses (its signing kid is not published) must
	// fail requests, not leave them to an engine with the old config.
	s.mu.Lock()
	s.config = wire.AppendConfig(nil, &wire.Config{ProjectID: s.ProjectID, Secret: s.Secret, KeyID: "jwk-test-missing"})
	s.gen++
	s.mu.Unlock()
	status, out := call(t, s, "GET", "/v1/users/user-test-x", nil)
	if status != http.StatusInternalServerError || out["error_type"] != "internal_server_error" {
		t.Fatalf("request with a refused config: %d %v", status, out)
	}
	if _, err := s.host.get(t.Context()); err == nil || !strings.Contains(err.Error(), "not among the public keys") {
		t.Fatalf("get: err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "testharness: \"GET\" \"/v1/users/user-test-x\": testharness: configure guest") {
		t.Errorf("stderr does not say why the request failed: %q", stderr.String())
	}
}

// TestLargeAnswer reads back rows larger together than the guest's 64 KiB
// answer buffer, which cross through the host's pending answer and
// "result": a search whose users each carry metadata near its bound.
func TestLargeAnswer(t *testing.T) {
	s := start(t)
	const users = 24
	blob := strings.Repeat("0123456789abcdef", 3800/16)
	for i := range users {
		status, user := call(t, s, "POST", "/v1/users", map[string]any{
			"email": fmt.Sprintf("big-%02d@example.com", i), "untrusted_metadata": map[string]any{"blob": blob},
		})
		mustOK(t, status, user)
	}
	status, got := call(t, s, "POST", "/v1/users/search", map[string]any{"limit": 100, "query": map[string]any{"operator": "AND",
		"operands": []any{map[string]any{"filter_name": "email_address_fuzzy", "filter_value": "big-"}}}})
	mustOK(t, status, got)
	results, _ := got["results"].([]any)
	if len(results) != users {
		t.Fatalf("%d users came back, want %d", len(results), users)
	}
	for _, r := range results {
		meta, _ := r.(map[string]any)["untrusted_metadata"].(map[string]any)
		if meta["blob"] != blob {
			t.Fatalf("metadata came back with %d bytes, want %d", len(fmt.Sprint(meta["blob"])), len(blob))
		}
	}
}
