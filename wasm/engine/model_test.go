package engine

import "testing"

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
