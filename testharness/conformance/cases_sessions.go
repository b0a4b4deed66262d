package conformance

import (
	"net/http"
	"strings"
	"testing"
)

var sessionCases = []testCase{
	{name: "sessions/authenticate list revoke", run: func(t *testing.T, c *client) {
		userID, login := c.login("lifecycle", 60)
		token, jwt := str(t, login, "session_token"), str(t, login, "session_jwt")
		sessionID := str(t, login["session"].(obj), "session_id")

		byToken := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		if field(byToken, "session", "session_id") != sessionID || byToken["session_token"] != token || field(byToken, "user", "user_id") != userID {
			t.Errorf("by token: %v", byToken)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, byToken, "session_jwt")), byToken["session"].(obj))

		byJWT := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}))
		if field(byJWT, "session", "session_id") != sessionID {
			t.Errorf("by jwt: %v", byJWT)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, byJWT, "session_jwt")), byJWT["session"].(obj))

		list := c.ok(c.get("/v1/sessions?user_id=" + userID))
		sessions, _ := list["sessions"].([]any)
		if len(sessions) != 1 || field(sessions[0].(obj), "session_id") != sessionID {
			t.Fatalf("list: %v", list)
		}

		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": sessionID}))
		c.ok(c.post("/v1/sessions/revoke", obj{"session_id": sessionID})) // idempotent
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token}), http.StatusNotFound, "session_not_found")
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}), http.StatusNotFound, "session_not_found")
		list = c.ok(c.get("/v1/sessions?user_id=" + userID))
		if got := list["sessions"].([]any); len(got) != 0 {
			t.Errorf("revoked session still listed: %v", got)
		}
	}},
	{name: "sessions/revoke by token and jwt", run: func(t *testing.T, c *client) {
		_, a := c.login("revtoken", 30)
		c.ok(c.post("/v1/sessions/revoke", obj{"session_token": str(t, a, "session_token")}))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, a, "session_token")}), http.StatusNotFound, "session_not_found")
		_, b := c.login("revjwt", 30)
		c.ok(c.post("/v1/sessions/revoke", obj{"session_jwt": str(t, b, "session_jwt")}))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, b, "session_token")}), http.StatusNotFound, "session_not_found")
	}},
	{name: "sessions/argument errors", run: func(t *testing.T, c *client) {
		_, login := c.login("args", 30)
		token, jwt := str(t, login, "session_token"), str(t, login, "session_jwt")
		sessionID := str(t, login["session"].(obj), "session_id")
		for _, tc := range []struct {
			name, path string
			body       obj
			status     int
			errorType  string
		}{
			{name: "none", path: "/v1/sessions/authenticate", body: obj{}, status: 400, errorType: "no_session_arguments"},
			{name: "both", path: "/v1/sessions/authenticate", body: obj{"session_token": token, "session_jwt": jwt}, status: 400, errorType: "too_many_session_arguments"},
			{name: "malformed token", path: "/v1/sessions/authenticate", body: obj{"session_token": "abc"}, status: 400, errorType: "invalid_session_token"},
			{name: "malformed jwt", path: "/v1/sessions/authenticate", body: obj{"session_jwt": "a.b"}, status: 400, errorType: "invalid_session_jwt"},
			{name: "garbage jwt", path: "/v1/sessions/authenticate", body: obj{"session_jwt": "!!.??.**"}, status: 400, errorType: "invalid_session_jwt"},
			{name: "unknown token", path: "/v1/sessions/authenticate", body: obj{"session_token": strings.Repeat("A", 44)}, status: 404, errorType: "session_not_found"},
			{name: "tampered jwt", path: "/v1/sessions/authenticate", body: obj{"session_jwt": tamper(jwt)}, status: 404, errorType: "session_not_found"},
			{name: "duration low", path: "/v1/sessions/authenticate", body: obj{"session_token": token, "session_duration_minutes": 4}, status: 400, errorType: "invalid_session_duration_minutes"},
			{name: "duration high", path: "/v1/sessions/authenticate", body: obj{"session_token": token, "session_duration_minutes": 527041}, status: 400, errorType: "invalid_session_duration_minutes"},
			{name: "revoke none", path: "/v1/sessions/revoke", body: obj{}, status: 400, errorType: "no_session_revoke_arguments"},
			{name: "revoke two", path: "/v1/sessions/revoke", body: obj{"session_id": sessionID, "session_token": token}, status: 400, errorType: "too_many_session_revoke_arguments"},
			{name: "revoke malformed id", path: "/v1/sessions/revoke", body: obj{"session_id": "session-test-x"}, status: 400, errorType: "invalid_session_id"},
			{name: "revoke unknown id", path: "/v1/sessions/revoke", body: obj{"session_id": "session-test-00000000-0000-4000-8000-000000000000"}, status: 404, errorType: "session_not_found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				c.fails(c.post(tc.path, tc.body), tc.status, tc.errorType)
			})
		}
		// None of the refused calls touched the session.
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		c.fails(c.get("/v1/sessions"), http.StatusBadRequest, "invalid_user_id")
		c.fails(c.get("/v1/sessions?user_id=user-test-00000000-0000-4000-8000-000000000000"), http.StatusNotFound, "user_not_found")
	}},
	{name: "sessions/duration extends", run: func(t *testing.T, c *client) {
		_, login := c.login("extend", 5)
		token := str(t, login, "session_token")
		body := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token, "session_duration_minutes": 120}))
		s := body["session"].(obj)
		if body["session_token"] != token {
			t.Errorf("token changed")
		}
		last := parseTime(t, s["last_accessed_at"])
		if got := parseTime(t, s["expires_at"]).Sub(last).Minutes(); got != 120 {
			t.Errorf("expires_at - last_accessed_at = %v minutes, want 120", got)
		}
		again := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		if field(again, "session", "expires_at") != s["expires_at"] {
			t.Errorf("extension not stored: %v then %v", s["expires_at"], field(again, "session", "expires_at"))
		}
	}},
}

// tamper flips a character of the JWT's payload.
func tamper(jwt string) string {
	parts := strings.Split(jwt, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}
