package conformance

import (
	"net/http"
	"testing"
)

var magicLinkCases = []testCase{
	{name: "magic_links/flow", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("flow")
		create := c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "expiration_minutes": 15}))
		token := str(t, create, "token")
		if len(token) != 44 || token[43] != '=' || create["user_id"] != userID {
			t.Fatalf("magic link create: %v", create)
		}
		body := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 60}))
		if body["user_id"] != userID || body["method_id"] == "" || body["reset_sessions"] != false || field(body, "user", "user_id") != userID {
			t.Errorf("authenticate: %v", body)
		}
		s, _ := body["session"].(obj)
		if s == nil || s["user_id"] != userID {
			t.Fatalf("session %v", body["session"])
		}
		if tok := str(t, body, "session_token"); len(tok) != 44 {
			t.Errorf("session_token length %d", len(tok))
		}
		started, expires := parseTime(t, s["started_at"]), parseTime(t, s["expires_at"])
		if got := expires.Sub(started).Minutes(); got != 60 {
			t.Errorf("expires_at - started_at = %v minutes", got)
		}
		factors, _ := s["authentication_factors"].([]any)
		if len(factors) != 1 {
			t.Fatalf("factors %v", s["authentication_factors"])
		}
		f := factors[0].(obj)
		if f["type"] != "magic_link" || f["delivery_method"] != "embedded" || field(f, "embeddable_magic_link_factor", "embedded_id") != userID {
			t.Errorf("factor %v", f)
		}
		if roles, _ := s["roles"].([]any); len(roles) != 1 || roles[0] != "stytch_user" {
			t.Errorf("roles %v", s["roles"])
		}
		checkSessionJWT(t, c.verifyJWT(str(t, body, "session_jwt")), s)
	}},
	{name: "magic_links/without duration no session", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("nosession")
		body := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID)}))
		if body["session"] != nil || body["session_token"] != "" || body["session_jwt"] != "" || body["user_id"] != userID {
			t.Errorf("want no session: %v", body)
		}
	}},
	{name: "magic_links/single use", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("reuse")
		token := c.magicLink(userID)
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 5}))
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 5}), http.StatusUnauthorized, "unable_to_auth_magic_link")
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}), http.StatusNotFound, "magic_link_not_found")
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": "short"}), http.StatusNotFound, "magic_link_not_found")
		c.fails(c.post("/v1/magic_links/authenticate", obj{}), http.StatusBadRequest, "bad_request")
	}},
	{name: "magic_links/concurrent authenticate wins once", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("race")
		token := c.magicLink(userID)
		const n = 8
		statuses := c.concurrently(n, "/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 5})
		won := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				won++
			case http.StatusUnauthorized:
			default:
				t.Errorf("status %d", s)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent calls authenticated, want exactly 1: %v", won, n, statuses)
		}
		list := c.ok(c.get("/v1/sessions?user_id=" + userID))
		if got := len(list["sessions"].([]any)); got != 1 {
			t.Errorf("user has %d sessions, want 1", got)
		}
	}},
	{name: "magic_links/bad input loses nothing", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("badinput")
		token := c.magicLink(userID)
		for _, d := range []int{1, 4, -5, 527041} {
			c.fails(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": d}), http.StatusBadRequest, "invalid_session_duration_minutes")
		}
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_token": "x", "session_jwt": "y"}), http.StatusBadRequest, "too_many_session_arguments")
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_custom_claims": obj{"sub": "x"}}), http.StatusBadRequest, "reserved_claims_in_custom_claims")
		// The token survived every refused call.
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 527040}))
	}},
	{name: "magic_links/create errors", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("mlerr")
		for _, m := range []int{1, 4, 10081, -1} {
			c.fails(c.post("/v1/magic_links", obj{"user_id": userID, "expiration_minutes": m}), http.StatusBadRequest, "invalid_expiration_minutes")
		}
		c.fails(c.post("/v1/magic_links", obj{"user_id": "nope"}), http.StatusBadRequest, "invalid_user_id")
		c.fails(c.post("/v1/magic_links", obj{}), http.StatusBadRequest, "invalid_user_id")
		c.fails(c.post("/v1/magic_links", obj{"user_id": "user-test-00000000-0000-4000-8000-000000000000"}), http.StatusNotFound, "user_not_found")
		c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "expiration_minutes": 10080}))
	}},
}
