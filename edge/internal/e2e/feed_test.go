//go:build !js

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// feedRead reads the revocation feed after cursor, waiting up to wait
// seconds; safe from any goroutine.
func (a *api) feedRead(cursor string, wait int) (events []string, next string, err error) {
	q := url.Values{"wait": {fmt.Sprint(wait)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	out, err := a.try(http.MethodGet, "/v1/sessions/revocations?"+q.Encode(), nil)
	if err != nil {
		return nil, "", err
	}
	if out["reset"] != false {
		return nil, "", fmt.Errorf("feed answered reset %v after cursor %q", out["reset"], cursor)
	}
	list, _ := out["events"].([]any)
	for _, ev := range list {
		id, _ := ev.(map[string]any)["session_id"].(string)
		events = append(events, id)
	}
	next, _ = out["cursor"].(string)
	return events, next, nil
}

// feedCursor is the feed's current cursor.
func (a *api) feedCursor() string {
	a.t.Helper()
	_, cursor, err := a.feedRead("", 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return cursor
}

// feedUntil long-polls the feed from cursor until every session of want
// has appeared or deadline passes, as a verifier does; safe from any
// goroutine.
func (a *api) feedUntil(cursor string, want []string, deadline time.Time) (string, error) {
	missing := make(map[string]bool, len(want))
	for _, id := range want {
		missing[id] = true
	}
	for len(missing) > 0 {
		if time.Now().After(deadline) {
			return cursor, fmt.Errorf("%d of %d revoked sessions never arrived", len(missing), len(want))
		}
		events, next, err := a.feedRead(cursor, 10)
		if err != nil {
			return cursor, err
		}
		for _, id := range events {
			delete(missing, id)
		}
		cursor = next
	}
	return cursor, nil
}

// newSession logs a new session of user in by magic link and returns its
// id and token.
func (a *api) newSession(userID any) (id, token string, err error) {
	ml, err := a.try(http.MethodPost, "/v1/magic_links", map[string]any{"user_id": userID})
	if err != nil {
		return "", "", err
	}
	auth, err := a.try(http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": ml["token"], "session_duration_minutes": 60})
	if err != nil {
		return "", "", err
	}
	s, _ := auth["session"].(map[string]any)
	id, _ = s["session_id"].(string)
	token, _ = auth["session_token"].(string)
	return id, token, nil
}

// TestFeedFlood deletes a user with 50 sessions while three readers wait
// on the feed: each gets all 50 events.
func TestFeedFlood(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "flood@example.com"})
	var ids []string
	for range 50 {
		id, _, err := a.newSession(user["user_id"])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	cursor := a.feedCursor()
	const readers = 3
	errs := make(chan error, readers)
	for range readers {
		go func() {
			_, err := a.feedUntil(cursor, ids, time.Now().Add(30*time.Second))
			errs <- err
		}()
	}
	time.Sleep(500 * time.Millisecond) // the readers wait in the object
	start := time.Now()
	a.must(http.MethodDelete, fmt.Sprintf("/v1/users/%v", user["user_id"]), nil)
	for range readers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d readers had all %d events %v after the delete was sent", readers, len(ids), time.Since(start))
}

// TestFeedAcrossRestart restarts the Worker (workerd, the feed's object
// and its held reads with it) while a reader waits: the reader polls again
// with its cursor and misses nothing, and a reader with a cursor from
// before the restart still reads every event after it. D1 is the record.
func TestFeedAcrossRestart(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{})
	a := newAPI(t, w.Target)
	user := a.must(http.MethodPost, "/v1/users", map[string]any{"email": "restart@example.com"})
	before, _, err := a.newSession(user["user_id"])
	if err != nil {
		t.Fatal(err)
	}
	after, _, err := a.newSession(user["user_id"])
	if err != nil {
		t.Fatal(err)
	}
	old := a.feedCursor()
	a.must(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": before})
	cursor, err := a.feedUntil(old, []string{before}, time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	// A read held by the object when the Worker stops.
	held := make(chan error, 1)
	go func() {
		_, _, err := a.feedRead(cursor, 20)
		held <- err
	}()
	time.Sleep(500 * time.Millisecond)
	if err := w.Restart(context.Background(), w.Keys); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-held:
		t.Logf("the held read across the restart: %v", err)
	case <-time.After(25 * time.Second):
		t.Fatal("the read held across the restart never ended")
	}

	a.must(http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_id": after})
	if _, err := a.feedUntil(cursor, []string{after}, time.Now().Add(10*time.Second)); err != nil {
		t.Errorf("polling again with the cursor of the held read: %v", err)
	}
	if _, err := a.feedUntil(old, []string{before, after}, time.Now().Add(10*time.Second)); err != nil {
		t.Errorf("reading with a cursor from before the restart: %v", err)
	}
}
