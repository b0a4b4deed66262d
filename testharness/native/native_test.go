package native_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/oauth"
)

// TestOAuthProviders: with a providers document the native engine reads
// the provider's discovery over net/http, sends the browser there with
// the server's own callback, and takes the public token made for it; a
// document that does not parse fails New.
func TestOAuthProviders(t *testing.T) {
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{
			"issuer": idp.URL, "authorization_endpoint": idp.URL + "/authorize",
			"token_endpoint": idp.URL + "/token", "jwks_uri": idp.URL + "/jwks",
		})
	}))
	defer idp.Close()
	doc, _ := json.Marshal([]map[string]string{{"provider": "oidc", "name": "local", "issuer": idp.URL, "client_id": "c", "client_secret": "s"}})
	s := native.Start(t, native.Config{OAuthProviders: doc, RedirectURLs: []string{"http://localhost:3000/authenticate"}})
	if !strings.HasPrefix(s.PublicToken, "public-token-test-") {
		t.Fatalf("PublicToken %q", s.PublicToken)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL + "/v1/public/oauth/local/start?public_token=" + s.PublicToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), idp.URL+"/authorize?") {
		t.Fatalf("start: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := loc.Query().Get("redirect_uri"); got != s.URL+"/v1/oauth/callback" {
		t.Errorf("redirect_uri %q, want the server's callback", got)
	}

	if s, err := native.New(native.Config{OAuthProviders: []byte(`[{"provider":`)}); !errors.Is(err, oauth.ErrConfig) {
		if s != nil {
			s.Close()
		}
		t.Errorf("a document that does not parse: New = %v, want oauth.ErrConfig", err)
	}
	if s, err := native.New(native.Config{OAuthProviders: doc, PublicToken: "public-token-live-x"}); !errors.Is(err, engine.ErrConfig) {
		if s != nil {
			s.Close()
		}
		t.Errorf("a public token of another environment: New = %v, want engine.ErrConfig", err)
	}
}
