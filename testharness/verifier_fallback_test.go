//go:build latchtest

package testharness_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/verifier"
)

// These tests of package verifier against the engine look inside the
// Verifier (verifier/hooks_latchtest.go), so they build only with
// -tags latchtest, as make test and make vet run them.

// waiters is the number of callers waiting on the fallback for token.
func waiters(v *verifier.Verifier, token string) int {
	return verifier.HookFallbackWaiters(v, token)
}

// TestHarnessFallbackCoalesced: concurrent Authenticate calls with the
// same forged token cost one edge call; its session_not_found is then
// remembered for notFoundTTL.
func TestHarnessFallbackCoalesced(t *testing.T) {
	srv := testharness.Start(t)
	_, _, tok := login(t, srv)
	counter := &edgeCounter{gate: make(chan struct{})}
	v := harnessVerifier(t, srv, func(c *verifier.Config) { c.HTTPClient = &http.Client{Transport: counter} })
	ctx := t.Context()
	forged := forge(t, tok, 0)

	const n = 32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, _, err := v.Authenticate(ctx, forged); !errors.Is(err, verifier.ErrSessionNotFound) {
				t.Errorf("err = %v, want ErrSessionNotFound", err)
			}
		})
	}
	waitFor(t, "every caller to join one call", func() bool { return waiters(v, forged) == n })
	close(counter.gate)
	wg.Wait()
	if got := counter.calls.Load(); got != 1 {
		t.Fatalf("%d concurrent identical fallbacks cost %d edge calls, want 1", n, got)
	}

	// Remembered: the same token within notFoundTTL costs nothing.
	srv.Advance(notFoundTTL - time.Second)
	for range 3 {
		if _, _, err := v.Authenticate(ctx, forged); !errors.Is(err, verifier.ErrSessionNotFound) {
			t.Fatalf("remembered: err = %v, want ErrSessionNotFound", err)
		}
	}
	if got := counter.calls.Load(); got != 1 {
		t.Fatalf("remembered answer: %d edge calls, want 1", got)
	}
	// Forgotten after it.
	srv.Advance(2 * time.Second)
	if _, _, err := v.Authenticate(ctx, forged); !errors.Is(err, verifier.ErrSessionNotFound) {
		t.Fatalf("after notFoundTTL: err = %v, want ErrSessionNotFound", err)
	}
	if got := counter.calls.Load(); got != 2 {
		t.Fatalf("after notFoundTTL: %d edge calls, want 2", got)
	}
}

// TestHarnessFallbackSharedSession: concurrent Authenticate calls with the
// same expired JWT of a live session cost one edge call, and each caller
// gets a Session of its own.
func TestHarnessFallbackSharedSession(t *testing.T) {
	srv := testharness.Start(t)
	sessionID, _, tok := login(t, srv)
	counter := &edgeCounter{gate: make(chan struct{})}
	v := harnessVerifier(t, srv, func(c *verifier.Config) { c.HTTPClient = &http.Client{Transport: counter} })
	ctx := t.Context()
	srv.Advance(10 * time.Minute)

	const n = 16
	sessions := make([]*verifier.Session, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, fresh, err := v.Authenticate(ctx, tok)
			if err != nil || fresh == "" || s.SessionID != sessionID {
				t.Errorf("= %+v, %q, %v", s, fresh, err)
			}
			sessions[i] = s
		})
	}
	waitFor(t, "every caller to join one call", func() bool { return waiters(v, tok) == n })
	close(counter.gate)
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := counter.calls.Load(); got != 1 {
		t.Fatalf("%d concurrent identical fallbacks cost %d edge calls, want 1", n, got)
	}
	scribble(sessions[0])
	for _, s := range sessions[1:] {
		if s.SessionID != sessionID || s.CustomClaims["plan"] != "pro" || s.Roles[0] != "stytch_user" {
			t.Fatalf("a caller's changes reached another caller's session: %+v", s)
		}
	}
}

// scribble changes everything reachable from s.
func scribble(s *verifier.Session) {
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
	s.AuthenticationFactors = append(s.AuthenticationFactors[:0], verifier.AuthenticationFactor{Type: "appended"})
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
