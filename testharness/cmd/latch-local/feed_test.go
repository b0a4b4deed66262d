package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
)

// feedLogin creates a user with a session and returns the session's id.
func feedLogin(t *testing.T, f map[string]string, email string) string {
	t.Helper()
	status, user := request(t, f, "POST", "/v1/users", `{"email":"`+email+`"}`)
	if status != http.StatusOK {
		t.Fatalf("create user: %d %v", status, user)
	}
	status, link := request(t, f, "POST", "/v1/magic_links", `{"user_id":"`+user["user_id"].(string)+`"}`)
	if status != http.StatusOK {
		t.Fatalf("magic link: %d %v", status, link)
	}
	status, auth := request(t, f, "POST", "/v1/magic_links/authenticate", `{"token":"`+link["token"].(string)+`","session_duration_minutes":60}`)
	if status != http.StatusOK {
		t.Fatalf("authenticate: %d %v", status, auth)
	}
	return auth["session"].(map[string]any)["session_id"].(string)
}

func feedRead(t *testing.T, f map[string]string, cursor string, wait int) map[string]any {
	t.Helper()
	out, err := feedGet(f, cursor, wait)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// feedGet reads the feed after cursor; safe outside the test's goroutine.
func feedGet(f map[string]string, cursor string, wait int) (map[string]any, error) {
	c := apitest.Client{URL: f["latch-local: serving"], ProjectID: f["project_id:"], Secret: f["secret:"], HTTP: &http.Client{Timeout: time.Minute}}
	status, out, err := c.Do(context.Background(), "GET", "/v1/sessions/revocations?wait="+strconv.Itoa(wait)+"&cursor="+cursor, nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("feed: %d %v", status, out)
	}
	return out, err
}

func feedIDs(body map[string]any) []string {
	var ids []string
	for _, ev := range body["events"].([]any) {
		ids = append(ids, ev.(map[string]any)["session_id"].(string))
	}
	return ids
}

// TestRunFeedSurvivesRestart revokes a session, stops latch-local before
// any reader saw the event, starts it again on the same directory, and
// reads the event with the cursor from before the stop. A read waiting
// before the revoke is woken by it, as on the library host.
func TestRunFeedSurvivesRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state", "latch.db")
	first, stop := start(t, "-port", "0", "-db", db, "-mailbox", "off")
	woken := feedLogin(t, first, "feed-woken@example.com")
	lost := feedLogin(t, first, "feed-restart@example.com")
	start0 := feedRead(t, first, "", 0)["cursor"].(string)

	waiting := make(chan map[string]any, 1)
	go func() {
		out, err := feedGet(first, start0, 20)
		if err != nil {
			out = map[string]any{"error": err.Error()}
		}
		waiting <- out
	}()
	time.Sleep(300 * time.Millisecond)
	if status, out := request(t, first, "POST", "/v1/sessions/revoke", `{"session_id":"`+woken+`"}`); status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, out)
	}
	var seen map[string]any
	select {
	case seen = <-waiting:
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting read did not wake on the revoke")
	}
	if seen["error"] != nil {
		t.Fatal(seen["error"])
	}
	if ids := feedIDs(seen); len(ids) != 1 || ids[0] != woken {
		t.Fatalf("the waiting read answered %v, want [%s]", ids, woken)
	}
	cursor := seen["cursor"].(string)
	// Revoked, acknowledged, and read by no one before the stop.
	if status, out := request(t, first, "POST", "/v1/sessions/revoke", `{"session_id":"`+lost+`"}`); status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, out)
	}
	if code := stop(); code != 0 {
		t.Fatalf("run exited %d after SIGINT, want 0", code)
	}

	second, stop := start(t, "-port", "0", "-db", db, "-mailbox", "off")
	defer stop()
	after := feedRead(t, second, cursor, 5)
	if after["reset"] != false {
		t.Errorf("the cursor from before the restart answered reset %v", after["reset"])
	}
	if ids := feedIDs(after); len(ids) != 1 || ids[0] != lost {
		t.Fatalf("after the restart the old cursor read %v, want [%s]", ids, lost)
	}
	if ids := feedIDs(feedRead(t, second, start0, 0)); len(ids) != 2 || ids[0] != woken || ids[1] != lost {
		t.Errorf("after the restart the first cursor read %v, want [%s %s]", ids, woken, lost)
	}
}
