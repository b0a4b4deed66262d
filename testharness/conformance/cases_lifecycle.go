package conformance

import (
	"net/http"
	"testing"
	"time"
)

var lifecycleCases = []testCase{
	{name: "lifecycle/attributes", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("attrs")
		attrs := obj{"ip_address": "203.0.113.7", "user_agent": "latch-conformance/1"}
		body := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60, "attributes": attrs}))
		if field(body, "session", "attributes", "ip_address") != "203.0.113.7" || field(body, "session", "attributes", "user_agent") != "latch-conformance/1" {
			t.Errorf("attributes %v", field(body, "session", "attributes"))
		}
		claims := c.verifyJWT(str(t, body, "session_jwt"))
		if field(claims, "https://stytch.com/session", "attributes", "ip_address") != "203.0.113.7" {
			t.Errorf("jwt attributes %v", field(claims, "https://stytch.com/session", "attributes"))
		}
		plain := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60}))
		if a := field(plain, "session", "attributes").(obj); a["ip_address"] != "" || a["user_agent"] != "" {
			t.Errorf("default attributes %v", a)
		}
	}},
	{name: "lifecycle/expiry behaves like revocation", run: func(t *testing.T, c *client) {
		userID, login := c.login("expiry", 5)
		token, jwt := str(t, login, "session_token"), str(t, login, "session_jwt")
		sessionID := field(login, "session", "session_id")
		c.advance(5*time.Minute + time.Second)
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}), http.StatusNotFound, "session_not_found")
		if n := len(c.ok(c.get("/v1/sessions?user_id=" + userID))["sessions"].([]any)); n != 0 {
			t.Errorf("expired session listed")
		}
		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": sessionID}))
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_token": token}), http.StatusNotFound, "session_not_found")
	}},
	{name: "lifecycle/expired jwt of live session authenticates", run: func(t *testing.T, c *client) {
		_, login := c.login("oldjwt", 60)
		jwt := str(t, login, "session_jwt")
		c.advance(10 * time.Minute)
		body := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}))
		fresh := str(t, body, "session_jwt")
		if fresh == jwt {
			t.Fatal("jwt not refreshed")
		}
		checkSessionJWT(t, c.verifyJWT(fresh), body["session"].(obj))
		if body["session_token"] != "" {
			t.Errorf("a JWT caller got a session_token back")
		}
	}},
	{name: "lifecycle/last accessed and jwt cap", run: func(t *testing.T, c *client) {
		_, login := c.login("access", 5)
		token := str(t, login, "session_token")
		started := parseTime(t, field(login, "session", "started_at"))
		c.advance(3 * time.Minute)
		body := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		if last := parseTime(t, field(body, "session", "last_accessed_at")); last.Sub(started) < 3*time.Minute {
			t.Errorf("last_accessed_at %v, started %v: not updated", last, started)
		}
		// The session ends in two minutes: the JWT must not outlive it.
		checkSessionJWT(t, c.verifyJWT(str(t, body, "session_jwt")), body["session"].(obj))
	}},
}
