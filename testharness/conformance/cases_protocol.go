package conformance

import (
	"net/http"
	"strings"
	"testing"
)

var protocolCases = []testCase{
	{name: "protocol/credentials", run: func(t *testing.T, c *client) {
		for _, tc := range []struct {
			name          string
			user, pass    string
			withBasicAuth bool
		}{
			{name: "missing"},
			{name: "wrong secret", user: c.tg.ProjectID, pass: c.tg.Secret + "x", withBasicAuth: true},
			{name: "wrong project", user: c.tg.ProjectID + "x", pass: c.tg.Secret, withBasicAuth: true},
			{name: "empty", user: "", pass: "", withBasicAuth: true},
			{name: "secret as project", user: c.tg.Secret, pass: c.tg.ProjectID, withBasicAuth: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, c.tg.URL+"/v1/users", strings.NewReader(`{"email":"`+uniqueEmail("auth")+`"}`))
				if tc.withBasicAuth {
					req.SetBasicAuth(tc.user, tc.pass)
				}
				r := c.send(req)
				c.fails(r, http.StatusUnauthorized, "unauthorized_credentials")
				if strings.Contains(r.body["error_message"].(string), c.tg.Secret) {
					t.Errorf("error message leaks the secret")
				}
			})
		}
	}},
	{name: "protocol/not found and method", run: func(t *testing.T, c *client) {
		c.fails(c.get("/v1/nope"), http.StatusNotFound, "not_found")
		c.fails(c.get("/"), http.StatusNotFound, "not_found")
		c.fails(c.get("/v1/users"), http.StatusMethodNotAllowed, "method_not_allowed")
		c.fails(c.do(http.MethodPut, "/v1/sessions/authenticate", "{}", withAuth), http.StatusMethodNotAllowed, "method_not_allowed")
	}},
	{name: "protocol/malformed json", run: func(t *testing.T, c *client) {
		for _, body := range []string{`{"email":`, `[1,2]`, `"x"`, `{"email": 5}`, `{"email":"a@example.com"} trailing`} {
			c.fails(c.post("/v1/users", body), http.StatusBadRequest, "bad_request")
		}
		c.fails(c.post("/v1/sessions/authenticate", `{"session_duration_minutes":"60","session_token":"x"}`), http.StatusBadRequest, "bad_request")
		c.fails(c.post("/v1/magic_links/authenticate", `{"token":`), http.StatusBadRequest, "bad_request")
	}},
	{name: "protocol/oversized body", run: func(t *testing.T, c *client) {
		big := `{"email":"` + strings.Repeat("a", 1<<20) + `@example.com"}`
		c.fails(c.post("/v1/users", big), http.StatusRequestEntityTooLarge, "request_too_large")
	}},
	{name: "protocol/jwks is public", run: func(t *testing.T, c *client) {
		if keys := c.jwks(); len(keys) == 0 {
			t.Fatal("no keys")
		}
		r := c.do(http.MethodGet, "/v1/sessions/jwks/project-test-00000000-0000-4000-8000-000000000000", nil, noAuth)
		c.fails(r, http.StatusNotFound, "project_not_found")
	}},
}
