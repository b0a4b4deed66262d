package conformance

import (
	"net/http"
	"testing"
	"time"
)

// feed reads the revocation feed after cursor.
func (c *client) feed(cursor string, wait int) obj {
	c.t.Helper()
	path := "/v1/sessions/revocations?wait=" + itoa(wait)
	if cursor != "" {
		path += "&cursor=" + cursor
	}
	return c.ok(c.get(path))
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

// feedHas reports whether the events of a feed answer name session.
func feedHas(body obj, sessionID string) bool {
	for _, ev := range body["events"].([]any) {
		if field(ev.(obj), "session_id") == sessionID {
			return true
		}
	}
	return false
}

var feedCases = []testCase{
	{name: "feed/every early end appears", run: func(t *testing.T, c *client) {
		start := c.feed("", 0)
		cursor := str(t, start, "cursor")
		if start["reset"] != false {
			t.Errorf("a fresh read answered reset %v", start["reset"])
		}
		// Revoked by id, by token and by JWT.
		var ids []string
		for _, how := range []string{"session_id", "session_token", "session_jwt"} {
			_, login := c.login("feed"+how, 60)
			id := str(t, login["session"].(obj), "session_id")
			value := id
			if how != "session_id" {
				value = str(t, login, how)
			}
			c.ok(c.post("/v1/sessions/revoke", obj{how: value}))
			ids = append(ids, id)
		}
		// A deleted user: both its sessions.
		userID, first := c.login("feeddelete", 60)
		second := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60}))
		c.ok(c.do(http.MethodDelete, "/v1/users/"+userID, nil, withAuth))
		ids = append(ids, str(t, first["session"].(obj), "session_id"), str(t, second["session"].(obj), "session_id"))
		// A password reset: the user's other session.
		_, email, pw := c.passwordUser("feedreset")
		other := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		keep := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		c.ok(c.post("/v1/passwords/session/reset", obj{"password": strongPassword(), "session_token": str(t, keep, "session_token")}))
		ids = append(ids, str(t, other["session"].(obj), "session_id"))

		got := c.feed(cursor, 0)
		for _, id := range ids {
			if !feedHas(got, id) {
				t.Errorf("session %s ended early but is not in the feed", id)
			}
		}
		if feedHas(got, str(t, keep["session"].(obj), "session_id")) {
			t.Errorf("the session kept by a reset is in the feed")
		}
		for _, ev := range got["events"].([]any) {
			if field(ev.(obj), "user_id") == nil {
				t.Errorf("event without user_id: %v", ev)
			}
			parseTime(t, field(ev.(obj), "revoked_at"))
		}
		// Revoking again adds nothing; the cursor moves on.
		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": ids[0]}))
		after := c.feed(str(t, got, "cursor"), 0)
		if n := len(after["events"].([]any)); n != 0 {
			t.Errorf("%d events after the last cursor, want 0: %v", n, after["events"])
		}
		// A fresh reader gets the backlog: the recent events.
		if backlog := c.feed("", 0); !feedHas(backlog, ids[len(ids)-1]) {
			t.Errorf("the backlog lacks a session revoked just now")
		}
	}},
	{name: "feed/cursor and wait checks", run: func(t *testing.T, c *client) {
		c.fails(c.get("/v1/sessions/revocations?cursor=nope"), http.StatusBadRequest, "invalid_cursor")
		c.fails(c.get("/v1/sessions/revocations?cursor=-1"), http.StatusBadRequest, "invalid_cursor")
		c.fails(c.get("/v1/sessions/revocations?wait=31"), http.StatusBadRequest, "bad_request")
		c.fails(c.do(http.MethodGet, "/v1/sessions/revocations", nil, noAuth), http.StatusUnauthorized, "unauthorized_credentials")
		if got := c.feed("999999999999", 0); got["reset"] != true {
			t.Errorf("a cursor past the end answered reset %v", got["reset"])
		}
	}},
	{name: "feed/a waiting read wakes on a revoke", run: func(t *testing.T, c *client) {
		_, login := c.login("feedwait", 60)
		id := str(t, login["session"].(obj), "session_id")
		cursor := str(t, c.feed("", 0), "cursor")
		type answer struct {
			body obj
			err  string
		}
		done := make(chan answer, 1)
		go func() {
			cc := newClient(t, c.tg)
			r := cc.do(http.MethodGet, "/v1/sessions/revocations?wait=20&cursor="+cursor, nil, withAuth)
			if r.status != http.StatusOK {
				done <- answer{err: "status " + itoa(r.status)}
				return
			}
			done <- answer{body: r.body}
		}()
		// Let the read start waiting, then revoke: the waiting read must
		// answer with the event. (Without waiting it would answer at once
		// with no event; a host that never wakes it answers empty after 20 s.)
		time.Sleep(500 * time.Millisecond)
		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": id}))
		a := <-done
		if a.err != "" {
			t.Fatal(a.err)
		}
		if !feedHas(a.body, id) {
			t.Fatalf("the waiting read answered %v, without the session revoked while it waited", a.body)
		}
	}},
}
