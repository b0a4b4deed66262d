package engine_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/keys"
)

// TestTwoEnginesDoNotInterfere runs two projects side by side in one
// process: neither accepts the other's credentials, tokens or JWTs, and
// each publishes only its own keys.
func TestTwoEnginesDoNotInterfere(t *testing.T) {
	type project struct {
		id, secret string
		e          *engine.Engine
		kid        string
	}
	mk := func(id, secret string) *project {
		k, err := keys.Generate(rand.Reader, "test")
		if err != nil {
			t.Fatal(err)
		}
		s, err := keys.NewSigner([]keys.Key{k})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(engine.Config{ProjectID: id, Secret: secret, DB: openDB(t), Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		return &project{id: id, secret: secret, e: e, kid: k.KID}
	}
	a := mk("project-test-aaaaaaaa-0000-4000-8000-000000000000", "secret-a")
	b := mk("project-test-bbbbbbbb-0000-4000-8000-000000000000", "secret-b")
	call := func(p *project, user, pass, method, path, body string) (int, map[string]any) {
		c := apitest.Client{Handler: p.e, ProjectID: user, Secret: pass}
		status, out, err := c.Do(context.Background(), method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		return status, out
	}
	_, u := call(a, a.id, a.secret, http.MethodPost, "/v1/users", `{"email":"iso@example.com"}`)
	_, ml := call(a, a.id, a.secret, http.MethodPost, "/v1/magic_links", `{"user_id":"`+u["user_id"].(string)+`"}`)
	code, login := call(a, a.id, a.secret, http.MethodPost, "/v1/magic_links/authenticate", `{"token":"`+ml["token"].(string)+`","session_duration_minutes":60}`)
	if code != http.StatusOK {
		t.Fatalf("login on a: %d %v", code, login)
	}
	for _, tc := range []struct {
		name      string
		user      string
		pass      string
		path      string
		body      string
		status    int
		errorType string
	}{
		{name: "a's credentials on b", user: a.id, pass: a.secret, path: "/v1/users", body: `{"email":"x@example.com"}`, status: 401, errorType: "unauthorized_credentials"},
		{name: "a's token on b", user: b.id, pass: b.secret, path: "/v1/sessions/authenticate", body: `{"session_token":"` + login["session_token"].(string) + `"}`, status: 404, errorType: "session_not_found"},
		{name: "a's jwt on b", user: b.id, pass: b.secret, path: "/v1/sessions/authenticate", body: `{"session_jwt":"` + login["session_jwt"].(string) + `"}`, status: 404, errorType: "session_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := call(b, tc.user, tc.pass, http.MethodPost, tc.path, tc.body)
			if code != tc.status || out["error_type"] != tc.errorType {
				t.Fatalf("got %d %v, want %d %s", code, out["error_type"], tc.status, tc.errorType)
			}
		})
	}
	for _, p := range []*project{a, b} {
		code, out := call(p, "", "", http.MethodGet, "/v1/sessions/jwks/"+p.id, "")
		ks, _ := out["keys"].([]any)
		if code != http.StatusOK || len(ks) != 1 || ks[0].(map[string]any)["kid"] != p.kid {
			t.Fatalf("%s jwks: %d %v", p.id, code, out)
		}
	}
	if code, _ := call(b, "", "", http.MethodGet, "/v1/sessions/jwks/"+a.id, ""); code != http.StatusNotFound {
		t.Fatalf("b serves a's jwks: %d", code)
	}
}
