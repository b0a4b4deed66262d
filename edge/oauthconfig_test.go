package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

func TestParseOAuthConfig(t *testing.T) {
	const projectID = "project-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11"
	token := sdk.NewPublicToken(projectID)
	const secret = "gh-s3cr3t-never-quoted"
	github := `[{"provider":"github","client_id":"Iv1.abc","client_secret":"` + secret + `"}]`
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(name string) string { return m[name] }
	}
	tests := []struct {
		name      string
		get       func(string) string
		providers []string // the names of the providers read
		baseURL   string
		wantErr   string // the error; "" for none
		wantIs    error  // an error it wraps, when not nil
	}{
		{name: "no settings", get: env()},
		{name: "an empty list", get: env(secretOAuthProviders, " [] ")},
		{name: "a token without providers", get: env(varPublicToken, token)},
		{name: "github", get: env(secretOAuthProviders, github, varPublicToken, " "+token+" "), providers: []string{"github"}},
		{name: "google and an oidc provider, a base URL", get: env(
			secretOAuthProviders, `[{"provider":"google","client_id":"id.apps.googleusercontent.com","client_secret":"x"},
				{"provider":"oidc","name":"corp","issuer":"https://login.corp.example","client_id":"c","client_secret":"y","scopes":["openid","email"]}]`,
			varPublicToken, token, varBaseURL, "https://Auth.example.com/"),
			providers: []string{"google", "corp"}, baseURL: "https://Auth.example.com"},
		{name: "a base URL on loopback", get: env(varBaseURL, "http://127.0.0.1:8787"), baseURL: "http://127.0.0.1:8787"},
		{name: "a base URL on localhost", get: env(varBaseURL, "http://localhost:8787"), baseURL: "http://localhost:8787"},
		{name: "providers without a token", get: env(secretOAuthProviders, github),
			wantErr: "LATCH_OAUTH_PROVIDERS lists providers but LATCH_PUBLIC_TOKEN is not set: every OAuth start URL carries the project's public token"},
		{name: "not JSON", get: env(secretOAuthProviders, `[{"provider":"github","client_secret":`+secret, varPublicToken, token),
			wantIs: oauth.ErrConfig},
		{name: "an unknown kind", get: env(secretOAuthProviders, `[{"provider":"facebook","client_id":"a","client_secret":"`+secret+`"}]`, varPublicToken, token),
			wantErr: `LATCH_OAUTH_PROVIDERS: oauth: invalid provider configuration: provider 1: provider "facebook" is not one of google, github, oidc`},
		{name: "a secret in the wrong field", get: env(secretOAuthProviders, `[{"provider":"github","client_id":"a","client_secret":"b","secret":"`+secret+`"}]`, varPublicToken, token),
			wantIs: oauth.ErrConfig},
		{name: "a base URL with a path", get: env(varBaseURL, "https://auth.example.com/latch"),
			wantErr: `LATCH_BASE_URL "https://auth.example.com/latch" is not scheme://host[:port]`},
		{name: "a base URL with a query", get: env(varBaseURL, "https://auth.example.com/?a=b"),
			wantErr: `LATCH_BASE_URL "https://auth.example.com/?a=b" is not scheme://host[:port]`},
		{name: "a base URL without a scheme", get: env(varBaseURL, "auth.example.com"),
			wantErr: `LATCH_BASE_URL "auth.example.com" is not scheme://host[:port]`},
		{name: "a base URL with user info", get: env(varBaseURL, "https://u:p@auth.example.com"),
			wantErr: `LATCH_BASE_URL "https://u:p@auth.example.com" is not scheme://host[:port]`},
		{name: "a base URL over http", get: env(varBaseURL, "http://auth.example.com"),
			wantErr: `LATCH_BASE_URL "http://auth.example.com" is not https (http only to a loopback host)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseOAuthConfig(tt.get)
			wantErr := tt.wantErr != "" || tt.wantIs != nil
			switch {
			case !wantErr && err != nil:
				t.Fatalf("error %v", err)
			case wantErr && err == nil:
				t.Fatalf("no error, want %q %v", tt.wantErr, tt.wantIs)
			case wantErr:
				if tt.wantErr != "" && err.Error() != tt.wantErr {
					t.Errorf("error %q, want %q", err, tt.wantErr)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %v does not wrap %v", err, tt.wantIs)
				}
				if !strings.HasPrefix(err.Error(), "LATCH_") {
					t.Errorf("error %q does not name the setting", err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the client secret", err)
				}
				return
			}
			var names []string
			for _, p := range c.Providers {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.providers, ",") {
				t.Errorf("providers %v, want %v", names, tt.providers)
			}
			if len(c.Providers) > 0 && c.PublicToken != token {
				t.Errorf("public token %q, want %q", c.PublicToken, token)
			}
			if c.BaseURL != tt.baseURL {
				t.Errorf("base URL %q, want %q", c.BaseURL, tt.baseURL)
			}
		})
	}
}

// TestOfferOn: the login page offers every configured provider, by name,
// with the public token.
func TestOfferOn(t *testing.T) {
	c, err := parseOAuthConfig(func(name string) string {
		return map[string]string{
			secretOAuthProviders: `[{"provider":"github","client_id":"a","client_secret":"b"},
				{"provider":"oidc","name":"corp","issuer":"https://login.corp.example","client_id":"c","client_secret":"d"}]`,
			varPublicToken: "public-token-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	var page loginpage.Config
	c.offerOn(&page)
	if len(page.OAuthProviders) != 2 || page.OAuthProviders[0].Name != "github" || page.OAuthProviders[1].Name != "corp" ||
		page.PublicToken != c.PublicToken {
		t.Errorf("page offers %+v with token %q", page.OAuthProviders, page.PublicToken)
	}
	var none loginpage.Config
	oauthConfig{}.offerOn(&none)
	if none.OAuthProviders != nil {
		t.Errorf("without providers the page offers %+v", none.OAuthProviders)
	}
}
