package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testClient = "m2m-client-test-0d6f4a3e-5b1c-4f2a-9e8d-7c6b5a493827"

// m2mClaimsAt returns the claims Latch puts in an M2M access token issued
// at iat to testClient.
func m2mClaimsAt(iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":   "stytch.com/" + testProject,
		"aud":   []string{testProject},
		"sub":   testClient,
		"scope": "read:users write:books audit",
		"iat":   iat.Unix(),
		"nbf":   iat.Unix(),
		"exp":   iat.Unix() + 3600,
		"jti":   "5f0c2d4e-8a1b-4c3d-9e2f-1a2b3c4d5e6f",
	}
}

func TestVerifyM2M(t *testing.T) {
	k := testKeys()[0]
	with := func(edit func(c jwt.MapClaims)) func(t *testing.T, now time.Time) string {
		return func(t *testing.T, now time.Time) string {
			c := m2mClaimsAt(now)
			if edit != nil {
				edit(c)
			}
			return mint(t, k, c)
		}
	}
	tests := []struct {
		name    string
		token   func(t *testing.T, now time.Time) string
		scopes  []string
		edit    func(c *Config)
		wantErr error
		want    *M2MToken // checked when set
	}{
		{name: "valid", token: with(nil), want: &M2MToken{ClientID: testClient, Scopes: []string{"read:users", "write:books", "audit"}}},
		{name: "required scopes held", token: with(nil), scopes: []string{"read:users", "audit", "write:books"}},
		{name: "required scope missing", token: with(nil), scopes: []string{"read:users", "delete:users"}, wantErr: ErrInsufficientScope},
		{name: "resource scope does not grant the action alone", token: with(nil), scopes: []string{"read"}, wantErr: ErrInsufficientScope},
		{name: "action alone does not grant a resource", token: with(nil), scopes: []string{"audit:logs"}, wantErr: ErrInsufficientScope},
		{name: "wildcard resource", token: with(func(c jwt.MapClaims) { c["scope"] = "read:* write:books" }),
			scopes: []string{"read:users", "read:books", "read", "write:books"}},
		{name: "wildcard stays within its action", token: with(func(c jwt.MapClaims) { c["scope"] = "read:*" }),
			scopes: []string{"write:users"}, wantErr: ErrInsufficientScope},
		{name: "empty scope claim grants nothing", token: with(func(c jwt.MapClaims) { c["scope"] = "" }),
			scopes: []string{"read:users"}, wantErr: ErrInsufficientScope},
		{name: "custom claims", token: with(func(c jwt.MapClaims) { c["tenant"] = "acme"; c["https://stytch.com/x"] = 1 }),
			want: &M2MToken{ClientID: testClient, Scopes: []string{"read:users", "write:books", "audit"}, Claims: map[string]any{"tenant": "acme"}}},
		{name: "MaxTokenAge does not apply", token: func(t *testing.T, now time.Time) string { return mint(t, k, m2mClaimsAt(now.Add(-30*time.Minute))) },
			edit: func(c *Config) { c.MaxTokenAge = time.Minute }},
		{name: "session JWT", token: func(t *testing.T, now time.Time) string { return mint(t, k, claimsAt(now)) }, wantErr: ErrNotM2M},
		{name: "session claim beside scope", token: with(func(c jwt.MapClaims) {
			c["https://stytch.com/session"] = claimsAt(time.Now())["https://stytch.com/session"]
		}),
			wantErr: ErrNotM2M},
		{name: "no scope claim", token: with(func(c jwt.MapClaims) { delete(c, "scope") }), wantErr: ErrNotM2M},
		{name: "scope not a string", token: with(func(c jwt.MapClaims) { c["scope"] = []string{"read:users"} }), wantErr: ErrMalformed},
		{name: "no sub", token: with(func(c jwt.MapClaims) { delete(c, "sub") }), wantErr: ErrMalformed},
		{name: "expired", token: func(t *testing.T, now time.Time) string { return mint(t, k, m2mClaimsAt(now.Add(-2*time.Hour))) }, wantErr: ErrExpired},
		{name: "not yet valid", token: with(func(c jwt.MapClaims) { c["nbf"] = c["nbf"].(int64) + 60 }), wantErr: ErrNotYetValid},
		{name: "wrong audience", token: with(func(c jwt.MapClaims) { c["aud"] = []string{"project-test-other"} }), wantErr: ErrInvalidAudience},
		{name: "wrong issuer", token: with(func(c jwt.MapClaims) { c["iss"] = "stytch.com/project-test-other" }), wantErr: ErrInvalidIssuer},
		{name: "alg none", token: func(t *testing.T, now time.Time) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodNone, m2mClaimsAt(now)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "tampered payload", token: func(t *testing.T, now time.Time) string {
			good := mint(t, k, m2mClaimsAt(now))
			dot1, dot2 := splitToken(good)
			forged := with(func(c jwt.MapClaims) { c["scope"] = "admin:*" })(t, now)
			f1, f2 := splitToken(forged)
			return good[:dot1+1] + forged[f1+1:f2] + good[dot2:]
		}, wantErr: ErrInvalidSignature},
		{name: "signed by another key", token: func(t *testing.T, now time.Time) string {
			return mint(t, withKID(testKeys()[1], k.KID), m2mClaimsAt(now))
		}, wantErr: ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := newJWKSServer(t, k)
			v := newTestVerifier(t, srv, clk, tt.edit)
			tok := tt.token(t, clk.Now())
			for range 2 { // cold, then through the verified-token cache
				got, err := v.VerifyM2M(t.Context(), tok, tt.scopes...)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) || got != nil {
						t.Fatalf("VerifyM2M = %+v, %v; want %v", got, err, tt.wantErr)
					}
					continue
				}
				if err != nil || got == nil {
					t.Fatalf("VerifyM2M = %+v, %v; want a token", got, err)
				}
				if tt.want != nil {
					if got.ClientID != tt.want.ClientID || !slices.Equal(got.Scopes, tt.want.Scopes) ||
						fmt.Sprint(got.Claims) != fmt.Sprint(tt.want.Claims) {
						t.Fatalf("VerifyM2M = %+v, want %+v", got, tt.want)
					}
					if iat := clk.Now().Unix(); got.IssuedAt.Unix() != iat || got.ExpiresAt.Unix() != iat+3600 {
						t.Fatalf("IssuedAt %v ExpiresAt %v, want %d and %d", got.IssuedAt, got.ExpiresAt, iat, iat+3600)
					}
				}
			}
		})
	}
}

// TestTokenKindsStayApart: Verify refuses an M2M access token and
// VerifyM2M a session JWT, whichever of them saw the token first (the
// verified-token cache holds both kinds).
func TestTokenKindsStayApart(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	srv := newJWKSServer(t, k)
	v := newTestVerifier(t, srv, clk, nil)
	ctx := t.Context()
	m2m := mint(t, k, m2mClaimsAt(clk.Now()))
	sess := mint(t, k, claimsAt(clk.Now()))
	for i := range 2 {
		if i == 1 { // now both are cached under their own kind
			if _, err := v.VerifyM2M(ctx, m2m); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, sess); err != nil {
				t.Fatal(err)
			}
		}
		if s, err := v.Verify(ctx, m2m); !errors.Is(err, ErrMalformed) || s != nil {
			t.Errorf("pass %d: Verify(M2M token) = %v, %v; want ErrMalformed", i, s, err)
		}
		if _, _, err := v.Authenticate(ctx, m2m); !errors.Is(err, ErrMalformed) || srv.authCalls.Load() != 0 {
			t.Errorf("pass %d: Authenticate(M2M token) = %v after %d edge calls; want ErrMalformed, none", i, err, srv.authCalls.Load())
		}
		if m, err := v.VerifyM2M(ctx, sess); !errors.Is(err, ErrNotM2M) || m != nil {
			t.Errorf("pass %d: VerifyM2M(session JWT) = %v, %v; want ErrNotM2M", i, m, err)
		}
	}
}

// TestGrants checks the scope rule against the cases of Stytch's Node
// SDK (m2m_local's performAuthorizationCheck) and where VerifyM2M is
// stricter.
func TestGrants(t *testing.T) {
	tests := []struct {
		name    string
		granted []string
		want    []string
		ok      bool
	}{
		{name: "basic", granted: []string{"read:users", "write:users"}, want: []string{"read:users"}, ok: true},
		{name: "several required", granted: []string{"read:users", "write:users", "read:books"}, want: []string{"read:users", "read:books"}, ok: true},
		{name: "simple scopes", granted: []string{"read_users", "write_users"}, want: []string{"read_users"}, ok: true},
		{name: "wildcard resource", granted: []string{"read:*", "write:*"}, want: []string{"read:users"}, ok: true},
		{name: "wildcard grants the action alone", granted: []string{"read:*"}, want: []string{"read"}, ok: true},
		{name: "wildcard required, wildcard granted", granted: []string{"read:*"}, want: []string{"read:*"}, ok: true},
		{name: "none required", granted: nil, want: nil, ok: true},
		{name: "missing", granted: []string{"read:users"}, want: []string{"write:users"}},
		{name: "missing beside a wildcard", granted: []string{"read:users", "write:*"}, want: []string{"delete:books"}},
		{name: "simple granted, specific wanted", granted: []string{"read"}, want: []string{"read:users"}},
		{name: "specific granted, simple wanted", granted: []string{"read:users"}, want: []string{"read"}},
		{name: "wildcard required, specific granted", granted: []string{"read:users"}, want: []string{"read:*"}},
		{name: "star alone is an action, not a wildcard", granted: []string{"*"}, want: []string{"read:users"}},
		{name: "no wildcard action", granted: []string{"*:users"}, want: []string{"read:users"}},
		{name: "one of several required missing", granted: []string{"read:users"}, want: []string{"read:users", "write:users"}},
		{name: "case matters", granted: []string{"Read:Users"}, want: []string{"read:users"}},
		// Stytch's SDKs read only up to a second colon; VerifyM2M reads the
		// resource whole, and never grants what they refuse.
		{name: "second colon: longer granted", granted: []string{"read:users:own"}, want: []string{"read:users"}},
		{name: "second colon: longer wanted", granted: []string{"read:users"}, want: []string{"read:users:own"}},
		{name: "second colon: exact", granted: []string{"read:users:own"}, want: []string{"read:users:own"}, ok: true},
		{name: "second colon: no wildcard", granted: []string{"read:*:x"}, want: []string{"read:users"}},
		{name: "dash is a resource", granted: []string{"read:-"}, want: []string{"read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := true
			for _, w := range tt.want {
				ok = ok && grants(tt.granted, w)
			}
			if ok != tt.ok {
				t.Fatalf("%q grants %q: %v, want %v", tt.granted, tt.want, ok, tt.ok)
			}
		})
	}
}

func TestVerifyM2MResultIsACopy(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v := newTestVerifier(t, newJWKSServer(t, k), clk, nil)
	c := m2mClaimsAt(clk.Now())
	c["org"] = map[string]any{"tier": []any{"gold"}}
	tok := mint(t, k, c)
	a, err := v.VerifyM2M(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	a.Scopes[0] = "admin:*"
	a.Claims["org"].(map[string]any)["tier"].([]any)[0] = "lead"
	b, err := v.VerifyM2M(t.Context(), tok, "read:users")
	if err != nil {
		t.Fatal(err)
	}
	if b.Scopes[0] != "read:users" || b.Claims["org"].(map[string]any)["tier"].([]any)[0] != "gold" {
		t.Fatalf("a caller's change reached the cache: %+v", b)
	}
}

// fakeFeed serves GET /v1/sessions/revocations from a list of events,
// holding a read that has nothing new for up to its wait, as the engine's
// hosts do.
type fakeFeed struct {
	mu     sync.Mutex
	events []map[string]any
	wake   chan struct{} // closed and replaced when events are added
}

func newFakeFeed(srv *jwksServer) *fakeFeed {
	f := &fakeFeed{wake: make(chan struct{})}
	srv.feed = f.serve
	return f
}

func (f *fakeFeed) add(events ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, events...)
	close(f.wake)
	f.wake = make(chan struct{})
}

// revokeClient adds a client event for id revoked at at.
func (f *fakeFeed) revokeClient(id string, at time.Time) {
	f.add(map[string]any{"client_id": id, "revoked_at": at.UTC().Format(time.RFC3339)})
}

func (f *fakeFeed) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cursor, _ := strconv.Atoi(q.Get("cursor"))
	wait, _ := strconv.Atoi(q.Get("wait"))
	f.mu.Lock()
	n, wake := len(f.events), f.wake
	f.mu.Unlock()
	if cursor >= n && wait > 0 {
		select {
		case <-wake:
		case <-time.After(time.Duration(wait) * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	events := append([]map[string]any{}, f.events[min(cursor, len(f.events)):]...)
	n = len(f.events)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"events": events, "cursor": strconv.Itoa(n), "reset": false, "has_more": false})
}

// newFeedVerifier is newTestVerifier with the revocation feed on against
// a fakeFeed, holding reads for a second.
func newFeedVerifier(t *testing.T, k testKey, clk *clock) (*Verifier, *fakeFeed) {
	t.Helper()
	srv := newJWKSServer(t, k)
	f := newFakeFeed(srv)
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.DisableRevocationFeed = false; c.feedWait = 1 })
	return v, f
}

// waitFor polls cond until it holds, failing t after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestM2MFeedRevokesClient(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v, f := newFeedVerifier(t, k, clk)
	ctx := t.Context()
	issued := clk.Now()
	tok := mint(t, k, m2mClaimsAt(issued))
	other := m2mClaimsAt(issued)
	other["sub"] = "m2m-client-test-other"
	otherTok := mint(t, k, other)
	sess := mint(t, k, claimsAt(issued))
	for _, tk := range []string{tok, otherTok} {
		if _, err := v.VerifyM2M(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}

	// A session event leaves M2M tokens alone; a client event revokes the
	// client's tokens issued at or before it, from cache or not.
	f.add(map[string]any{"session_id": "session-test-other", "user_id": "user-test-x", "revoked_at": issued.Format(time.RFC3339)})
	f.revokeClient(testClient, issued)
	waitFor(t, "the client event", func() bool {
		_, err := v.VerifyM2M(ctx, tok)
		return errors.Is(err, ErrRevoked)
	})
	if _, err := v.VerifyM2M(ctx, tok); !errors.Is(err, ErrRevoked) || !strings.Contains(err.Error(), testClient) {
		t.Fatalf("VerifyM2M(revoked client's token) = %v, want ErrRevoked naming the client", err)
	}
	if _, err := v.VerifyM2M(ctx, otherTok); err != nil {
		t.Fatalf("another client's token: %v", err)
	}
	if _, err := v.Verify(ctx, sess); err != nil {
		t.Fatalf("a session JWT: %v", err)
	}

	// A token the client got after the event (reactivated) is accepted.
	clk.Add(time.Second)
	if _, err := v.VerifyM2M(ctx, mint(t, k, m2mClaimsAt(clk.Now()))); err != nil {
		t.Fatalf("token issued after the revocation: %v", err)
	}

	// A later event (a second deactivation) moves the bound.
	clk.Add(time.Minute)
	later := mint(t, k, m2mClaimsAt(clk.Now()))
	if _, err := v.VerifyM2M(ctx, later); err != nil {
		t.Fatal(err)
	}
	f.revokeClient(testClient, clk.Now())
	waitFor(t, "the second client event", func() bool {
		_, err := v.VerifyM2M(ctx, later)
		return errors.Is(err, ErrRevoked)
	})

	// The entry is kept while a token it refuses can be unexpired, then
	// forgotten.
	if n := clientEntries(v); n != 1 {
		t.Fatalf("%d client entries, want 1", n)
	}
	clk.Add((m2mLifetime - 1) * time.Second)
	f.add() // wake the held read so that it ages the set
	if _, err := v.VerifyM2M(ctx, later); !errors.Is(err, ErrRevoked) {
		t.Fatalf("just before its expiry + slack: %v, want ErrRevoked", err)
	}
	clk.Add((revokedSlack + 1) * time.Second)
	f.add()
	waitFor(t, "the client entry to age out", func() bool { return clientEntries(v) == 0 })
	if _, err := v.VerifyM2M(ctx, later); !errors.Is(err, ErrExpired) {
		t.Fatalf("after the entry aged out: %v, want ErrExpired", err)
	}
}

func clientEntries(v *Verifier) int {
	v.feed.mu.RLock()
	defer v.feed.mu.RUnlock()
	if len(v.feed.clients.at) != int(v.feed.clientCount.Load()) {
		return -1
	}
	return len(v.feed.clients.at)
}

// TestM2MFeedStale: with the feed on, VerifyM2M fails closed as Verify
// does when the feed cannot vouch, and is refused in the middleware with
// 503 rather than 401.
func TestM2MFeedStale(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v, _ := newFeedVerifier(t, k, clk)
	tok := mint(t, k, m2mClaimsAt(clk.Now()))
	if _, err := v.VerifyM2M(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	v.Close()
	if _, err := v.VerifyM2M(t.Context(), tok); !errors.Is(err, ErrFeedStale) {
		t.Fatalf("VerifyM2M after Close = %v, want ErrFeedStale", err)
	}
	rec := serveM2M(v, tok, "read:users")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("middleware answered %d %q, want 503 without a challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// TestM2MFeedLongLivedToken: with the feed on, a token valid for longer
// than the feed remembers a revoked client is not vouched for.
func TestM2MFeedLongLivedToken(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v, _ := newFeedVerifier(t, k, clk)
	c := m2mClaimsAt(clk.Now())
	c["exp"] = clk.Now().Unix() + m2mLifetime + 1
	if _, err := v.VerifyM2M(t.Context(), mint(t, k, c)); !errors.Is(err, ErrFeedStale) {
		t.Fatalf("VerifyM2M(token valid for more than an hour) = %v, want ErrFeedStale", err)
	}
	off := newTestVerifier(t, newJWKSServer(t, k), clk, nil)
	if _, err := off.VerifyM2M(t.Context(), mint(t, k, c)); err != nil {
		t.Fatalf("without the feed: %v", err)
	}
}

// TestM2MFeedOlderEngine: an edge that sends session events only (it
// predates M2M) keeps the feed healthy for M2M tokens.
func TestM2MFeedOlderEngine(t *testing.T) {
	k := testKeys()[0]
	clk := newClock()
	v, f := newFeedVerifier(t, k, clk)
	tok := mint(t, k, m2mClaimsAt(clk.Now()))
	f.add(map[string]any{"session_id": "session-test-1", "user_id": "user-test-1", "revoked_at": clk.Now().Format(time.RFC3339)})
	waitFor(t, "the session event", func() bool { return v.feed.count.Load() == 1 })
	if _, err := v.VerifyM2M(context.Background(), tok, "audit"); err != nil {
		t.Fatal(err)
	}
}
