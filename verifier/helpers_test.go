package verifier

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testProject = "project-test-11111111-2222-3333-4444-555555555555"

// testKey is an RSA signing key as the engine holds it (the tests do not
// import the engine, so that they build while it changes).
type testKey struct {
	KID     string
	Private *rsa.PrivateKey
}

func (k testKey) jwk() map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.KID, "key_ops": []string{"verify"},
		"n": base64.RawURLEncoding.EncodeToString(k.Private.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Private.E)).Bytes()),
	}
}

// testKeys are generated once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() []testKey {
	out := make([]testKey, 3)
	for i := range out {
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = testKey{KID: fmt.Sprintf("jwk-test-%08d-0000-4000-8000-000000000000", i), Private: priv}
	}
	return out
})

// jwksServer serves a JWKS it can change, break and count.
type jwksServer struct {
	*httptest.Server
	mu           sync.Mutex
	keys         []testKey
	extra        []map[string]any // raw extra entries served after the keys
	status       int
	cacheControl string
	fetches      atomic.Int64
	gate         chan struct{} // when non-nil, each fetch waits on it

	// The edge's POST /v1/sessions/authenticate, when set.
	authenticate http.HandlerFunc
	authCalls    atomic.Int64
	// The edge's GET /v1/sessions/revocations, when set.
	feed http.HandlerFunc
}

func newJWKSServer(t testing.TB, ks ...testKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: ks, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/sessions/authenticate" && r.Method == http.MethodPost {
		s.authCalls.Add(1)
		s.mu.Lock()
		h := s.authenticate
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
		return
	}
	if r.URL.Path == "/v1/sessions/revocations" && s.feed != nil {
		s.feed(w, r)
		return
	}
	if r.URL.Path != "/v1/sessions/jwks/"+testProject {
		http.NotFound(w, r)
		return
	}
	s.fetches.Add(1)
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cacheControl != "" {
		w.Header().Set("Cache-Control", s.cacheControl)
	}
	if s.status != http.StatusOK {
		w.WriteHeader(s.status)
		return
	}
	list := []any{}
	for _, k := range s.keys {
		list = append(list, k.jwk())
	}
	for _, e := range s.extra {
		list = append(list, e)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": list})
}

func (s *jwksServer) setKeys(ks ...testKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = ks
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

// clock is an adjustable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1745307712, 0).UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// claimsAt returns the claims Latch puts in a session JWT issued at iat.
func claimsAt(iat time.Time) jwt.MapClaims {
	ts := iat.UTC().Format(time.RFC3339)
	return jwt.MapClaims{
		"iss": "stytch.com/" + testProject,
		"aud": []string{testProject},
		"sub": "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd",
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"exp": iat.Unix() + 300,
		"https://stytch.com/session": map[string]any{
			"id":               "session-test-fe6c042b-6286-479f-8a4a-b4a21ac72e5f",
			"started_at":       ts,
			"last_accessed_at": ts,
			"expires_at":       iat.Add(time.Hour).UTC().Format(time.RFC3339),
			"attributes":       map[string]any{"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0"},
			"authentication_factors": []any{map[string]any{
				"type": "magic_link", "delivery_method": "email", "last_authenticated_at": ts,
				"email_factor": map[string]any{
					"email_id":      "email-test-81bf03a8-86e1-4d95-bd44-bb3495224953",
					"email_address": "sandbox@stytch.com",
				},
			}},
			"roles": []string{"stytch_user"},
		},
	}
}

// mint signs claims with k as Latch does.
func mint(t testing.TB, k testKey, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = k.KID
	s, err := tok.SignedString(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mintRaw signs the claims JSON text payload with k, for claims a Go map
// cannot express (repeated names, numbers beyond float64).
func mintRaw(t testing.TB, k testKey, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	in := enc([]byte(`{"alg":"RS256","kid":"`+k.KID+`","typ":"JWT"}`)) + "." + enc([]byte(payload))
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, k.Private, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + enc(sig)
}

// withMembers appends members, JSON text, to the JSON object text obj.
func withMembers(obj string, members ...string) string {
	for _, m := range members {
		obj = obj[:len(obj)-1] + "," + m + "}"
	}
	return obj
}

// claimsJSON is claimsAt(iat) as JSON text.
func claimsJSON(t testing.TB, iat time.Time) string {
	t.Helper()
	b, err := json.Marshal(claimsAt(iat))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newTestVerifier starts a Verifier against srv with clk as its clock,
// without the revocation feed (srv serves none unless its feed is set).
func newTestVerifier(t testing.TB, srv *jwksServer, clk *clock, edit func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{ProjectID: testProject, BaseURL: srv.URL, Secret: "secret-test-x", Now: clk.Now, DisableRevocationFeed: true}
	if edit != nil {
		edit(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// syncBuffer is a bytes.Buffer safe for the logger's background writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
