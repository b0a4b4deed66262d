package testharness_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/verifier"
)

// These tests of package verifier run against tokens minted by the real
// engine: the wasip1 build under wazero, served over loopback by
// testharness. They live in the root module because the verifier module
// does not require the engine; the verifier's own tests are in verifier/.

// The verifier's documented defaults these tests rely on.
const (
	defaultCooldown     = 30 * time.Second // Config.RefreshCooldown
	notFoundTTL         = 30 * time.Second // how long a session_not_found answer is remembered
	defaultMaxFallbacks = 16               // Config.MaxConcurrentFallbacks
)

// edgeCall makes one authenticated API call to the harness.
func edgeCall(t *testing.T, srv *testharness.Server, path string, body any) map[string]any {
	t.Helper()
	c := apitest.Client{URL: srv.URL, ProjectID: srv.ProjectID, Secret: srv.Secret, HTTP: http.DefaultClient}
	return c.MustPost(t, path, body)
}

var emailSeq atomic.Int64

// login creates a user and a session through an embeddable magic link and
// returns the session's id, opaque token and JWT.
func login(t *testing.T, srv *testharness.Server) (sessionID, token, jwtStr string) {
	t.Helper()
	return loginWith(t, srv, map[string]any{"plan": "pro"})
}

// loginWith is login with the given session custom claims.
func loginWith(t *testing.T, srv *testharness.Server, claims map[string]any) (sessionID, token, jwtStr string) {
	t.Helper()
	email := fmt.Sprintf("origin-%d@example.com", emailSeq.Add(1))
	user := edgeCall(t, srv, "/v1/users", map[string]any{"email": email})
	link := edgeCall(t, srv, "/v1/magic_links", map[string]any{"user_id": user["user_id"]})
	auth := edgeCall(t, srv, "/v1/magic_links/authenticate", map[string]any{
		"token": link["token"], "session_duration_minutes": 60,
		"session_custom_claims": claims,
	})
	return auth["session"].(map[string]any)["session_id"].(string), auth["session_token"].(string), auth["session_jwt"].(string)
}

func harnessVerifier(t *testing.T, srv *testharness.Server, edit func(*verifier.Config)) *verifier.Verifier {
	t.Helper()
	cfg := verifier.Config{ProjectID: srv.ProjectID, BaseURL: srv.URL, Secret: srv.Secret, Now: srv.Now}
	if edit != nil {
		edit(&cfg)
	}
	v, err := verifier.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// resign decodes an engine JWT, lets edit change its header and claims,
// and signs it again with the engine's own key.
func resign(t *testing.T, srv *testharness.Server, tok string, edit func(h, c map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		raw, err := b64url(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	edit(h, c)
	out := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(c))
	out.Header = h
	s, err := out.SignedString(srv.Keys()[0].Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

func TestHarnessVerify(t *testing.T) {
	srv := testharness.Start(t)
	sessionID, _, tok := login(t, srv)
	v := harnessVerifier(t, srv, nil)
	ctx := t.Context()

	s, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("engine JWT: %v", err)
	}
	if s.SessionID != sessionID || !strings.HasPrefix(s.UserID, "user-test-") || s.CustomClaims["plan"] != "pro" ||
		len(s.Roles) != 1 || s.Roles[0] != "stytch_user" || len(s.AuthenticationFactors) != 1 ||
		s.AuthenticationFactors[0].EmbeddableMagicLinkFactor == nil || s.ExpiresAt.Sub(s.StartedAt) != time.Hour {
		t.Fatalf("session = %+v", s)
	}

	pubDER, err := x509.MarshalPKIXPublicKey(&srv.Keys()[0].Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	parts := strings.Split(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	hs256 := func() string {
		c, err := b64url(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var m jwt.MapClaims
		if err := json.Unmarshal(c, &m); err != nil {
			t.Fatal(err)
		}
		out := jwt.NewWithClaims(jwt.SigningMethodHS256, m)
		out.Header["kid"] = srv.Keys()[0].KID
		s, err := out.SignedString(pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func() string {
		c, _ := b64url(parts[1])
		var m jwt.MapClaims
		_ = json.Unmarshal(c, &m)
		out := jwt.NewWithClaims(jwt.SigningMethodNone, m)
		out.Header["kid"] = srv.Keys()[0].KID
		s, err := out.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "wrong aud", token: resign(t, srv, tok, func(_, c map[string]any) { c["aud"] = []string{"project-test-other"} }), wantErr: verifier.ErrInvalidAudience},
		{name: "wrong iss", token: resign(t, srv, tok, func(_, c map[string]any) { c["iss"] = "stytch.com/project-test-other" }), wantErr: verifier.ErrInvalidIssuer},
		{name: "tampered payload", token: parts[0] + "." + flip(parts[1], 10) + "." + parts[2], wantErr: verifier.ErrInvalidSignature},
		{name: "tampered signature", token: parts[0] + "." + parts[1] + "." + flip(parts[2], 20), wantErr: verifier.ErrInvalidSignature},
		{name: "alg none", token: none(), wantErr: verifier.ErrUnsupportedAlgorithm},
		{name: "HS256 signed with the public key", token: hs256(), wantErr: verifier.ErrUnsupportedAlgorithm},
		{name: "no kid", token: resign(t, srv, tok, func(h, _ map[string]any) { delete(h, "kid") }), wantErr: verifier.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tt.token); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			// Authenticate never overturns these at the edge.
			if _, _, err := v.Authenticate(ctx, tt.token); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate: err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	// Too old, then expired: Verify refuses; Authenticate gets a fresh JWT
	// from the edge, which verifies locally.
	strict := harnessVerifier(t, srv, func(c *verifier.Config) { c.MaxTokenAge = time.Minute })
	srv.Advance(2 * time.Minute)
	if _, err := strict.Verify(ctx, tok); !errors.Is(err, verifier.ErrTooOld) {
		t.Fatalf("too old: err = %v", err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("without MaxTokenAge a 2-minute-old JWT verifies: %v", err)
	}
	srv.Advance(4 * time.Minute)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, verifier.ErrExpired) {
		t.Fatalf("expired: err = %v", err)
	}
	s, fresh, err := v.Authenticate(ctx, tok)
	if err != nil || fresh == "" || s.SessionID != sessionID {
		t.Fatalf("Authenticate(expired) = %+v, %q, %v", s, fresh, err)
	}
	if s2, err := v.Verify(ctx, fresh); err != nil || s2.SessionID != sessionID || s2.CustomClaims["plan"] != "pro" {
		t.Fatalf("fresh JWT: %+v, %v", s2, err)
	}
}

func TestHarnessRevokedSession(t *testing.T) {
	srv := testharness.Start(t)
	sessionID, token, tok := login(t, srv)
	// Without the revocation feed (feed_test.go covers it), Verify is
	// local only: the documented limit this test pins.
	noFeed := func(c *verifier.Config) { c.DisableRevocationFeed = true }
	v := harnessVerifier(t, srv, noFeed)
	ctx := t.Context()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	edgeCall(t, srv, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})

	// Without the feed, the revoked session's JWT keeps verifying until it
	// expires (or passes MaxTokenAge).
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify after revoke: %v", err)
	}
	// The opaque token always asks the edge, which knows.
	if _, _, err := v.Authenticate(ctx, token); !errors.Is(err, verifier.ErrSessionNotFound) {
		t.Fatalf("Authenticate(token) after revoke: err = %v, want ErrSessionNotFound", err)
	}
	// As does the JWT once it is too old for local trust.
	strict := harnessVerifier(t, srv, func(c *verifier.Config) { noFeed(c); c.MaxTokenAge = 30 * time.Second })
	srv.Advance(time.Minute)
	if _, _, err := strict.Authenticate(ctx, tok); !errors.Is(err, verifier.ErrSessionNotFound) {
		t.Fatalf("Authenticate(old JWT) after revoke: err = %v, want ErrSessionNotFound", err)
	}
}

func TestHarnessRotationAndOutage(t *testing.T) {
	srv := testharness.Start(t)
	_, _, first := login(t, srv)
	v := harnessVerifier(t, srv, nil)
	ctx := t.Context()
	if _, err := v.Verify(ctx, first); err != nil {
		t.Fatal(err)
	}

	if _, err := srv.RotateKey(); err != nil {
		t.Fatal(err)
	}
	_, _, second := login(t, srv)
	if _, err := v.Verify(ctx, second); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Fatalf("new kid inside the cooldown: err = %v, want ErrUnknownKey", err)
	}
	// Authenticate overturns an unknown kid at the edge.
	if s, _, err := v.Authenticate(ctx, second); err != nil || s == nil {
		t.Fatalf("Authenticate(new kid): %v", err)
	}
	srv.Advance(defaultCooldown)
	if _, err := v.Verify(ctx, second); err != nil {
		t.Fatalf("new kid after the cooldown: %v", err)
	}
	if _, err := v.Verify(ctx, first); err != nil {
		t.Fatalf("old kid still published: %v", err)
	}

	// The edge goes away: local verification carries on with the keys it
	// has; the remote fallback reports the outage.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(ctx); err == nil || v.JWKSError() == nil {
		t.Fatal("refresh against a closed edge reported no error")
	}
	if _, err := v.Verify(ctx, second); err != nil {
		t.Fatalf("edge down, cached keys: %v", err)
	}
	srv.Advance(10 * time.Minute)
	if _, _, err := v.Authenticate(ctx, second); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("edge down, expired JWT: err = %v, want ErrUnavailable", err)
	}
}

// countingTransport counts the JWKS fetches a Verifier makes.
type countingTransport struct {
	jwks atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/v1/sessions/jwks/") {
		c.jwks.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestHarnessUnknownKidFlood(t *testing.T) {
	srv := testharness.Start(t)
	_, _, tok := login(t, srv)
	counter := &countingTransport{}
	v := harnessVerifier(t, srv, func(c *verifier.Config) { c.HTTPClient = &http.Client{Transport: counter} })
	ctx := t.Context()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	toks := make([]string, 32)
	for i := range toks {
		toks[i] = resign(t, srv, tok, func(h, _ map[string]any) { h["kid"] = fmt.Sprintf("jwk-test-flood-%d", i) })
	}
	for round := int64(1); round <= 3; round++ {
		var wg sync.WaitGroup
		for _, bad := range toks {
			for range 8 {
				wg.Go(func() {
					if _, err := v.Verify(ctx, bad); !errors.Is(err, verifier.ErrUnknownKey) {
						t.Errorf("err = %v, want ErrUnknownKey", err)
					}
				})
			}
		}
		wg.Wait()
		// The first round falls inside the cooldown of the initial fetch;
		// each later round starts one cooldown later and costs one fetch.
		if got := counter.jwks.Load(); got != round {
			t.Fatalf("round %d: %d JWKS fetches, want %d", round, got, round)
		}
		srv.Advance(defaultCooldown)
	}
}

// TestHarnessDeepCustomClaims: custom claims nested as deep as the engine
// allows (16 levels, the claim value being level 1) come back through
// Verify as the engine took them.
func TestHarnessDeepCustomClaims(t *testing.T) {
	srv := testharness.Start(t)
	var deep any
	if err := json.Unmarshal([]byte(nested(16)), &deep); err != nil {
		t.Fatal(err)
	}
	_, _, tok := loginWith(t, srv, map[string]any{"deep": deep, "n": 1e300})
	s, err := harnessVerifier(t, srv, nil).Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.CustomClaims, map[string]any{"deep": deep, "n": 1e300}) {
		t.Fatalf("custom claims = %#v", s.CustomClaims)
	}
}

// edgeCounter is an http.RoundTripper that counts the calls to
// POST /v1/sessions/authenticate, the most in flight at once, and holds
// each one while gate is open (non-nil and not closed).
type edgeCounter struct {
	gate     chan struct{}
	calls    atomic.Int64
	inFlight atomic.Int64
	maxSeen  atomic.Int64
}

func (c *edgeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/v1/sessions/authenticate" {
		c.calls.Add(1)
		n := c.inFlight.Add(1)
		defer c.inFlight.Add(-1)
		for {
			m := c.maxSeen.Load()
			if n <= m || c.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		if c.gate != nil {
			select {
			case <-c.gate:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// forge re-signs an engine JWT with a key the engine does not have, under
// a kid it never published, and with exp in the past: Verify cannot
// decide it, so Authenticate asks the edge, which answers session_not_found.
func forge(t *testing.T, tok string, n int) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := b64url(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.MapClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["exp"] = c["iat"]
	out := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	out.Header["kid"] = fmt.Sprintf("jwk-test-forged-%d", n)
	s, err := out.SignedString(forgeKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forgeKey is an RSA key the engine does not have, generated once per
// test binary.
var forgeKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHarnessFallbackBound: many distinct forged tokens at once never put
// more than MaxConcurrentFallbacks calls in flight.
func TestHarnessFallbackBound(t *testing.T) {
	srv := testharness.Start(t)
	_, _, tok := login(t, srv)
	counter := &edgeCounter{gate: make(chan struct{})}
	v := harnessVerifier(t, srv, func(c *verifier.Config) { c.HTTPClient = &http.Client{Transport: counter} })
	ctx := t.Context()
	toks := make([]string, 3*defaultMaxFallbacks)
	for i := range toks {
		toks[i] = forge(t, tok, i)
	}
	var wg sync.WaitGroup
	for _, f := range toks {
		wg.Go(func() {
			if _, _, err := v.Authenticate(ctx, f); !errors.Is(err, verifier.ErrSessionNotFound) {
				t.Errorf("err = %v, want ErrSessionNotFound", err)
			}
		})
	}
	waitFor(t, "the bound to fill", func() bool { return counter.inFlight.Load() >= defaultMaxFallbacks })
	time.Sleep(50 * time.Millisecond) // room for any call beyond the bound to show up
	if got := counter.maxSeen.Load(); got > defaultMaxFallbacks {
		t.Errorf("%d edge calls in flight, bound %d", got, defaultMaxFallbacks)
	}
	close(counter.gate)
	wg.Wait()
	if got, want := counter.calls.Load(), int64(len(toks)); got != want || counter.maxSeen.Load() > defaultMaxFallbacks {
		t.Fatalf("%d edge calls (want %d), at most %d in flight (bound %d)", got, want, counter.maxSeen.Load(), defaultMaxFallbacks)
	}
}

// nested returns a JSON value nested depth levels deep (the value itself
// is level 1), alternating objects and arrays.
func nested(depth int) string {
	v := `"leaf"`
	for i := 1; i < depth; i++ {
		if i%2 == 0 {
			v = `[` + v + `]`
		} else {
			v = `{"k":` + v + `}`
		}
	}
	return v
}
