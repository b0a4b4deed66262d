package conformance

import (
	"net/http"
	"strings"
	"testing"
)

var claimCases = []testCase{
	{name: "claims/refused login spends nothing", run: func(t *testing.T, c *client) {
		userID, login := c.login("claimspend", 60)
		half := strings.Repeat("c", 2500)
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, login, "session_token"), "session_custom_claims": obj{"one": half}}))
		link := c.magicLink(userID)
		// Fits alone, not merged into the step-up session.
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_token": str(t, login, "session_token"), "session_custom_claims": obj{"two": half}}), http.StatusBadRequest, "custom_claims_too_large")
		// Too large even for a new session.
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_duration_minutes": 60, "session_custom_claims": obj{"big": strings.Repeat("d", 5000)}}), http.StatusBadRequest, "custom_claims_too_large")
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": link, "session_token": str(t, login, "session_token")}))
		email := uniqueEmail("claimspend")
		c.fails(c.post("/v1/passwords", obj{"email": email, "password": strongPassword(), "session_duration_minutes": 60, "session_custom_claims": obj{"big": strings.Repeat("d", 5000)}}), http.StatusBadRequest, "custom_claims_too_large")
		c.ok(c.post("/v1/passwords", obj{"email": email, "password": strongPassword()}))
	}},
	{name: "claims/merge delete and emit", run: func(t *testing.T, c *client) {
		userID, _ := c.newUser("claims")
		first := c.ok(c.post("/v1/magic_links/authenticate", obj{
			"token": c.magicLink(userID), "session_duration_minutes": 60,
			"session_custom_claims": obj{"role": "admin", "n": 1, "nested": obj{"a": true}},
		}))
		cc := field(first, "session", "custom_claims").(obj)
		if cc["role"] != "admin" || cc["n"] != 1.0 || field(cc, "nested", "a") != true {
			t.Fatalf("custom_claims %v", cc)
		}
		claims := c.verifyJWT(str(t, first, "session_jwt"))
		if claims["role"] != "admin" || claims["n"] != 1.0 {
			t.Errorf("jwt lacks custom claims: %v", claims)
		}
		second := c.ok(c.post("/v1/sessions/authenticate", obj{
			"session_token":         str(t, first, "session_token"),
			"session_custom_claims": obj{"n": 2, "role": nil, "x": "y"},
		}))
		cc = field(second, "session", "custom_claims").(obj)
		if _, has := cc["role"]; has || cc["n"] != 2.0 || cc["x"] != "y" || cc["nested"] == nil {
			t.Fatalf("after merge: %v", cc)
		}
		claims = c.verifyJWT(str(t, second, "session_jwt"))
		if _, has := claims["role"]; has || claims["n"] != 2.0 || claims["x"] != "y" {
			t.Errorf("jwt after merge: %v", claims)
		}
		third := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, first, "session_token")}))
		if field(third, "session", "custom_claims", "x") != "y" {
			t.Errorf("claims did not persist: %v", field(third, "session", "custom_claims"))
		}
	}},
	{name: "claims/refused", run: func(t *testing.T, c *client) {
		_, login := c.login("claimerr", 60)
		token := str(t, login, "session_token")
		for _, tc := range []struct {
			name      string
			claims    any
			status    int
			errorType string
		}{
			{name: "too large", claims: obj{"big": strings.Repeat("a", 4100)}, status: 400, errorType: "custom_claims_too_large"},
			{name: "iss", claims: obj{"iss": "me"}, status: 400, errorType: "reserved_claims_in_custom_claims"},
			{name: "jti", claims: obj{"jti": "x"}, status: 400, errorType: "reserved_claims_in_custom_claims"},
			{name: "exp", claims: obj{"exp": 1}, status: 400, errorType: "reserved_claims_in_custom_claims"},
			{name: "stytch namespace", claims: obj{"https://stytch.com/session": obj{}}, status: 400, errorType: "stytch_claims_in_custom_claims"},
			{name: "stytch other", claims: obj{"https://stytch.com/organization": 1}, status: 400, errorType: "stytch_claims_in_custom_claims"},
			{name: "not an object", claims: []int{1}, status: 400, errorType: "bad_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token, "session_custom_claims": tc.claims}), tc.status, tc.errorType)
			})
		}
		// The merged result counts: two halves that fit alone do not fit together.
		half := strings.Repeat("b", 2500)
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token, "session_custom_claims": obj{"one": half}}))
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": token, "session_custom_claims": obj{"two": half}}), http.StatusBadRequest, "custom_claims_too_large")
		after := c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": token}))
		if cc := field(after, "session", "custom_claims").(obj); len(cc) != 1 || cc["one"] != half {
			t.Errorf("refused claims were stored: %d claims", len(cc))
		}
	}},
}
