package conformance

import (
	"net/http"
	"testing"
	"time"
)

// RealTimeWait is how long RunRealTime waits: past the shortest session
// (5 minutes), a JWT's lifetime and the last_accessed_at throttle.
const RealTimeWait = 5*time.Minute + 5*time.Second

// RunRealTime checks, on a host whose clock cannot be moved, the lifecycle
// cases that Run reports skipped there: it starts sessions, waits
// RealTimeWait on the real clock, then checks that an expired session
// behaves exactly like a revoked one (authenticate by token and by JWT,
// list, revoke, step-up) and that a live session's expired JWT still
// authenticates, with last_accessed_at moved forward. It takes as long as
// it waits; under `go test -short` it is skipped.
func RunRealTime(t *testing.T, tg Target) {
	if testing.Short() {
		t.Skipf("waits %v on the real clock", RealTimeWait)
	}
	c := newClient(t, tg)
	expiringUser, expiring := c.login("rt-expiring", 5)
	liveUser, live := c.login("rt-live", 60)
	startedLive := parseTime(t, field(live, "session", "started_at"))

	time.Sleep(RealTimeWait)

	t.Run("expired session is gone everywhere", func(t *testing.T) {
		c := newClient(t, tg)
		token, jwt := str(t, expiring, "session_token"), str(t, expiring, "session_jwt")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}), http.StatusNotFound, "session_not_found")
		if n := len(c.ok(c.get("/v1/sessions?user_id=" + expiringUser))["sessions"].([]any)); n != 0 {
			t.Errorf("expired session listed")
		}
		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": field(expiring, "session", "session_id")}))
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(expiringUser), "session_token": token}), http.StatusNotFound, "session_not_found")
	})
	t.Run("expired jwt of a live session authenticates", func(t *testing.T) {
		c := newClient(t, tg)
		old := str(t, live, "session_jwt")
		body := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": old}))
		fresh := str(t, body, "session_jwt")
		if fresh == old {
			t.Fatal("jwt not refreshed")
		}
		checkSessionJWT(t, c.verifyJWT(fresh), body["session"].(obj))
		last := field(body, "session", "last_accessed_at")
		if parseTime(t, last).Sub(startedLive) < 5*time.Minute {
			t.Errorf("last_accessed_at %v, started %v: not updated", last, startedLive)
		}
		// A host may store the move after its answer (the Worker does,
		// under waitUntil): the session list shows it within seconds.
		deadline := time.Now().Add(30 * time.Second)
		for {
			sessions := c.ok(c.get("/v1/sessions?user_id=" + liveUser))["sessions"].([]any)
			if len(sessions) != 1 {
				t.Fatalf("%d sessions listed, want 1", len(sessions))
			}
			listed := sessions[0].(obj)["last_accessed_at"]
			if listed == last {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session listed as last accessed at %v, the answer said %v", listed, last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
