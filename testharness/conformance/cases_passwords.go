package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"testing"
	"time"
)

// strongPassword returns a password any reasonable strength check passes.
func strongPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "Latch-" + hex.EncodeToString(b) + "-Quartz!"
}

// passwordUser creates a user with a password and no session.
func (c *client) passwordUser(tag string) (userID, email, pw string) {
	c.t.Helper()
	email, pw = uniqueEmail(tag), strongPassword()
	body := c.ok(c.post("/v1/passwords", obj{"email": email, "password": pw}))
	return str(c.t, body, "user_id"), email, pw
}

// verifiedPasswordUser is passwordUser with the email proven by its owner:
// an email magic link stepping up the password's own session, so the
// password stays (a fresh email login would end it, as a password set
// before the address was proven). That session is revoked again.
func (c *client) verifiedPasswordUser(tag string) (userID, email, pw string) {
	c.t.Helper()
	email, pw = uniqueEmail(tag), strongPassword()
	body := c.ok(c.post("/v1/passwords", obj{"email": email, "password": pw, "session_duration_minutes": 30}))
	userID = str(c.t, body, "user_id")
	link := c.ok(c.post("/v1/magic_links", obj{"user_id": userID, "delivery_method": "email"}))
	token := str(c.t, body, "session_token")
	proved := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": str(c.t, link, "token"), "session_token": token}))
	if field(proved, "user", "emails").([]any)[0].(obj)["verified"] != true || field(proved, "user", "password") == nil {
		c.t.Fatalf("email not proven, or password gone: %v", proved["user"])
	}
	c.ok(c.post("/v1/sessions/revoke", obj{"session_token": token}))
	return userID, email, pw
}

var passwordCases = []testCase{
	{name: "passwords/create and authenticate", run: func(t *testing.T, c *client) {
		email, pw := uniqueEmail("pw"), strongPassword()
		created := c.ok(c.post("/v1/passwords", obj{"email": email, "password": pw, "session_duration_minutes": 30, "name": obj{"first_name": "Alan"}}))
		userID := str(t, created, "user_id")
		str(t, created, "email_id")
		if field(created, "user", "password", "password_id") == nil || field(created, "user", "name", "first_name") != "Alan" {
			t.Errorf("created user: %v", created["user"])
		}
		s, _ := created["session"].(obj)
		if s == nil {
			t.Fatalf("no session: %v", created)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, created, "session_jwt")), s)
		f := s["authentication_factors"].([]any)[0].(obj)
		if f["type"] != "password" || f["delivery_method"] != "knowledge" || field(f, "email_factor", "email_address") != email || field(f, "email_factor", "email_id") != created["email_id"] {
			t.Errorf("factor %v", f)
		}
		auth := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		if auth["user_id"] != userID || auth["session"] == nil || field(auth, "session", "session_id") == s["session_id"] {
			t.Errorf("authenticate: %v", auth)
		}
		plain := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}))
		if plain["session"] != nil || plain["session_token"] != "" {
			t.Errorf("no duration, want no session: %v", plain)
		}
		c.fails(c.post("/v1/passwords", obj{"email": email, "password": strongPassword()}), http.StatusBadRequest, "duplicate_email")
	}},
	{name: "passwords/errors", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("pwerr")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw + "x"}), http.StatusUnauthorized, "unauthorized_credentials")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": uniqueEmail("ghost"), "password": pw}), http.StatusNotFound, "email_not_found")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": "bad", "password": pw}), http.StatusBadRequest, "invalid_email")
		c.fails(c.post("/v1/passwords", obj{"email": uniqueEmail("weak"), "password": "password"}), http.StatusBadRequest, "weak_password")
		c.fails(c.post("/v1/passwords", obj{"email": uniqueEmail("weak"), "password": "abc"}), http.StatusBadRequest, "weak_password")
		c.fails(c.post("/v1/passwords", obj{"email": "nope", "password": strongPassword()}), http.StatusBadRequest, "invalid_email")
		weakEmail := uniqueEmail("weak")
		c.fails(c.post("/v1/passwords", obj{"email": weakEmail, "password": "password", "session_duration_minutes": 60}), http.StatusBadRequest, "weak_password")
		// A refused sign-up created nothing: the email is still free.
		c.ok(c.post("/v1/passwords", obj{"email": weakEmail, "password": strongPassword()}))
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 2}), http.StatusBadRequest, "invalid_session_duration_minutes")
	}},
	{name: "passwords/lockout", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("lock")
		for i := range 10 {
			r := c.post("/v1/passwords/authenticate", obj{"email": email, "password": "wrong-" + pw})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d %v", i+1, r.status, r.body)
			}
		}
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": "wrong-" + pw}), http.StatusTooManyRequests, "user_lock_limit_reached")
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}), http.StatusTooManyRequests, "user_lock_limit_reached")
		if c.tg.Advance != nil {
			c.tg.Advance(61 * time.Minute)
			c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}))
		}
	}},
	{name: "passwords/lockout holds under concurrent guesses", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("lockrace")
		const n = 16
		statuses := c.concurrently(n, "/v1/passwords/authenticate", obj{"email": email, "password": "guess-" + pw})
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		if counts[http.StatusUnauthorized] != 10 || counts[http.StatusTooManyRequests] != n-10 {
			t.Fatalf("%d concurrent wrong guesses: %v; want exactly 10 checked (401) and the rest refused (429)", n, counts)
		}
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}), http.StatusTooManyRequests, "user_lock_limit_reached")
	}},
	{name: "passwords/strength check", run: func(t *testing.T, c *client) {
		weak := c.ok(c.post("/v1/passwords/strength_check", obj{"password": "password"}))
		if weak["valid_password"] != false || weak["score"] != 0.0 || weak["breached_password"] != true || weak["strength_policy"] != "zxcvbn" {
			t.Errorf("weak: %v", weak)
		}
		if _, ok := field(weak, "feedback", "suggestions").([]any); !ok {
			t.Errorf("feedback: %v", weak["feedback"])
		}
		strong := c.ok(c.post("/v1/passwords/strength_check", obj{"password": strongPassword(), "email": uniqueEmail("sc")}))
		if strong["valid_password"] != true || strong["score"].(float64) < 3 || strong["breached_password"] != false {
			t.Errorf("strong: %v", strong)
		}
		c.fails(c.post("/v1/passwords/strength_check", obj{}), http.StatusBadRequest, "bad_request")
	}},
}
