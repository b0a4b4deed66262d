//go:build !js

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStytchNodeSDKReachesWorker points Stytch's Node backend SDK at the
// Worker through the scripts runStytchNode runs: it creates and reads a
// user, and reads Latch's Stytch-shaped errors as StytchErrors, among
// them oauth.authenticate's for a token that was never issued.
func TestStytchNodeSDKReachesWorker(t *testing.T) {
	t.Parallel()
	RequireStytchNode(t)
	w := Start(t, Options{SDKOrigins: []string{"http://127.0.0.1:3000"},
		OAuthProviders: `[{"provider":"github","client_id":"Iv1.0123456789abcdef","client_secret":"` + oauthSecret + `"}]`})
	env := func(kv ...string) map[string]string {
		m := map[string]string{"STYTCH_BASE_URL": w.URL, "STYTCH_PROJECT_ID": w.ProjectID, "STYTCH_SECRET": w.Secret}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	args := func(v map[string]any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	created := runStytchNode(t, "stytch_node_call.mjs", env("STYTCH_METHOD", "users.create",
		"STYTCH_ARGS", args(map[string]any{"email": "node-sdk@example.com"})))
	userID, _ := created["user_id"].(string)
	if !strings.HasPrefix(userID, "user-test-") || created["status_code"] != float64(200) {
		t.Fatalf("users.create: %v", created)
	}
	got := runStytchNode(t, "stytch_node_call.mjs", env("STYTCH_METHOD", "users.get",
		"STYTCH_ARGS", args(map[string]any{"user_id": userID})))
	emails, _ := got["emails"].([]any)
	if got["user_id"] != userID || len(emails) != 1 || emails[0].(map[string]any)["email"] != "node-sdk@example.com" {
		t.Errorf("users.get: %v", got)
	}

	for _, c := range []struct {
		name, script string
		env          map[string]string
		status       float64
		errorType    string
	}{
		{name: "sessions.authenticate, a malformed token", script: "stytch_node_call.mjs",
			env:    env("STYTCH_METHOD", "sessions.authenticate", "STYTCH_ARGS", args(map[string]any{"session_token": "x"})),
			status: 400, errorType: "invalid_session_token"},
		{name: "oauth.authenticate, a token never issued", script: "stytch_node_oauth.mjs",
			env:    env("STYTCH_OAUTH_TOKEN", strings.Repeat("A", 44)),
			status: 404, errorType: "oauth_token_not_found"},
		{name: "a wrong secret", script: "stytch_node_call.mjs",
			env: func() map[string]string {
				m := env("STYTCH_METHOD", "users.get", "STYTCH_ARGS", args(map[string]any{"user_id": userID}))
				m["STYTCH_SECRET"] = "secret-test-not-the-project-secret-at-all-000000"
				return m
			}(),
			status: 401, errorType: "unauthorized_credentials"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := runStytchNodeError(t, c.script, c.env)
			if e["status_code"] != c.status || e["error_type"] != c.errorType {
				t.Errorf("StytchError %v, want %v %s", e, c.status, c.errorType)
			}
			if id, _ := e["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") {
				t.Errorf("request_id %q", id)
			}
			if msg, _ := e["error_message"].(string); msg == "" {
				t.Errorf("no error_message: %v", e)
			}
			if u, _ := e["error_url"].(string); !strings.HasPrefix(u, "https://stytch.com/docs/api/errors/") {
				t.Errorf("error_url %q", u)
			}
		})
	}
}
