package engine

import (
	"strings"
	"testing"
)

func TestAddFactorRefreshesInsteadOfDuplicating(t *testing.T) {
	s := &session{}
	ml := factor{Type: "magic_link", DeliveryMethod: "email", CreatedAt: "t1", UpdatedAt: "t1", LastAuthenticatedAt: "t1",
		EmailFactor: &emailFactor{EmailID: "email-test-1", EmailAddress: "a@example.com"}}
	pw := factor{Type: "password", DeliveryMethod: "knowledge", CreatedAt: "t2", UpdatedAt: "t2", LastAuthenticatedAt: "t2",
		EmailFactor: &emailFactor{EmailID: "email-test-1", EmailAddress: "a@example.com"}}
	s.addFactor(ml)
	s.addFactor(pw)
	again := ml
	again.CreatedAt, again.UpdatedAt, again.LastAuthenticatedAt = "t3", "t3", "t3"
	s.addFactor(again)
	if len(s.Factors) != 2 {
		t.Fatalf("got %d factors, want 2", len(s.Factors))
	}
	if f := s.Factors[0]; f.CreatedAt != "t1" || f.UpdatedAt != "t3" || f.LastAuthenticatedAt != "t3" {
		t.Fatalf("refreshed factor %+v: want created t1, updated and last authenticated t3", f)
	}
	embedded := factor{Type: "magic_link", DeliveryMethod: "embedded", EmbeddedFactor: &embeddedFactor{EmbeddedID: "user-test-1"}}
	s.addFactor(embedded)
	if len(s.Factors) != 3 {
		t.Fatalf("an embedded magic link is a different factor from an emailed one: %d factors", len(s.Factors))
	}
}

func TestNormalEmail(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{in: "Ada@Example.COM", want: "ada@example.com", ok: true},
		{in: "  a.b+c@example.co.uk ", want: "a.b+c@example.co.uk", ok: true},
		{in: "a@b", ok: false},
		{in: "@example.com", ok: false},
		{in: "a@example.", ok: false},
		{in: "a@.example.com", ok: false},
		{in: "Ada <ada@example.com>", ok: false},
		{in: "a b@example.com", ok: false},
		{in: "", ok: false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := normalEmail(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("normalEmail(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestAddFactorDropsTheLeastRecentlyAuthenticatedWhenFull(t *testing.T) {
	passkey := func(id, at string) factor {
		return factor{Type: "webauthn", DeliveryMethod: "webauthn_registration", LastAuthenticatedAt: at,
			WebAuthn: &webauthnFactor{ID: id, Domain: "example.com", UserAgent: strings.Repeat("u", 1000)}}
	}
	s := &session{}
	s.addFactor(passkey("a", "2026-01-01T00:00:01Z"))
	s.addFactor(passkey("b", "2026-01-01T00:00:03Z"))
	s.addFactor(passkey("c", "2026-01-01T00:00:02Z"))
	if len(s.Factors) != 3 {
		t.Fatalf("three factors of about 1 KB each fit: got %d", len(s.Factors))
	}
	s.addFactor(passkey("d", "2026-01-01T00:00:04Z"))
	var ids []string
	for _, f := range s.Factors {
		ids = append(ids, f.WebAuthn.ID)
	}
	if got := strings.Join(ids, ","); got != "b,c,d" {
		t.Fatalf("factors after the fourth: %s, want b,c,d (a, least recently authenticated, dropped)", got)
	}
	if n := factorsJSONLen(s.Factors); n > maxFactorsJSON {
		t.Fatalf("factors are %d bytes of JSON, bound %d", n, maxFactorsJSON)
	}
	// Authenticating b again refreshes it; nothing is dropped for it.
	s.addFactor(passkey("b", "2026-01-01T00:00:05Z"))
	if len(s.Factors) != 3 || s.Factors[0].LastAuthenticatedAt != "2026-01-01T00:00:05Z" {
		t.Fatalf("refreshing b: %+v", s.Factors)
	}
	// A factor too large to share the bound with any other stays alone.
	big := passkey("e", "2026-01-01T00:00:00Z")
	big.WebAuthn.UserAgent = strings.Repeat("\x01", maxFactorsJSON/6)
	s.addFactor(big)
	if len(s.Factors) != 1 || s.Factors[0].WebAuthn.ID != "e" {
		t.Fatalf("the factor just authenticated must stay, even when older than the rest: %d factors", len(s.Factors))
	}
}
