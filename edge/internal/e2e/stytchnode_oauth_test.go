//go:build !js

package e2e

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
)

// TestStytchNodeOAuthAuthenticate signs in through an OpenID provider on
// the Worker — start URL, the provider's sign-in, Latch's callback — and
// redeems the token the app is sent back with through Stytch's Node
// backend SDK, oauth.authenticate, which must read Latch's answer as
// Stytch's: the user, the provider, the provider's tokens and the session.
func TestStytchNodeOAuthAuthenticate(t *testing.T) {
	t.Parallel()
	RequireStytchNode(t)
	providers := conformance.StartProviders(t, nil)
	w := Start(t, Options{OAuthProviders: providers.Document(),
		MoreVars: map[string]string{"LATCH_REDIRECT_URLS": testRedirectURL}})
	providers.AllowCallback(w.URL + "/v1/oauth/callback")
	alice, _ := providers.Account("alice")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := func(raw string) *url.URL {
		t.Helper()
		res, err := browser.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if res.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("GET %s: %d, want a redirect", raw, res.StatusCode)
		}
		return loc
	}
	start := w.URL + "/v1/public/oauth/" + conformance.ProviderOIDC + "/start?" + url.Values{
		"public_token": {w.PublicToken}, "login_redirect_url": {testRedirectURL}}.Encode()
	callback, err := providers.SignInAt(browser, next(start), alice.Login)
	if err != nil {
		t.Fatal(err)
	}
	app := next(callback.String())
	token := app.Query().Get("token")
	if app.Query().Get("stytch_token_type") != "oauth" || token == "" {
		t.Fatalf("the callback sent the browser to %s", app.Redacted())
	}

	got := runStytchNode(t, "stytch_node_oauth.mjs", map[string]string{
		"STYTCH_BASE_URL": w.URL, "STYTCH_PROJECT_ID": w.ProjectID, "STYTCH_SECRET": w.Secret,
		"STYTCH_OAUTH_TOKEN": token, "EXPECT_PROVIDER_TYPE": conformance.ProviderOIDC,
	})
	for k, want := range map[string]any{
		"status_code": float64(200), "session_token_present": true, "session_jwt_present": true,
		"session_present": true, "user_providers": float64(1), "reset_sessions": false,
	} {
		if got[k] != want {
			t.Errorf("%s = %#v, want %#v (all: %v)", k, got[k], want, got)
		}
	}
	if got["user_id"] == "" || got["user_id"] != got["user_id_of_user"] || got["oauth_user_registration_id"] == "" {
		t.Errorf("user: %v", got)
	}
	keys, _ := got["provider_values_keys"].([]any)
	if len(keys) != 5 {
		t.Errorf("provider_values keys %v, want access_token, expires_at, id_token, refresh_token, scopes", keys)
	}
}
