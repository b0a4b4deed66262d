package conformance

import (
	"net/http"
	"testing"
	"time"
)

var stepUpCases = []testCase{
	{name: "step_up/magic link then password share one session", run: func(t *testing.T, c *client) {
		userID, email, pw := c.passwordUser("stepup")
		first := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60}))
		token := str(t, first, "session_token")
		sessionID := field(first, "session", "session_id")

		second := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_token": token}))
		if field(second, "session", "session_id") != sessionID || second["session_token"] != token {
			t.Fatalf("step-up made a new session: %v", second)
		}
		factors := field(second, "session", "authentication_factors").([]any)
		if len(factors) != 2 {
			t.Fatalf("want 2 factors, got %v", factors)
		}
		kinds := map[string]bool{}
		for _, f := range factors {
			m := f.(obj)
			kinds[m["type"].(string)+"/"+m["delivery_method"].(string)] = true
		}
		if !kinds["magic_link/embedded"] || !kinds["password/knowledge"] {
			t.Errorf("factors %v", factors)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, second, "session_jwt")), second["session"].(obj))

		// Again, by JWT: the factor is refreshed, not duplicated.
		c.maybeAdvance(2 * time.Minute)
		third := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_jwt": str(t, second, "session_jwt")}))
		again := field(third, "session", "authentication_factors").([]any)
		if field(third, "session", "session_id") != sessionID || len(again) != 2 {
			t.Fatalf("re-authenticating duplicated a factor: %v", again)
		}
		if c.tg.Advance != nil {
			for i, f := range again {
				m, old := f.(obj), factors[i].(obj)
				if m["type"] == "password" && (m["last_authenticated_at"] == old["last_authenticated_at"] || m["created_at"] != old["created_at"]) {
					t.Errorf("password factor before %v after %v", old, m)
				}
			}
		}
		list := c.ok(c.get("/v1/sessions?user_id=" + userID))
		if n := len(list["sessions"].([]any)); n != 1 {
			t.Errorf("user has %d sessions, want 1", n)
		}
	}},
	{name: "step_up/email magic link and password factors", run: func(t *testing.T, c *client) {
		userID, email, pw := c.verifiedPasswordUser("seed")
		link := c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "email"}))
		first := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": str(t, link, "token"), "session_duration_minutes": 60}))
		emailID := field(first, "user", "emails").([]any)[0].(obj)["email_id"]
		if first["method_id"] != emailID || field(first, "user", "emails").([]any)[0].(obj)["verified"] != true {
			t.Errorf("email magic link: method_id %v, emails %v", first["method_id"], field(first, "user", "emails"))
		}
		second := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_token": str(t, first, "session_token")}))
		factors := field(second, "session", "authentication_factors").([]any)
		if len(factors) != 2 {
			t.Fatalf("factors %v", factors)
		}
		ml, pwf := factors[0].(obj), factors[1].(obj)
		if ml["type"] != "magic_link" || ml["delivery_method"] != "email" || field(ml, "email_factor", "email_id") != emailID || field(ml, "email_factor", "email_address") != email {
			t.Errorf("magic link factor %v", ml)
		}
		if pwf["type"] != "password" || pwf["delivery_method"] != "knowledge" || field(pwf, "email_factor", "email_id") != emailID {
			t.Errorf("password factor %v", pwf)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, second, "session_jwt")), second["session"].(obj))
		c.fails(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "sms"}), http.StatusBadRequest, "bad_request")
	}},
	{name: "step_up/other user's session is refused", run: func(t *testing.T, c *client) {
		_, alice := c.login("alice", 60)
		aliceToken := str(t, alice, "session_token")
		bobID, bobEmail, bobPw := c.passwordUser("bob")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": bobEmail, "password": bobPw, "session_token": aliceToken}), http.StatusBadRequest, "session_user_mismatch")
		link := c.magicLink(bobID)
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_token": aliceToken, "session_duration_minutes": 60}), http.StatusBadRequest, "session_user_mismatch")
		after := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": aliceToken}))
		if n := len(field(after, "session", "authentication_factors").([]any)); n != 1 {
			t.Errorf("alice's session changed: %d factors", n)
		}
		// The refused call did not spend bob's magic link.
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": link}))
		// Nor, by code, bob's code or one of its attempts.
		bobEmailID := str(t, c.ok(c.post("/v1/otps/email/send", obj{"email": bobEmail})), "email_id")
		code := c.mailedCode(c.mail(bobEmail))
		for range 6 {
			c.fails(c.post("/v1/otps/authenticate", obj{"method_id": bobEmailID, "code": code, "session_token": aliceToken}),
				http.StatusBadRequest, "session_user_mismatch")
		}
		c.ok(c.post("/v1/otps/authenticate", obj{"method_id": bobEmailID, "code": code}))
	}},
	{name: "step_up/revoked session is refused", run: func(t *testing.T, c *client) {
		userID, login := c.login("steprevoked", 60)
		c.ok(c.post("/v1/sessions/revoke", obj{"session_token": str(t, login, "session_token")}))
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_token": str(t, login, "session_token")}), http.StatusNotFound, "session_not_found")
	}},
}

// maybeAdvance moves the clock when the host allows it.
func (c *client) maybeAdvance(d time.Duration) {
	if c.tg.Advance != nil {
		c.tg.Advance(d)
	}
}
