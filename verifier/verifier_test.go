package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyHappyPath(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil)
	claims := claimsAt(clk.Now())
	claims["plan"] = "pro"
	claims["https://stytch.com/organization"] = "ignored"
	tok := mint(t, k, claims)

	for i := range 3 { // cold, then from the verified-token cache
		s, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
		if s.SessionID != "session-test-fe6c042b-6286-479f-8a4a-b4a21ac72e5f" || s.UserID != "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd" {
			t.Errorf("ids = %q %q", s.SessionID, s.UserID)
		}
		if !s.StartedAt.Equal(clk.Now()) || !s.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
			t.Errorf("times = %v %v", s.StartedAt, s.ExpiresAt)
		}
		if s.Attributes != (Attributes{IPAddress: "203.0.113.7", UserAgent: "Mozilla/5.0"}) {
			t.Errorf("attributes = %+v", s.Attributes)
		}
		if len(s.AuthenticationFactors) != 1 || s.AuthenticationFactors[0].EmailFactor == nil ||
			s.AuthenticationFactors[0].EmailFactor.EmailAddress != "sandbox@stytch.com" ||
			s.AuthenticationFactors[0].Type != "magic_link" ||
			!s.AuthenticationFactors[0].LastAuthenticatedAt.Equal(clk.Now()) {
			t.Errorf("factors = %+v", s.AuthenticationFactors)
		}
		if len(s.Roles) != 1 || s.Roles[0] != "stytch_user" {
			t.Errorf("roles = %v", s.Roles)
		}
		if len(s.CustomClaims) != 1 || s.CustomClaims["plan"] != "pro" {
			t.Errorf("custom claims = %v", s.CustomClaims)
		}
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times, want 1", got)
	}
}

func TestVerifyTimes(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	tests := []struct {
		name    string
		age     time.Duration // how long before now the token was issued
		leeway  time.Duration
		maxAge  time.Duration
		wantErr error
	}{
		{name: "fresh", age: 0},
		{name: "just before exp", age: 299 * time.Second},
		{name: "at exp", age: 300 * time.Second, wantErr: ErrExpired},
		{name: "expired", age: time.Hour, wantErr: ErrExpired},
		{name: "expired within leeway", age: 310 * time.Second, leeway: 30 * time.Second},
		{name: "issued in the future", age: -10 * time.Second, wantErr: ErrNotYetValid},
		{name: "future within leeway", age: -10 * time.Second, leeway: 30 * time.Second},
		{name: "too old", age: 90 * time.Second, maxAge: time.Minute, wantErr: ErrTooOld},
		{name: "young enough", age: 30 * time.Second, maxAge: time.Minute},
		{name: "max age beyond exp", age: 301 * time.Second, maxAge: time.Hour, wantErr: ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			v := newTestVerifier(t, srv, clk, func(c *Config) { c.Leeway, c.MaxTokenAge = tt.leeway, tt.maxAge })
			tok := mint(t, k, claimsAt(clk.Now().Add(-tt.age)))
			_, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyCachedTokenExpires(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.MaxTokenAge = 2 * time.Minute })
	tok := mint(t, k, claimsAt(clk.Now()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrTooOld) {
		t.Fatalf("after max age: err = %v, want ErrTooOld", err)
	}
	clk.Add(4 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("after exp: err = %v, want ErrExpired", err)
	}
}

func TestVerifyClaims(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	tests := []struct {
		name       string
		edit       func(m map[string]any)
		baseIssuer bool
		wantErr    error
	}{
		{name: "aud as string", edit: func(m map[string]any) { m["aud"] = testProject }},
		{name: "aud among others", edit: func(m map[string]any) { m["aud"] = []string{"other", testProject} }},
		{name: "wrong aud", edit: func(m map[string]any) { m["aud"] = []string{"project-test-other"} }, wantErr: ErrInvalidAudience},
		{name: "no aud", edit: func(m map[string]any) { delete(m, "aud") }, wantErr: ErrInvalidAudience},
		{name: "wrong iss", edit: func(m map[string]any) { m["iss"] = "stytch.com/project-test-other" }, wantErr: ErrInvalidIssuer},
		{name: "no iss", edit: func(m map[string]any) { delete(m, "iss") }, wantErr: ErrInvalidIssuer},
		{name: "base URL iss refused by default", edit: func(m map[string]any) { m["iss"] = srv.URL }, wantErr: ErrInvalidIssuer},
		{name: "base URL iss accepted when configured", edit: func(m map[string]any) { m["iss"] = srv.URL }, baseIssuer: true},
		{name: "no exp", edit: func(m map[string]any) { delete(m, "exp") }, wantErr: ErrMalformed},
		{name: "no iat", edit: func(m map[string]any) { delete(m, "iat") }, wantErr: ErrMalformed},
		{name: "no nbf is fine", edit: func(m map[string]any) { delete(m, "nbf") }},
		{name: "nbf in the future", edit: func(m map[string]any) { m["nbf"] = clk.Now().Unix() + 60 }, wantErr: ErrNotYetValid},
		{name: "fractional exp", edit: func(m map[string]any) { m["exp"] = float64(clk.Now().Unix()) + 1.5 }},
		{name: "fractional exp rounds down", edit: func(m map[string]any) { m["exp"] = float64(clk.Now().Unix()) + 0.5 }, wantErr: ErrExpired},
		{name: "exp as string", edit: func(m map[string]any) { m["exp"] = "soon" }, wantErr: ErrMalformed},
		{name: "no sub", edit: func(m map[string]any) { delete(m, "sub") }, wantErr: ErrMalformed},
		{name: "no session claim", edit: func(m map[string]any) { delete(m, "https://stytch.com/session") }, wantErr: ErrMalformed},
		{name: "session claim not an object", edit: func(m map[string]any) { m["https://stytch.com/session"] = "x" }, wantErr: ErrMalformed},
		{name: "escaped strings", edit: func(m map[string]any) { m["note"] = "caf\u00e9 \"quoted\"\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, srv, clk, func(c *Config) { c.AcceptBaseURLIssuer = tt.baseIssuer })
			m := claimsAt(clk.Now())
			tt.edit(m)
			_, err := v.Verify(context.Background(), mint(t, k, m))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyWithoutTokenCache(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, func(c *Config) { c.TokenCacheSize = -1 })
	tok := mint(t, k, claimsAt(clk.Now()))
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(5 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
}

// TestVerifyResultIsACopy changes everything reachable from a returned
// Session and checks that the next Verify of the same token, served from
// the verified-token cache, is unchanged.
func TestVerifyResultIsACopy(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	one := claimsAt(clk.Now())
	one["org"] = map[string]any{"name": "acme", "teams": []any{"a", map[string]any{"b": 1.0}}}
	one["tags"] = []any{"x", []any{"y"}}
	two := claimsAt(clk.Now())
	two["org"] = map[string]any{"name": "acme"}
	sess := two["https://stytch.com/session"].(map[string]any)
	f := sess["authentication_factors"].([]any)[0]
	sess["authentication_factors"] = []any{f, map[string]any{"type": "magic_link", "delivery_method": "embedded",
		"last_authenticated_at": clk.Now().UTC().Format(time.RFC3339), "embeddable_magic_link_factor": map[string]any{"embedded_id": "user-test-x"}}}
	sess["roles"] = []string{"stytch_user", "admin"}
	tests := []struct {
		name   string
		claims jwt.MapClaims
	}{
		{name: "one factor, one role", claims: one},
		{name: "two factors, two roles", claims: two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, srv, clk, nil)
			uncached := newTestVerifier(t, srv, clk, func(c *Config) { c.TokenCacheSize = -1 })
			tok := mint(t, k, tt.claims)
			want, err := uncached.Verify(t.Context(), tok)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the first Verify fills the cache, the second reads it
				got, err := v.Verify(t.Context(), tok)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("Verify = %+v, want %+v", got, want)
				}
				scribble(got)
			}
			got, err := v.Verify(t.Context(), tok)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("after changes to returned sessions: Verify = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// scribble changes everything reachable from s.
func scribble(s *Session) {
	s.SessionID, s.UserID = "changed", "changed"
	s.StartedAt = time.Time{}
	s.Attributes.IPAddress = "changed"
	for i := range s.AuthenticationFactors {
		f := &s.AuthenticationFactors[i]
		f.Type = "changed"
		if f.EmailFactor != nil {
			f.EmailFactor.EmailAddress = "changed"
		}
		if f.EmbeddableMagicLinkFactor != nil {
			f.EmbeddableMagicLinkFactor.EmbeddedID = "changed"
		}
	}
	s.AuthenticationFactors = append(s.AuthenticationFactors[:0], AuthenticationFactor{Type: "appended"})
	for i := range s.Roles {
		s.Roles[i] = "changed"
	}
	s.Roles = append(s.Roles[:0], "appended")
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(e)
				v[k] = "changed"
			}
			v["added"] = true
		case []any:
			for i, e := range v {
				walk(e)
				v[i] = "changed"
			}
		}
	}
	walk(s.CustomClaims)
}

// TestVerifyEngineBounds: the largest JWT the engine mints within its
// bounds (custom claims of 4096 bytes nested up to 16 deep, a 1024-byte
// user agent and a 64-byte IP address, every byte of both escaped by
// encoding/json as the engine's json.Marshal escapes <, three factors)
// fits in maxTokenLen and verifies.
func TestVerifyEngineBounds(t *testing.T) {
	k := testKeys()[0]
	srv := newJWKSServer(t, k)
	clk := newClock()
	v := newTestVerifier(t, srv, clk, nil)
	c := claimsAt(clk.Now())
	sess := c["https://stytch.com/session"].(map[string]any)
	sess["attributes"] = map[string]any{"user_agent": strings.Repeat("<", 1024), "ip_address": strings.Repeat(">", 64)}
	f := sess["authentication_factors"].([]any)[0]
	sess["authentication_factors"] = []any{f, f, f}
	deep := mustJSON(t, nested(16))
	custom := map[string]any{"deep": deep, "pad": ""}
	b, _ := json.Marshal(custom)
	custom["pad"] = strings.Repeat("x", 4096-len(b))
	if b, _ = json.Marshal(custom); len(b) != 4096 {
		t.Fatalf("custom claims are %d bytes", len(b))
	}
	for name, val := range custom {
		c[name] = val
	}
	tok := mint(t, k, c)
	t.Logf("largest JWT: %d bytes of %d", len(tok), maxTokenLen)
	if len(tok) > maxTokenLen {
		t.Fatalf("JWT of %d bytes exceeds maxTokenLen %d", len(tok), maxTokenLen)
	}
	s, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.CustomClaims["deep"], deep) || s.Attributes.UserAgent != strings.Repeat("<", 1024) {
		t.Fatalf("claims read back differ: %v", s.CustomClaims["deep"])
	}
}
