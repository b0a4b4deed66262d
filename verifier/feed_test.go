package verifier

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
)

// These tests run the revocation feed against the real engine served
// natively over loopback, whose host holds feed reads until a revoke
// lands (testharness/feedwait).

// feedDeadline bounds how long a test waits for the feed to deliver.
// Delivery takes well under a second; the bound is generous so that a
// loaded machine does not fail the test.
const feedDeadline = 15 * time.Second

type feedEdge struct {
	*native.Server
	api apitest.Client
}

func startFeedEdge(t *testing.T) *feedEdge {
	t.Helper()
	srv := native.Start(t, native.Config{})
	return &feedEdge{Server: srv, api: apitest.Client{URL: srv.URL, ProjectID: srv.ProjectID, Secret: srv.Secret, HTTP: http.DefaultClient}}
}

func (e *feedEdge) call(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	status, out, err := e.api.Do(context.Background(), method, path, body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("%s %s: %d %v %v", method, path, status, out, err)
	}
	return out
}

func (e *feedEdge) newUser(t *testing.T) string {
	t.Helper()
	u := e.call(t, http.MethodPost, "/v1/users", map[string]any{"email": fmt.Sprintf("feed-%d@example.com", emailSeq.Add(1))})
	return u["user_id"].(string)
}

// session logs userID in and returns the new session's id and JWT.
func (e *feedEdge) session(t *testing.T, userID string) (string, string) {
	t.Helper()
	link := e.call(t, http.MethodPost, "/v1/magic_links", map[string]any{"user_id": userID})
	auth := e.call(t, http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": link["token"], "session_duration_minutes": 60})
	return auth["session"].(map[string]any)["session_id"].(string), auth["session_jwt"].(string)
}

func (e *feedEdge) revoke(t *testing.T, sessionID string) {
	t.Helper()
	e.call(t, http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})
}

// feedVerifier is a Verifier against e with the feed on, closed when t ends.
func feedVerifier(t *testing.T, e *feedEdge, edit func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{ProjectID: e.ProjectID, BaseURL: e.URL, Secret: e.Secret}
	if edit != nil {
		edit(&cfg)
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// eventually polls cond until it holds or feedDeadline passes.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(feedDeadline); ; time.Sleep(5 * time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %s: %v", feedDeadline, what, err)
		}
	}
}

// verifyErr wants Verify(tok) to fail with want (nil for success).
func verifyErr(v *Verifier, tok string, want error) func() error {
	return func() error {
		_, err := v.Verify(context.Background(), tok)
		if want == nil && err == nil || want != nil && errors.Is(err, want) {
			return nil
		}
		return fmt.Errorf("err = %v, want %v", err, want)
	}
}

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
	eventually(t, "Verify of the revoked session's JWT", verifyErr(v, tok, ErrRevoked))
	t.Logf("revoke seen after %v", time.Since(start))

	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, ErrSessionNotFound) || !strings.Contains(err.Error(), sid) {
		t.Fatalf("err = %v, want ErrRevoked naming %s and matching ErrSessionNotFound", err, sid)
	}
	if _, _, err := v.Authenticate(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Authenticate: err = %v, want ErrRevoked without asking the edge", err)
	}
	if code, body := serveBearer(v, tok); code != http.StatusUnauthorized || !strings.Contains(body, `"session_not_found"`) {
		t.Fatalf("Middleware: %d %s, want 401 session_not_found", code, body)
	}
	if _, err := v.Verify(ctx, other); err != nil {
		t.Fatalf("the user's other session: %v", err)
	}
	sum := tokenSum(tok)
	if v.tokens.get(&sum, tok[strings.LastIndexByte(tok, '.')+1:], time.Now().Unix()) != nil {
		t.Fatal("the revoked JWT is still in the verified-token cache")
	}
	if err := v.RevocationFeedError(); err != nil {
		t.Fatalf("RevocationFeedError = %v", err)
	}
}

// serveBearer runs v.Middleware on a request carrying tok as a bearer
// token and returns the status and body.
func serveBearer(v *Verifier, tok string) (int, string) {
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://localhost/account", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// tokenSum is the verified-token cache's key for tok.
func tokenSum(tok string) [32]byte {
	return sha256.Sum256([]byte(tok[:strings.LastIndexByte(tok, '.')]))
}

// TestFeedFlood: deleting a user with more sessions than one feed answer
// holds revokes every one of them (has_more is read on at once).
func TestFeedFlood(t *testing.T) {
	e := startFeedEdge(t)
	v := feedVerifier(t, e, nil)
	user := e.newUser(t)
	const n = 1010 // above the feed's page of 1000
	toks := make([]string, n)
	for i := range toks {
		_, toks[i] = e.session(t, user)
	}
	bystanderUser := e.newUser(t)
	_, bystander := e.session(t, bystanderUser)
	for _, tk := range []string{toks[0], toks[n-1], bystander} {
		if _, err := v.Verify(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
	}
	e.call(t, http.MethodDelete, "/v1/users/"+user, nil)
	eventually(t, "the last session's JWT", verifyErr(v, toks[n-1], ErrRevoked))
	for i, tk := range toks {
		if _, err := v.Verify(t.Context(), tk); !errors.Is(err, ErrRevoked) {
			t.Fatalf("session %d of %d: err = %v, want ErrRevoked", i, n, err)
		}
	}
	if _, err := v.Verify(t.Context(), bystander); err != nil {
		t.Fatalf("another user's session: %v", err)
	}
}

// cutter is a RoundTripper that can cut the feed: while cut, feed reads
// hang until their context ends. rewrite, when set, edits the next feed
// read's query once.
type cutter struct {
	mu      sync.Mutex
	cut     chan struct{} // non-nil while cut; closed to restore
	rewrite func(q map[string][]string)
	reads   atomic.Int64
}

func (c *cutter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/v1/sessions/revocations" {
		return http.DefaultTransport.RoundTrip(r)
	}
	c.reads.Add(1)
	c.mu.Lock()
	cut, rewrite := c.cut, c.rewrite
	c.rewrite = nil
	c.mu.Unlock()
	if cut != nil {
		select {
		case <-cut:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	if rewrite != nil {
		q := r.URL.Query()
		rewrite(q)
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
	}
	return http.DefaultTransport.RoundTrip(r)
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

// TestFeedCut: a feed that stops answering fails closed — every JWT is
// ErrFeedStale, which Authenticate takes to the edge — and once it
// answers again the gap is read from the cursor, so every JWT verifies
// locally again and a revoke made during the gap is seen.
func TestFeedCut(t *testing.T) {
	e := startFeedEdge(t)
	cut := &cutter{}
	v := feedVerifier(t, e, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: cut}
		c.feedWait, c.feedStale = 1, 2*time.Second
	})
	ctx := t.Context()
	user := e.newUser(t)
	sid, tok := e.session(t, user)
	goneSID, gone := e.session(t, user)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	cut.setCut(true)
	eventually(t, "Verify with the feed cut", verifyErr(v, tok, ErrFeedStale))
	e.revoke(t, goneSID)
	for _, tk := range []string{tok, gone} {
		if _, err := v.Verify(ctx, tk); !errors.Is(err, ErrFeedStale) || !needsEdge(err) {
			t.Fatalf("cut: err = %v, want ErrFeedStale", err)
		}
	}
	s, fresh, err := v.Authenticate(ctx, tok)
	if err != nil || fresh == "" || s.SessionID != sid {
		t.Fatalf("Authenticate while cut = %+v, %q, %v; want the edge's answer", s, fresh, err)
	}
	if _, err := v.Verify(ctx, fresh); !errors.Is(err, ErrFeedStale) {
		t.Fatalf("a JWT minted during the cut: err = %v, want ErrFeedStale", err)
	}
	if code, body := serveBearer(v, tok); code != http.StatusOK {
		t.Fatalf("Middleware while cut: %d %s, want 200 through the edge", code, body)
	}
	if code, _ := serveBearer(v, gone); code != http.StatusUnauthorized {
		t.Fatalf("Middleware while cut, revoked session: %d, want 401", code)
	}
	if _, _, err := v.Authenticate(ctx, gone); !errors.Is(err, ErrSessionNotFound) || errors.Is(err, ErrRevoked) {
		t.Fatalf("Authenticate of a session revoked during the cut: err = %v, want the edge's session_not_found", err)
	}

	cut.setCut(false)
	eventually(t, "Verify once the feed is back", verifyErr(v, tok, nil))
	for _, c := range []struct {
		tok  string
		want error
	}{{tok: fresh}, {tok: gone, want: ErrRevoked}} {
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
	v := feedVerifier(t, e, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: cut}
		c.feedWait = 1
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
	eventually(t, "Verify of a JWT issued before the reset", verifyErr(v, old, ErrFeedStale))
	s, fresh, err := v.Authenticate(ctx, old)
	if err != nil || fresh == "" || s.SessionID != sid {
		t.Fatalf("Authenticate after the reset = %+v, %q, %v; want the edge's answer", s, fresh, err)
	}
	time.Sleep(1100 * time.Millisecond) // into the next second: iat after the reset
	_, after := e.session(t, user)
	if _, err := v.Verify(ctx, after); err != nil {
		t.Fatalf("a JWT issued after the reset: %v", err)
	}
	if _, err := v.Verify(ctx, old); !errors.Is(err, ErrFeedStale) {
		t.Fatalf("the old JWT again: err = %v, want ErrFeedStale", err)
	}
}

// offsetClock is the real clock moved forward by an adjustable offset.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func revokedCount(v *Verifier) (int, int) {
	v.feed.mu.RLock()
	defer v.feed.mu.RUnlock()
	return len(v.feed.revoked), len(v.feed.order)
}

// TestFeedAgeing: a revoked session is forgotten once none of its JWTs
// can still be unexpired, and an event already past that is not kept.
func TestFeedAgeing(t *testing.T) {
	e := startFeedEdge(t)
	clk := &offsetClock{}
	v := feedVerifier(t, e, func(c *Config) {
		c.Now, c.Leeway = clk.Now, 10*time.Second
		c.feedWait = 1 // an answer a second, each of which ages the set
	})
	user := e.newUser(t)
	sid, tok := e.session(t, user)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	e.revoke(t, sid)
	eventually(t, "the revoke", verifyErr(v, tok, ErrRevoked))

	horizon := time.Duration(jwtLifetime+10+revokedSlack) * time.Second
	clk.Advance(horizon - 5*time.Second)
	time.Sleep(2500 * time.Millisecond) // two answers or more
	if n, _ := revokedCount(v); n != 1 {
		t.Fatalf("before the horizon: %d revoked sessions kept, want 1", n)
	}
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
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
	before := v.feed.synced.Load()
	e.revoke(t, sid2)
	eventually(t, "an answer after the revoke", func() error {
		if v.feed.synced.Load() == before {
			return errors.New("no answer yet")
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond)
	if n, _ := revokedCount(v); n != 0 {
		t.Fatalf("%d sessions kept, want 0", n)
	}
}

// TestFeedSwitch: the feed runs only with a Secret and unless disabled;
// Close stops it, after which Verify cannot vouch and Authenticate asks
// the edge.
func TestFeedSwitch(t *testing.T) {
	e := startFeedEdge(t)
	user := e.newUser(t)
	_, tok := e.session(t, user)
	for _, tt := range []struct {
		name      string
		secret    string
		disable   bool
		wantReads bool
	}{
		{name: "secret", secret: e.Secret, wantReads: true},
		{name: "secret, disabled", secret: e.Secret, disable: true},
		{name: "no secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cut := &cutter{}
			v := feedVerifier(t, e, func(c *Config) {
				c.Secret, c.DisableRevocationFeed = tt.secret, tt.disable
				c.HTTPClient = &http.Client{Transport: cut}
			})
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Fatal(err)
			}
			if got := cut.reads.Load() > 0; got != tt.wantReads {
				t.Fatalf("feed reads: %d, want some: %v", cut.reads.Load(), tt.wantReads)
			}
			if err := v.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := v.Verify(t.Context(), tok)
			if tt.wantReads != errors.Is(err, ErrFeedStale) || !tt.wantReads && err != nil {
				t.Fatalf("after Close: err = %v", err)
			}
			if tt.wantReads {
				if _, fresh, err := v.Authenticate(t.Context(), tok); err != nil || fresh == "" {
					t.Fatalf("Authenticate after Close = %q, %v; want the edge's answer", fresh, err)
				}
			}
			if err := v.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReadFeedAnswer(t *testing.T) {
	ev := `{"session_id":"session-test-1","user_id":"user-test-1","revoked_at":"2026-01-02T03:04:05Z"}`
	tests := []struct {
		name    string
		body    string
		want    *feedAnswer
		wantBad bool
	}{
		{name: "events", body: `{"events":[` + ev + `],"cursor":"7","reset":false,"has_more":true,"status_code":200,"request_id":"r"}`,
			want: &feedAnswer{events: []feedEvent{{sessionID: "session-test-1", revokedAt: 1767323045}}, cursor: "7", hasMore: true}},
		{name: "empty, reset", body: `{"events":[],"cursor":"0","reset":true,"has_more":false}`,
			want: &feedAnswer{cursor: "0", reset: true}},
		{name: "repeated member", body: `{"events":[],"cursor":"1","cursor":"2"}`, wantBad: true},
		{name: "repeated event member", body: `{"events":[{"session_id":"a","session_id":"b","revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "name in another case", body: `{"Events":[` + ev + `],"cursor":"1"}`, wantBad: true},
		{name: "no cursor", body: `{"events":[]}`, wantBad: true},
		{name: "no events", body: `{"cursor":"1"}`, wantBad: true},
		{name: "event without session", body: `{"events":[{"revoked_at":"2026-01-02T03:04:05Z"}],"cursor":"1"}`, wantBad: true},
		{name: "event without time", body: `{"events":[{"session_id":"a"}],"cursor":"1"}`, wantBad: true},
		{name: "reset not a bool", body: `{"events":[],"cursor":"1","reset":"true"}`, wantBad: true},
		{name: "trailing text", body: `{"events":[],"cursor":"1"} x`, wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := readFeedAnswer(tt.body)
			if ok == tt.wantBad {
				t.Fatalf("ok = %v, want %v", ok, !tt.wantBad)
			}
			if tt.wantBad {
				return
			}
			if fmt.Sprint(*got) != fmt.Sprint(*tt.want) {
				t.Fatalf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

// BenchmarkVerifyRevocationLatency measures, against the native engine
// over loopback, the time from POST /v1/sessions/revoke to the first
// Verify that returns ErrRevoked (ns/op: the revoke call included;
// after-revoke-p50/p99-ms: from the revoke call's answer on). Verify is
// polled every 100 µs.
func BenchmarkVerifyRevocationLatency(b *testing.B) {
	srv := native.Start(b, native.Config{})
	e := &feedEdge{Server: srv, api: apitest.Client{URL: srv.URL, ProjectID: srv.ProjectID, Secret: srv.Secret, HTTP: http.DefaultClient}}
	v, err := New(context.Background(), Config{ProjectID: e.ProjectID, BaseURL: e.URL, Secret: e.Secret})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	must := func(method, path string, body any) map[string]any {
		status, out, err := e.api.Do(context.Background(), method, path, body)
		if err != nil || status != http.StatusOK {
			b.Fatalf("%s %s: %d %v %v", method, path, status, out, err)
		}
		return out
	}
	user := must(http.MethodPost, "/v1/users", map[string]any{"email": "latency@example.com"})["user_id"]
	var after []time.Duration
	for b.Loop() {
		b.StopTimer()
		link := must(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": user})
		auth := must(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": link["token"], "session_duration_minutes": 60})
		tok := auth["session_jwt"].(string)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		must(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": auth["session"].(map[string]any)["session_id"]})
		answered := time.Now()
		for deadline := answered.Add(feedDeadline); ; time.Sleep(100 * time.Microsecond) {
			if _, err := v.Verify(context.Background(), tok); errors.Is(err, ErrRevoked) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("not revoked after %v", feedDeadline)
			}
		}
		after = append(after, time.Since(answered))
	}
	slices.Sort(after)
	b.ReportMetric(float64(after[len(after)/2])/1e6, "after-revoke-p50-ms")
	b.ReportMetric(float64(after[len(after)*99/100])/1e6, "after-revoke-p99-ms")
}
