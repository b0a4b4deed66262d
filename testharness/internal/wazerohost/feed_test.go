package wazerohost

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/guest/bridge"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// TestBridgeRevoked sends the guest's side of a 'V' frame natively to the
// host's dispatcher: a feed read held on the server's waiter is asked
// again, and a malformed frame is refused without waking anyone.
func TestBridgeRevoked(t *testing.T) {
	s, _ := bridged(t)
	var news atomic.Bool
	var asked atomic.Int32
	feed := s.waiter.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if news.Load() {
			fmt.Fprint(w, `{"events":[{"session_id":"s"}],"cursor":"1"}`)
			return
		}
		fmt.Fprint(w, `{"events":[],"cursor":"0"}`)
	}))
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		feed.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/sessions/revocations?wait=30&cursor=0", nil))
		done <- rec
	}()
	for asked.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if answer := s.dispatch(context.Background(), append(wire.AppendRevoked(nil), 0)); wire.ParseOK(answer) == nil {
		t.Fatalf("a 'V' frame with a trailing byte answered %q", answer)
	}
	var logged bytes.Buffer
	news.Store(true)
	bridge.NewRevoked(s.call, slog.New(slog.NewTextHandler(&logged, nil)))()
	// Unwoken, the read would answer when its 30 s wait ends: an answer
	// well before that, with the event, is the wake.
	select {
	case rec := <-done:
		if !strings.Contains(rec.Body.String(), `"session_id":"s"`) {
			t.Fatalf("the woken read answered %q", rec.Body.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the held read was not woken by the 'V' frame")
	}
	if logged.Len() != 0 {
		t.Errorf("NewRevoked logged %q", logged.String())
	}
	// A host that refuses the frame is logged, not fatal.
	refuse := func(context.Context, []byte) ([]byte, error) { return wire.AppendError(nil, "no"), nil }
	bridge.NewRevoked(refuse, slog.New(slog.NewTextHandler(&logged, nil)))()
	if !strings.Contains(logged.String(), "bridge: revoked") {
		t.Errorf("a refused 'V' frame logged %q", logged.String())
	}
}

// feedRead is one GET of the feed on s, with its answer.
type feedRead struct {
	status int
	body   map[string]any
	took   time.Duration
	err    error
}

func readFeed(s *Server, cursor string, wait int) feedRead {
	c := apitest.Client{URL: s.URL, ProjectID: s.ProjectID, Secret: s.Secret, HTTP: &http.Client{Timeout: 60 * time.Second}}
	start := time.Now()
	status, body, err := c.Do(context.Background(), http.MethodGet, fmt.Sprintf("/v1/sessions/revocations?wait=%d&cursor=%s", wait, cursor), nil)
	return feedRead{status: status, body: body, took: time.Since(start), err: err}
}

func events(body map[string]any) []map[string]any {
	raw, _ := body["events"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, e := range raw {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// TestFeedWaitHoldsNoInstance holds 20 waiting feed reads on a host with
// two instances and a request timeout shorter than a wait: other requests
// are served meanwhile, one revoke wakes all 20 with its event, and a wait
// longer than the request timeout runs its course and answers 200. Nothing
// here is timed but the waits themselves: a held read that held an
// instance would make the other requests 503 (no instance within the
// request timeout), and an unwoken read would answer only when its 30 s
// wait ends.
func TestFeedWaitHoldsNoInstance(t *testing.T) {
	const timeout, longWait = 5 * time.Second, 8 // the wait > the request timeout
	s := startWith(t, Config{Instances: 2, RequestTimeout: timeout})
	auth := login(t, s, "held@example.com")
	session := auth["session"].(map[string]any)["session_id"].(string)
	first := readFeed(s, "", 0)
	if first.err != nil || first.status != http.StatusOK {
		t.Fatalf("feed: %d %v %v", first.status, first.body, first.err)
	}
	cursor := first.body["cursor"].(string)

	const readers = 20
	answers := make(chan feedRead, readers)
	for range readers {
		go func() { answers <- readFeed(s, cursor, 30) }()
	}
	// A wait longer than the request timeout with no revoke at all.
	quiet := make(chan feedRead, 1)
	go func() { quiet <- readFeed(s, cursor, longWait) }()
	time.Sleep(500 * time.Millisecond)
	select {
	case a := <-answers:
		t.Fatalf("a waiting read answered before any revoke: %d %v %v", a.status, a.body, a.err)
	default:
	}
	// The held reads hold no instance: the pool of two still serves.
	for i := range 3 {
		status, out := call(t, s, "GET", "/v1/users/"+auth["user_id"].(string), nil)
		if status != http.StatusOK {
			t.Fatalf("request %d while 20 reads wait: %d %v", i, status, out)
		}
	}
	status, out := call(t, s, "POST", "/v1/sessions/revoke", map[string]any{"session_id": session})
	mustOK(t, status, out)
	woken := time.After(20 * time.Second)
	for range readers {
		select {
		case a := <-answers:
			if a.err != nil || a.status != http.StatusOK {
				t.Fatalf("a woken read: %d %v %v", a.status, a.body, a.err)
			}
			if ev := events(a.body); len(ev) != 1 || ev[0]["session_id"] != session {
				t.Fatalf("a woken read answered %v, want the one revoked session", a.body)
			}
		case <-woken:
			t.Fatal("not every waiting read woke on the revoke")
		}
	}
	q := <-quiet
	if q.err != nil || q.status != http.StatusOK {
		t.Fatalf("a %d s wait under a %v request timeout: %d %v %v", longWait, timeout, q.status, q.body, q.err)
	}
	// It was woken by the revoke too, and answered it; a read after that
	// cursor waits its whole wait, past the request timeout, and answers
	// empty.
	late := readFeed(s, q.body["cursor"].(string), longWait)
	if late.err != nil || late.status != http.StatusOK || len(events(late.body)) != 0 {
		t.Fatalf("an idle %d s wait: %d %v %v", longWait, late.status, late.body, late.err)
	}
	if late.took < longWait*time.Second-100*time.Millisecond {
		t.Errorf("an idle %d s wait answered after %v", longWait, late.took)
	}
}

// TestFeedFlood deletes a user with 50 sessions while a read waits: the
// waiting read and the reads that follow its cursor while has_more
// together carry every one of the 50, once each.
func TestFeedFlood(t *testing.T) {
	s := startWith(t, Config{})
	auth := login(t, s, "flood@example.com")
	user := auth["user_id"].(string)
	want := map[string]bool{auth["session"].(map[string]any)["session_id"].(string): true}
	for len(want) < 50 {
		status, link := call(t, s, "POST", "/v1/magic_links", map[string]any{"user_id": user})
		mustOK(t, status, link)
		status, a := call(t, s, "POST", "/v1/magic_links/authenticate", map[string]any{"token": link["token"], "session_duration_minutes": 60})
		mustOK(t, status, a)
		want[a["session"].(map[string]any)["session_id"].(string)] = true
	}
	cursor := readFeed(s, "", 0).body["cursor"].(string)
	waiting := make(chan feedRead, 1)
	go func() { waiting <- readFeed(s, cursor, 20) }()
	time.Sleep(300 * time.Millisecond)
	status, out := call(t, s, "DELETE", "/v1/users/"+user, nil)
	mustOK(t, status, out)

	got := map[string]int{}
	a := <-waiting
	for reads := 1; ; reads++ {
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("read %d: %d %v %v", reads, a.status, a.body, a.err)
		}
		for _, ev := range events(a.body) {
			if ev["user_id"] != user {
				t.Errorf("event of another user: %v", ev)
			}
			got[ev["session_id"].(string)]++
		}
		if a.body["has_more"] != true || reads > 10 {
			break
		}
		a = readFeed(s, a.body["cursor"].(string), 0)
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("session %s arrived %d times, want once", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d sessions arrived, want the %d of the deleted user", len(got), len(want))
	}
}
