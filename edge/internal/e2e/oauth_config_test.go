//go:build !js

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// oauthSecret is the client secret in the providers documents below: no
// answer and no log line may hold it.
const oauthSecret = "s3cr3t-client-secret-of-the-provider"

// TestOAuthConfigFailsClosed starts Workers whose social login settings
// are broken: each answers every request with the generic Stytch-shaped
// 500 of a misconfigured Worker, which names no setting and echoes no
// secret, and says in its log which setting is at fault, without the
// client secret.
func TestOAuthConfigFailsClosed(t *testing.T) {
	t.Parallel()
	RequireWrangler(t) // once, not in each subtest
	github := `[{"provider":"github","client_id":"Iv1.0123456789abcdef","client_secret":"` + oauthSecret + `"}]`
	origins := []string{"http://127.0.0.1:3000"}
	for _, c := range []struct {
		name    string
		opts    Options
		mention []string // what one log line says, besides "misconfigured"
	}{
		{name: "providers not JSON", opts: Options{SDKOrigins: origins,
			OAuthProviders: `[{"provider":"github","client_id":"x","client_secret":"` + oauthSecret + `"`},
			mention: []string{"LATCH_OAUTH_PROVIDERS", "not a JSON list"}},
		{name: "an unknown provider kind", opts: Options{
			OAuthProviders: `[{"provider":"myspace","client_id":"x","client_secret":"` + oauthSecret + `"}]`},
			mention: []string{"LATCH_OAUTH_PROVIDERS", "myspace"}},
		{name: "an oidc provider without an issuer", opts: Options{SDKOrigins: origins,
			OAuthProviders: `[{"provider":"oidc","name":"corp","client_id":"x","client_secret":"` + oauthSecret + `"}]`},
			mention: []string{"LATCH_OAUTH_PROVIDERS", "issuer"}},
		{name: "an issuer over http off loopback", opts: Options{SDKOrigins: origins,
			OAuthProviders: `[{"provider":"oidc","name":"corp","issuer":"http://idp.example.com","client_id":"x","client_secret":"` + oauthSecret + `"}]`},
			mention: []string{"LATCH_OAUTH_PROVIDERS", "http is accepted only on loopback"}},
		// Options.OAuthProviders would add a public token.
		{name: "providers without a public token", opts: Options{MoreVars: map[string]string{oauthProvidersVar: github}},
			mention: []string{"LATCH_OAUTH_PROVIDERS", "LATCH_PUBLIC_TOKEN is not set"}},
		{name: "a base URL with a path", opts: Options{SDKOrigins: origins, OAuthProviders: github, BaseURL: "https://auth.example.com/latch"},
			mention: []string{"LATCH_BASE_URL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Settings of its own: a Worker whose JWKS answers no key of
			// the Options is not waited for by its key.
			vars, _, err := freshVars()
			if err != nil {
				t.Fatal(err)
			}
			log := &syncBuffer{}
			c.opts.Vars, c.opts.Log = vars, log
			if testing.Verbose() {
				c.opts.Log = io.MultiWriter(log, testLog{t})
			}
			w := Start(t, c.opts)
			a := newAPI(t, w.Target)
			check := func(what string, status int, out map[string]any) {
				t.Helper()
				if status != http.StatusInternalServerError || out["error_type"] != "internal_server_error" {
					t.Fatalf("%s: %d %v, want 500 internal_server_error", what, status, out)
				}
				answer := fmt.Sprint(out)
				for _, word := range []string{"LATCH_", "misconfigured", "oauth", oauthSecret, w.Secret} {
					if strings.Contains(answer, word) {
						t.Errorf("%s: the answer tells the caller %q: %v", what, word, out)
					}
				}
				if id, _ := out["request_id"].(string); !strings.HasPrefix(id, "request-id-test-") {
					t.Errorf("%s: request_id = %q, want request-id-test-…", what, id)
				}
			}
			status, out := a.call(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": "x"}, true)
			check("sessions/authenticate", status, out)
			status, out = a.call(http.MethodPost, "/v1/oauth/authenticate", map[string]any{"token": "x"}, true)
			check("oauth/authenticate", status, out)
			status, out = a.call(http.MethodGet, "/v1/public/oauth/github/start?public_token="+url.QueryEscape(w.PublicToken), nil, false)
			check("the start URL", status, out)
			words := append([]string{"misconfigured"}, c.mention...)
			deadline := time.Now().Add(10 * time.Second)
			for !log.hasLine(words...) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if !log.hasLine(words...) {
				t.Errorf("no log line says %q", words)
			}
			if strings.Contains(log.String(), oauthSecret) {
				t.Error("the log holds the client secret")
			}
		})
	}
}

// TestOAuthConfigServes checks that providers without
// LATCH_SECRET_BOX_KEY, which seals the tokens they hand out, fail
// closed too, and that a Worker with providers and a public token serves,
// its SDK surface off without LATCH_SDK_ORIGINS.
func TestOAuthConfigServes(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	github := `[{"provider":"github","client_id":"Iv1.0123456789abcdef","client_secret":"` + oauthSecret + `"}]`
	t.Run("without the secret box key", func(t *testing.T) {
		t.Parallel()
		vars, _, err := freshVars()
		if err != nil {
			t.Fatal(err)
		}
		delete(vars, secretBoxVar)
		log := &syncBuffer{}
		w := Start(t, Options{Vars: vars, SDKOrigins: []string{"http://127.0.0.1:3000"}, OAuthProviders: github, Log: log})
		a := newAPI(t, w.Target)
		status, out := a.call(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": "x"}, true)
		if status != http.StatusInternalServerError || out["error_type"] != "internal_server_error" {
			t.Fatalf("%d %v, want 500 internal_server_error", status, out)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !log.hasLine("misconfigured", "LATCH_SECRET_BOX_KEY") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if !log.hasLine("misconfigured", "LATCH_OAUTH_PROVIDERS", "LATCH_SECRET_BOX_KEY") {
			t.Error("no log line says the providers need LATCH_SECRET_BOX_KEY")
		}
	})
	t.Run("configured", func(t *testing.T) {
		t.Parallel()
		log := &syncBuffer{}
		w := Start(t, Options{OAuthProviders: github, BaseURL: "https://auth.example.com", Log: log})
		if w.PublicToken == "" {
			t.Fatal("no public token was given with the providers")
		}
		a := newAPI(t, w.Target)
		status, out := a.call(http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": "x"}, true)
		if status != http.StatusBadRequest || out["error_type"] != "invalid_session_token" {
			t.Errorf("sessions/authenticate: %d %v, want 400 invalid_session_token", status, out)
		}
		status, out = a.call(http.MethodGet, "/v1/public/oauth/gitlab/start?public_token="+url.QueryEscape(w.PublicToken), nil, false)
		if status != http.StatusNotFound || out["error_type"] != "oauth_provider_not_found" {
			t.Errorf("start of a provider not configured: %d %v, want 404 oauth_provider_not_found", status, out)
		}
		res, err := http.Get(w.URL + "/sdk/v1/projects/bootstrap/" + w.PublicToken)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the SDK surface answers %d without LATCH_SDK_ORIGINS, want 404", res.StatusCode)
		}
		if log.hasLine("misconfigured") {
			t.Errorf("the Worker says it is misconfigured:\n%s", log)
		}
		if strings.Contains(log.String(), oauthSecret) {
			t.Error("the log holds the client secret")
		}
	})
}
