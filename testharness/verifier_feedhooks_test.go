//go:build latchtest

package testharness_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/verifier"
)

// These tests of the verifier's revocation feed against the engine look
// inside the Verifier (verifier/hooks_latchtest.go), so they build only
// with -tags latchtest, as make test and make vet run them.

// The verifier's documented bounds on how long a revoked session is kept:
// revoked_at + jwtLifetime + Leeway + revokedSlack (seconds).
const (
	jwtLifetime  = 300
	revokedSlack = 30
)

func TestFeedRevoke(t *testing.T) {
	e := startFeedEdge(t)
	v := feedVerifier(t, e, nil)
	ctx := t.Context()
	user := e.newUser(t)
	sid, tok := e.session(t, user)
	_, other := e.session(t, user)
	for _, tk := range []string{tok, other} {
		if _, err := v.Verify(ctx, tk); err != nil {
			t.Fatalf("before the revoke: %v", err)
		}
	}

	start := time.Now()
	e.revoke(t, sid)
	eventually(t, "Verify of the revoked session's JWT", verifyErr(v, tok, verifier.ErrRevoked))
	t.Logf("revoke seen after %v", time.Since(start))

	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, verifier.ErrSessionNotFound) || !strings.Contains(err.Error(), sid) {
		t.Fatalf("err = %v, want ErrRevoked naming %s and matching verifier.ErrSessionNotFound", err, sid)
	}
	if _, _, err := v.Authenticate(ctx, tok); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("Authenticate: err = %v, want ErrRevoked without asking the edge", err)
	}
	if code, body := serveBearer(v, tok); code != http.StatusUnauthorized || !strings.Contains(body, `"session_not_found"`) {
		t.Fatalf("Middleware: %d %s, want 401 session_not_found", code, body)
	}
	if _, err := v.Verify(ctx, other); err != nil {
		t.Fatalf("the user's other session: %v", err)
	}
	if verifier.HookTokenCached(v, tok, time.Now()) {
		t.Fatal("the revoked JWT is still in the verified-token cache")
	}
	if err := v.RevocationFeedError(); err != nil {
		t.Fatalf("RevocationFeedError = %v", err)
	}
}

// TestFeedCut: a feed that stops answering fails closed — every JWT is
// verifier.ErrFeedStale, which Authenticate takes to the edge — and once it
// answers again the gap is read from the cursor, so every JWT verifies
// locally again and a revoke made during the gap is seen.
func TestFeedCut(t *testing.T) {
	e := startFeedEdge(t)
	cut := &cutter{}
	v := feedVerifier(t, e, func(c *verifier.Config) {
		c.HTTPClient = &http.Client{Transport: cut}
		verifier.HookFeedTiming(c, 1, 2*time.Second)
	})
	ctx := t.Context()
	user := e.newUser(t)
	sid, tok := e.session(t, user)
	goneSID, gone := e.session(t, user)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	cut.setCut(true)
	eventually(t, "Verify with the feed cut", verifyErr(v, tok, verifier.ErrFeedStale))
	e.revoke(t, goneSID)
	for _, tk := range []string{tok, gone} {
		if _, err := v.Verify(ctx, tk); !errors.Is(err, verifier.ErrFeedStale) || !verifier.HookNeedsEdge(err) {
			t.Fatalf("cut: err = %v, want ErrFeedStale", err)
		}
	}
	s, fresh, err := v.Authenticate(ctx, tok)
	if err != nil || fresh == "" || s.SessionID != sid {
		t.Fatalf("Authenticate while cut = %+v, %q, %v; want the edge's answer", s, fresh, err)
	}
	if _, err := v.Verify(ctx, fresh); !errors.Is(err, verifier.ErrFeedStale) {
		t.Fatalf("a JWT minted during the cut: err = %v, want ErrFeedStale", err)
	}
	if code, body := serveBearer(v, tok); code != http.StatusOK {
		t.Fatalf("Middleware while cut: %d %s, want 200 through the edge", code, body)
	}
	if code, _ := serveBearer(v, gone); code != http.StatusUnauthorized {
		t.Fatalf("Middleware while cut, revoked session: %d, want 401", code)
	}
	if _, _, err := v.Authenticate(ctx, gone); !errors.Is(err, verifier.ErrSessionNotFound) || errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("Authenticate of a session revoked during the cut: err = %v, want the edge's session_not_found", err)
	}

	cut.setCut(false)
	eventually(t, "Verify once the feed is back", verifyErr(v, tok, nil))
	for _, c := range []struct {
		tok  string
		want error
	}{{tok: fresh}, {tok: gone, want: verifier.ErrRevoked}} {
		if err := verifyErr(v, c.tok, c.want)(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFeedReset: after a reset the feed vouches only for JWTs issued
// after it; older ones go to the edge until they expire.
func TestFeedReset(t *testing.T) {
	e := startFeedEdge(t)
	cut := &cutter{}
	v := feedVerifier(t, e, func(c *verifier.Config) {
		c.HTTPClient = &http.Client{Transport: cut}
		verifier.HookFeedTiming(c, 1, 0)
	})
	ctx := t.Context()
	user := e.newUser(t)
	sid, old := e.session(t, user)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	// A cursor past the feed's end is what the edge answers with a reset
	// after losing events (a restored store).
	cut.mu.Lock()
	cut.rewrite = func(q map[string][]string) { q["cursor"] = []string{"999999"} }
	cut.mu.Unlock()
	eventually(t, "Verify of a JWT issued before the reset", verifyErr(v, old, verifier.ErrFeedStale))
	s, fresh, err := v.Authenticate(ctx, old)
	if err != nil || fresh == "" || s.SessionID != sid {
		t.Fatalf("Authenticate after the reset = %+v, %q, %v; want the edge's answer", s, fresh, err)
	}
	time.Sleep(1100 * time.Millisecond) // into the next second: iat after the reset
	_, after := e.session(t, user)
	if _, err := v.Verify(ctx, after); err != nil {
		t.Fatalf("a JWT issued after the reset: %v", err)
	}
	if _, err := v.Verify(ctx, old); !errors.Is(err, verifier.ErrFeedStale) {
		t.Fatalf("the old JWT again: err = %v, want ErrFeedStale", err)
	}
}

// offsetClock is the real clock moved forward by an adjustable offset.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func revokedCount(v *verifier.Verifier) (int, int) { return verifier.HookRevokedCount(v) }

// TestFeedAgeing: a revoked session is forgotten once none of its JWTs
// can still be unexpired, and an event already past that is not kept.
func TestFeedAgeing(t *testing.T) {
	e := startFeedEdge(t)
	clk := &offsetClock{}
	v := feedVerifier(t, e, func(c *verifier.Config) {
		c.Now, c.Leeway = clk.Now, 10*time.Second
		verifier.HookFeedTiming(c, 1, 0) // an answer a second, each of which ages the set
	})
	user := e.newUser(t)
	sid, tok := e.session(t, user)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	e.revoke(t, sid)
	eventually(t, "the revoke", verifyErr(v, tok, verifier.ErrRevoked))

	horizon := time.Duration(jwtLifetime+10+revokedSlack) * time.Second
	clk.Advance(horizon - 5*time.Second)
	time.Sleep(2500 * time.Millisecond) // two answers or more
	if n, _ := revokedCount(v); n != 1 {
		t.Fatalf("before the horizon: %d revoked sessions kept, want 1", n)
	}
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, verifier.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired (the JWT itself is long expired)", err)
	}
	clk.Advance(10 * time.Second)
	eventually(t, "the entry to age out", func() error {
		if n, m := revokedCount(v); n != 0 || m != 0 {
			return fmt.Errorf("%d sessions, %d queued", n, m)
		}
		return nil
	})
	// An event whose JWTs have all expired on the verifier's clock is
	// never stored.
	clk.Advance(horizon)
	sid2, _ := e.session(t, user)
	before := verifier.HookFeedSynced(v)
	e.revoke(t, sid2)
	eventually(t, "an answer after the revoke", func() error {
		if verifier.HookFeedSynced(v) == before {
			return errors.New("no answer yet")
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond)
	if n, _ := revokedCount(v); n != 0 {
		t.Fatalf("%d sessions kept, want 0", n)
	}
}

func (e *feedEdge) revoke(t *testing.T, sessionID string) {
	t.Helper()
	e.call(t, http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})
}

// serveBearer runs v.Middleware on a request carrying tok as a bearer
// token and returns the status and body.
func serveBearer(v *verifier.Verifier, tok string) (int, string) {
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://localhost/account", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (c *cutter) setCut(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case on && c.cut == nil:
		c.cut = make(chan struct{})
	case !on && c.cut != nil:
		close(c.cut)
		c.cut = nil
	}
}
