//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/verifier"
)

// TestFeedWaitNeedsCredentials floods the feed with waiting reads that
// carry no credentials (or wrong ones), each asking for the longest wait:
// first on a Worker whose feed object has never run, then while real
// verifiers hold reads and a session is revoked. Every such read gets the
// engine's own 401 at once, none brings the project's feed object into
// being (nor does an authenticated read with a wait or cursor the engine
// refuses), and the verifiers' held reads carry the revoke as before: each
// verifier rejects the revoked session's JWT.
func TestFeedWaitNeedsCredentials(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	f := &strangerFlood{tg: w.Target, client: &http.Client{
		// Far below the wait each read asks for: a read that is held
		// instead of refused fails here.
		Timeout:   strangerTimeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: strangerWorkers},
	}}
	f.want = f.reference(t)

	// Before any verifier: nothing reaches the object, so it never runs.
	if err := f.run(strangerWorkers, 200, nil); err != nil {
		t.Fatal(err)
	}
	requireNoFeedObject(t, w, "reads without credentials")
	for _, q := range []string{"wait=31", "wait=x", "wait=-1", "cursor=x&wait=30", "cursor=007&wait=30"} {
		status, out, err := a.do(http.MethodGet, "/v1/sessions/revocations?"+q, nil, true, w.ProjectID, w.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusBadRequest {
			t.Errorf("authenticated read %s: status %d, want 400: %v", q, status, out)
		}
	}
	requireNoFeedObject(t, w, "authenticated reads with a wait or cursor the engine refuses")

	// Real verifiers, each holding a read in the object.
	user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "stranger-flood@example.com"})
	ml := a.must(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": user["user_id"]})
	login := a.must(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
	jwt := str(t, login, "session_jwt")
	session, _ := login["session"].(map[string]any)
	sessionID, _ := session["session_id"].(string)
	const verifiers = 3
	vs := make([]*verifier.Verifier, verifiers)
	watches := make([]*feedWatch, verifiers)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := range vs {
		watches[i] = &feedWatch{next: http.DefaultTransport}
		v, err := verifier.New(ctx, verifier.Config{ProjectID: w.ProjectID, Secret: w.Secret, BaseURL: w.URL,
			HTTPClient: &http.Client{Transport: watches[i], Timeout: 30 * time.Second}, KeyWait: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		vs[i] = v
	}
	deadline := time.Now().Add(90 * time.Second)
	for i, v := range vs {
		until(t, deadline, fmt.Sprintf("verifier %d accepts the JWT", i), func() bool {
			_, err := v.Verify(ctx, jwt)
			return err == nil
		})
		until(t, deadline, fmt.Sprintf("verifier %d holds a feed read", i), func() bool { return watches[i].held.Load() > 0 })
	}
	// Else the check above proves nothing.
	until(t, deadline, "the verifiers' held reads start the feed's object", func() bool {
		started, err := feedObjectStarted(w)
		if err != nil {
			t.Fatal(err)
		}
		return started
	})

	// The flood again, at the verifiers' cursor, with a revoke in it.
	f.cursor = a.feedCursor()
	before := f.answered.Swap(0)
	stop := make(chan struct{})
	flooded := make(chan error, 1)
	go func() { flooded <- f.run(strangerWorkers, 0, stop) }()
	until(t, deadline, "the flood is answered", func() bool { return f.answered.Load() >= 50 })
	a.must(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})
	for i, v := range vs {
		until(t, deadline, fmt.Sprintf("verifier %d rejects the revoked session's JWT", i), func() bool {
			_, err := v.Verify(ctx, jwt)
			return errors.Is(err, verifier.ErrRevoked)
		})
	}
	close(stop)
	if err := <-flooded; err != nil {
		t.Error(err)
	}
	for i, v := range vs {
		if err := v.RevocationFeedError(); err != nil {
			t.Errorf("verifier %d: feed error %v", i, err)
		}
		if bad := watches[i].failures(); len(bad) > 0 {
			t.Errorf("verifier %d: feed reads failed during the flood: %v", i, bad)
		}
	}
	t.Logf("waiting reads without credentials, each answered 401: %d before the verifiers, %d with the revoke", before, f.answered.Load())
}

const (
	// strangerWait is the wait the flood asks for: the longest the
	// engine takes.
	strangerWait = 30
	// strangerTimeout bounds each of the flood's reads, far below
	// strangerWait but far above what a refusal takes on a busy machine.
	strangerTimeout = 20 * time.Second
	// strangerWorkers is how many of the flood's reads are in flight at
	// once.
	strangerWorkers = 16
)

// strangerFlood sends waiting feed reads without the project's
// credentials.
type strangerFlood struct {
	tg       Target
	client   *http.Client
	cursor   string       // sent with each read, when set
	want     engineAnswer // the engine's 401 to a read that does not wait
	answered atomic.Int64 // reads answered as want
}

// engineAnswer is what a refusal is compared by: all but its request id.
type engineAnswer struct {
	status int
	header map[string]string
	body   map[string]any
}

// comparedHeaders are the header fields a refusal must share with the
// engine's.
var comparedHeaders = []string{"Content-Type", "Cache-Control", "WWW-Authenticate"}

// reference is the engine's answer to a read without credentials that
// does not wait, which never goes near the feed's object.
func (f *strangerFlood) reference(t *testing.T) engineAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.tg.URL+"/v1/sessions/revocations?wait=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.read(req)
	if err != nil {
		t.Fatal(err)
	}
	if want.status != http.StatusUnauthorized || want.header["WWW-Authenticate"] == "" ||
		want.body["error_type"] != "unauthorized_credentials" {
		t.Fatalf("the engine's refusal of a read without credentials: %+v", want)
	}
	return want
}

// request is the i-th read of the flood: no Authorization, a wrong
// secret, a wrong project id, or a scheme other than Basic.
func (f *strangerFlood) request(i int) (*http.Request, error) {
	q := url.Values{"wait": {fmt.Sprint(strangerWait)}}
	if f.cursor != "" {
		q.Set("cursor", f.cursor)
	}
	req, err := http.NewRequest(http.MethodGet, f.tg.URL+"/v1/sessions/revocations?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	switch i % 4 {
	case 1:
		req.SetBasicAuth(f.tg.ProjectID, f.tg.Secret+"x")
	case 2:
		req.SetBasicAuth(f.tg.ProjectID+"x", f.tg.Secret)
	case 3:
		req.Header.Set("Authorization", "Bearer "+f.tg.Secret)
	}
	return req, nil
}

// run sends the flood's reads, workers at a time, until n have been sent
// (n > 0) or stop is closed. It returns the first read not answered as the
// engine's 401 before the client's timeout.
func (f *strangerFlood) run(workers, n int, stop <-chan struct{}) error {
	var (
		sent atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	failed := make(chan struct{})
	var failOnce sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-failed:
					return
				default:
				}
				i := int(sent.Add(1))
				if n > 0 && i > n {
					return
				}
				if err := f.refused(i); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("read %d of the flood: %w", i, err))
					mu.Unlock()
					failOnce.Do(func() { close(failed) })
					return
				}
				f.answered.Add(1)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// refused sends the i-th read and checks that it was answered as the
// engine's 401.
func (f *strangerFlood) refused(i int) error {
	req, err := f.request(i)
	if err != nil {
		return err
	}
	got, err := f.read(req)
	if err != nil {
		return err
	}
	if got.status != f.want.status {
		return fmt.Errorf("status %d, want %d: %v", got.status, f.want.status, got.body)
	}
	for _, h := range comparedHeaders {
		if got.header[h] != f.want.header[h] {
			return fmt.Errorf("%s %q, want %q as the engine's refusal has it", h, got.header[h], f.want.header[h])
		}
	}
	for k, v := range f.want.body {
		if k != "request_id" && got.body[k] != v {
			return fmt.Errorf("%s %v, want %v as the engine's refusal has it", k, got.body[k], v)
		}
	}
	if id, _ := got.body["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") || len(got.body) != len(f.want.body) {
		return fmt.Errorf("not the engine's refusal: %v", got.body)
	}
	return nil
}

// read sends req and reads its answer.
func (f *strangerFlood) read(req *http.Request) (engineAnswer, error) {
	resp, err := f.client.Do(req)
	if err != nil {
		return engineAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return engineAnswer{}, err
	}
	a := engineAnswer{status: resp.StatusCode, header: map[string]string{}}
	for _, h := range comparedHeaders {
		a.header[h] = resp.Header.Get(h)
	}
	if err := json.Unmarshal(data, &a.body); err != nil {
		return engineAnswer{}, fmt.Errorf("status %d, body not JSON: %w: %q", resp.StatusCode, err, data)
	}
	return a, nil
}

// requireNoFeedObject fails the test if the feed's object has run on w,
// which only what was sent (the reads named by what) can have started.
func requireNoFeedObject(t *testing.T, w *Worker, what string) {
	t.Helper()
	if started, err := feedObjectStarted(w); err != nil {
		t.Fatal(err)
	} else if started {
		t.Fatalf("%s reached the feed's Durable Object", what)
	}
}

// feedObjectStarted reports whether the project's feed object has ever
// run on w. wrangler dev keeps a SQLite file for each Durable Object,
// <state>/v3/do/<worker>-RevocationFeed/<object id>.sqlite, from when the
// object is first created; beside it is the namespace's metadata.sqlite.
func feedObjectStarted(w *Worker) (bool, error) {
	files, err := filepath.Glob(filepath.Join(w.persist, "v3", "do", "*-RevocationFeed", "*.sqlite"))
	if err != nil {
		return false, fmt.Errorf("e2e: %w", err)
	}
	for _, f := range files {
		if filepath.Base(f) != "metadata.sqlite" {
			return true, nil
		}
	}
	return false, nil
}

// feedWatch is a verifier's transport that counts its feed reads in flight
// that ask to wait, and remembers every feed read that was not answered
// 200.
type feedWatch struct {
	next http.RoundTripper
	held atomic.Int64
	mu   sync.Mutex
	bad  []string
}

func (f *feedWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/v1/sessions/revocations" {
		return f.next.RoundTrip(r)
	}
	if w := r.URL.Query().Get("wait"); w != "" && w != "0" {
		f.held.Add(1)
		defer f.held.Add(-1)
	}
	resp, err := f.next.RoundTrip(r)
	if err != nil && r.Context().Err() == nil {
		f.failed(err.Error())
	} else if err == nil && resp.StatusCode != http.StatusOK {
		f.failed(resp.Status)
	}
	return resp, err
}

func (f *feedWatch) failed(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = append(f.bad, what)
}

func (f *feedWatch) failures() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bad...)
}

// until polls cond until it holds, failing the test at deadline.
func until(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		<-tick.C
	}
}
