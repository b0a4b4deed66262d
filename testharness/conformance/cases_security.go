package conformance

import (
	"net/http"
	"strings"
	"testing"
)

// securityCases pin the fixes of a security review: a custom claim cannot
// pose as a claim Latch mints, what a login accepts every reader reads
// back, and request and JWT parsing has one spelling per name.
var securityCases = []testCase{
	{name: "security/custom claim cannot name another session", run: func(t *testing.T, c *client) {
		_, victim := c.login("victim", 60)
		victimID := str(t, victim["session"].(obj), "session_id")
		attackerID, _ := c.newUser("attacker")
		for _, tc := range []struct {
			name, claim, errorType string
			value                  any
		}{
			{name: "session claim in capitals", claim: "HTTPS://STYTCH.COM/SESSION", value: obj{"id": victimID}, errorType: "stytch_claims_in_custom_claims"},
			{name: "session claim with long s", claim: "https://stytch.com/ſession", value: obj{"id": victimID}, errorType: "stytch_claims_in_custom_claims"},
			{name: "prefix with long s", claim: "httpſ://stytch.com/session", value: obj{"id": victimID}, errorType: "stytch_claims_in_custom_claims"},
			{name: "Sub", claim: "Sub", value: "user-test-00000000-0000-4000-8000-000000000000", errorType: "reserved_claims_in_custom_claims"},
			{name: "EXP", claim: "EXP", value: 4102444800, errorType: "reserved_claims_in_custom_claims"},
			{name: "Aud", claim: "Aud", value: []string{"other"}, errorType: "reserved_claims_in_custom_claims"},
			{name: "ISS", claim: "ISS", value: "elsewhere", errorType: "reserved_claims_in_custom_claims"},
			{name: "long s in sub", claim: "ſub", value: "x", errorType: "reserved_claims_in_custom_claims"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				link := c.magicLink(attackerID)
				c.fails(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_duration_minutes": 60,
					"session_custom_claims": obj{tc.claim: tc.value}}), http.StatusBadRequest, tc.errorType)
				// Refused before the link was spent.
				own := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_duration_minutes": 60}))
				c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, own, "session_token"),
					"session_custom_claims": obj{tc.claim: tc.value}}), http.StatusBadRequest, tc.errorType)
				byJWT := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": str(t, own, "session_jwt")}))
				if got := field(byJWT, "session", "session_id"); got == victimID || field(byJWT, "user", "user_id") != attackerID {
					t.Fatalf("attacker's JWT authenticated session %v of user %v", got, field(byJWT, "user", "user_id"))
				}
			})
		}
		// The victim's session is untouched.
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, victim, "session_token")}))
	}},
	{name: "security/claim values every reader reads alike", run: func(t *testing.T, c *client) {
		_, login := c.login("claimvalues", 60)
		token := str(t, login, "session_token")
		deep := func(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }
		for _, tc := range []struct {
			name, claims string
		}{
			{name: "nested 40 deep", claims: `{"d":` + deep(40) + `}`},
			{name: "17 levels", claims: `{"d":` + deep(16) + `}`},
			{name: "1e400", claims: `{"n":1e400}`},
			{name: "nested -1e400", claims: `{"n":{"m":[-1e400]}}`},
			{name: "member twice", claims: `{"a":1,"a":2}`},
			{name: "nested member twice", claims: `{"a":{"x":1,"x":2}}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				c.fails(c.post("/v1/sessions/authenticate", `{"session_token":"`+token+`","session_custom_claims":`+tc.claims+`}`),
					http.StatusBadRequest, "bad_request")
			})
		}
		// The deepest accepted nesting reads back the same from the session
		// object and the JWT.
		ok := c.ok(c.post("/v1/sessions/authenticate", `{"session_token":"`+token+`","session_custom_claims":{"d":`+deep(15)+`,"big":1e308}}`))
		checkSessionJWT(t, c.verifyJWT(str(t, ok, "session_jwt")), ok["session"].(obj))
	}},
	{name: "security/attributes are bounded", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("attrs")
		realUA := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
		ipv6 := "2001:0db8:85a3:0000:0000:8a2e:0370:7334%eth0"
		for _, tc := range []struct {
			name  string
			attrs obj
		}{
			{name: "20 KB user agent", attrs: obj{"user_agent": strings.Repeat("a", 20<<10)}},
			{name: "1025 byte user agent", attrs: obj{"user_agent": strings.Repeat("a", 1025)}},
			{name: "65 byte ip address", attrs: obj{"ip_address": strings.Repeat("1", 65)}},
			{name: "control character", attrs: obj{"user_agent": "a\nb"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				link := c.magicLink(userID)
				c.fails(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_duration_minutes": 60, "attributes": tc.attrs}),
					http.StatusBadRequest, "bad_request")
				c.ok(c.post("/v1/magic_links/authenticate", obj{"token": link}))
			})
		}
		// The largest attributes accepted, quotes and all, come back whole
		// through the session object and the JWT, and the JWT still
		// authenticates.
		for _, attrs := range []obj{
			{"user_agent": realUA, "ip_address": ipv6},
			{"user_agent": strings.Repeat(`"`, 1024), "ip_address": strings.Repeat(`\`, 64)},
		} {
			login := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.magicLink(userID), "session_duration_minutes": 60,
				"attributes": attrs, "session_custom_claims": obj{"pad": strings.Repeat(`"`, 2000)}}))
			if got := field(login, "session", "attributes"); got.(obj)["user_agent"] != attrs["user_agent"] || got.(obj)["ip_address"] != attrs["ip_address"] {
				t.Fatalf("attributes came back as %v", got)
			}
			checkSessionJWT(t, c.verifyJWT(str(t, login, "session_jwt")), login["session"].(obj))
			again := c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": str(t, login, "session_jwt")}))
			if field(again, "session", "session_id") != field(login, "session", "session_id") {
				t.Fatalf("JWT of the largest session did not authenticate: %v", again)
			}
		}
	}},
	{name: "security/request member names are exact", run: func(t *testing.T, c *client) {
		_, login := c.login("exactnames", 60)
		token := str(t, login, "session_token")
		// Another spelling is an unknown member, not session_token.
		c.fails(c.post("/v1/sessions/authenticate", `{"SESSION_TOKEN":"`+token+`"}`), http.StatusBadRequest, "no_session_arguments")
		c.fails(c.post("/v1/sessions/authenticate", `{"ſession_token":"`+token+`"}`), http.StatusBadRequest, "no_session_arguments")
		// A member named twice is refused, not read as the last one.
		c.fails(c.post("/v1/sessions/authenticate", `{"session_token":"`+token+`","session_token":"`+token+`"}`), http.StatusBadRequest, "bad_request")
		c.fails(c.post("/v1/sessions/authenticate", `{"session_token":"`+token+`","attributes":{"user_agent":"a","user_agent":"b"}}`), http.StatusBadRequest, "bad_request")
		c.ok(c.post("/v1/sessions/authenticate", `{"session_token":"`+token+`"}`))
	}},
	{name: "security/a refused step-up spends no password attempt", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("stepupspend")
		_, other := c.login("stepupother", 60)
		// Eleven guesses with another user's session: each is refused for
		// the session before the password is looked at, so none counts
		// toward the lockout of ten.
		for range 11 {
			c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": "wrong-" + pw,
				"session_token": str(t, other, "session_token")}), http.StatusBadRequest, "session_user_mismatch")
		}
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}))
	}},
	{name: "security/session jwt has one spelling", run: func(t *testing.T, c *client) {
		_, login := c.login("jwtspelling", 60)
		jwt := str(t, login, "session_jwt")
		parts := strings.Split(jwt, ".")
		for _, tc := range []struct{ name, tok string }{
			{name: "newline in signature", tok: parts[0] + "." + parts[1] + "." + parts[2][:20] + "\n" + parts[2][20:]},
			{name: "carriage return in payload", tok: parts[0] + "." + parts[1][:20] + "\r" + parts[1][20:] + "." + parts[2]},
			{name: "padding", tok: jwt + "="},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				c.fails(c.post("/v1/sessions/authenticate", obj{"session_jwt": tc.tok}), http.StatusBadRequest, "invalid_session_jwt")
				c.fails(c.post("/v1/sessions/revoke", obj{"session_jwt": tc.tok}), http.StatusBadRequest, "invalid_session_jwt")
			})
		}
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": jwt}))
	}},
}
