package conformance

import (
	"net/http"
	"strings"
	"testing"
)

var userCases = []testCase{
	{name: "users/create get delete", run: func(t *testing.T, c *client) {
		email := uniqueEmail("Users")
		body := c.ok(c.post("/v1/users", obj{
			"email":              email,
			"name":               obj{"first_name": "Grace", "middle_name": "B", "last_name": "Hopper"},
			"trusted_metadata":   obj{"plan": "pro"},
			"untrusted_metadata": obj{"theme": "dark"},
		}))
		id := str(t, body, "user_id")
		if !strings.HasPrefix(id, "user-test-") && !strings.HasPrefix(id, "user-live-") {
			t.Errorf("user_id %q", id)
		}
		if body["status"] != "active" || !strings.HasPrefix(str(t, body, "email_id"), "email-") {
			t.Errorf("create: %v", body)
		}
		got := c.ok(c.get("/v1/users/" + id))
		if got["user_id"] != id || field(got, "name", "last_name") != "Hopper" || field(got, "trusted_metadata", "plan") != "pro" {
			t.Errorf("get: %v", got)
		}
		emails, _ := got["emails"].([]any)
		if len(emails) != 1 || field(emails[0].(obj), "email") != strings.ToLower(email) {
			t.Errorf("emails %v", got["emails"])
		}
		if got["password"] != nil || got["is_locked"] != false {
			t.Errorf("password %v is_locked %v", got["password"], got["is_locked"])
		}
		for _, k := range []string{"phone_numbers", "providers", "totps", "webauthn_registrations", "crypto_wallets", "biometric_registrations", "roles"} {
			if _, ok := got[k].([]any); !ok {
				t.Errorf("%s is not a list: %v", k, got[k])
			}
		}
		parseTime(t, got["created_at"])
		del := c.ok(c.do(http.MethodDelete, "/v1/users/"+id, nil, withAuth))
		if del["user_id"] != id {
			t.Errorf("delete: %v", del)
		}
		c.fails(c.get("/v1/users/"+id), http.StatusNotFound, "user_not_found")
		c.fails(c.do(http.MethodDelete, "/v1/users/"+id, nil, withAuth), http.StatusNotFound, "user_not_found")
	}},
	{name: "users/errors", run: func(t *testing.T, c *client) {
		_, email := c.newUser("dup")
		c.fails(c.post("/v1/users", obj{"email": strings.ToUpper(email)}), http.StatusBadRequest, "duplicate_email")
		for _, bad := range []string{"", "nope", "a@b", "a b@example.com", "@example.com", "a@.com", "<a@example.com>"} {
			c.fails(c.post("/v1/users", obj{"email": bad}), http.StatusBadRequest, "invalid_email")
		}
		c.fails(c.post("/v1/users", obj{"email": uniqueEmail("md"), "trusted_metadata": []int{1}}), http.StatusBadRequest, "bad_request")
		c.fails(c.get("/v1/users/user-test-nope"), http.StatusBadRequest, "invalid_user_id")
		c.fails(c.get("/v1/users/user-test-00000000-0000-4000-8000-000000000000"), http.StatusNotFound, "user_not_found")
	}},
	{name: "users/delete revokes sessions", run: func(t *testing.T, c *client) {
		id, login := c.login("deleted", 60)
		token := str(t, login, "session_token")
		jwt := str(t, login, "session_jwt")
		c.ok(c.do(http.MethodDelete, "/v1/users/"+id, nil, withAuth))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}), http.StatusNotFound, "session_not_found")
		// Revoking a session the deletion already revoked stays idempotent.
		c.ok(c.post("/v1/sessions/revoke", obj{"session_token": token}))
	}},
}
