package testharness_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/verifier"
)

// These tests run the verifier's revocation feed against the real engine
// served natively over loopback, whose host holds feed reads until a
// revoke lands (testharness/internal/feedwait). Those that look inside the
// Verifier are in verifier_feedhooks_test.go.

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

// feedVerifier is a Verifier against e with the feed on, closed when t ends.
func feedVerifier(t *testing.T, e *feedEdge, edit func(*verifier.Config)) *verifier.Verifier {
	t.Helper()
	cfg := verifier.Config{ProjectID: e.ProjectID, BaseURL: e.URL, Secret: e.Secret}
	if edit != nil {
		edit(&cfg)
	}
	v, err := verifier.New(context.Background(), cfg)
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
func verifyErr(v *verifier.Verifier, tok string, want error) func() error {
	return func() error {
		_, err := v.Verify(context.Background(), tok)
		if want == nil && err == nil || want != nil && errors.Is(err, want) {
			return nil
		}
		return fmt.Errorf("err = %v, want %v", err, want)
	}
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
	eventually(t, "the last session's JWT", verifyErr(v, toks[n-1], verifier.ErrRevoked))
	for i, tk := range toks {
		if _, err := v.Verify(t.Context(), tk); !errors.Is(err, verifier.ErrRevoked) {
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
			v := feedVerifier(t, e, func(c *verifier.Config) {
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
			if tt.wantReads != errors.Is(err, verifier.ErrFeedStale) || !tt.wantReads && err != nil {
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

// BenchmarkVerifyRevocationLatency measures, against the native engine
// over loopback, the time from POST /v1/sessions/revoke to the first
// Verify that returns verifier.ErrRevoked (ns/op: the revoke call included;
// after-revoke-p50/p99-ms: from the revoke call's answer on). Verify is
// polled every 100 µs.
func BenchmarkVerifyRevocationLatency(b *testing.B) {
	srv := native.Start(b, native.Config{})
	e := &feedEdge{Server: srv, api: apitest.Client{URL: srv.URL, ProjectID: srv.ProjectID, Secret: srv.Secret, HTTP: http.DefaultClient}}
	v, err := verifier.New(context.Background(), verifier.Config{ProjectID: e.ProjectID, BaseURL: e.URL, Secret: e.Secret})
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
			if _, err := v.Verify(context.Background(), tok); errors.Is(err, verifier.ErrRevoked) {
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
