package main

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/latchauth/latch/wasm/sdk"
)

func TestParseSDKConfig(t *testing.T) {
	const projectID = "project-test-4f8e1c3a-0f59-4c55-9a1e-2b7c7e0d1a11"
	token := sdk.NewPublicToken(projectID)
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(name string) string { return m[name] }
	}
	tests := []struct {
		name     string
		get      func(string) string
		off      bool     // the surface is off
		origins  []string // the parsed origins
		wantErr  string   // the error; "" for none
		httpOnly string   // LATCH_SDK_COOKIE_DOMAIN, when the HttpOnly mode is on
	}{
		{name: "no settings", get: env(), off: true},
		{name: "origins without a token", get: env(varSDKOrigins, "http://127.0.0.1:3000"), off: true},
		{name: "token and origins", get: env(varPublicToken, " "+token+" ", varSDKOrigins, " https://App.example.com , http://127.0.0.1:3000/ ,", varProjectName, "Acme"),
			origins: []string{"https://app.example.com", "http://127.0.0.1:3000"}},
		{name: "no origins", get: env(varPublicToken, token), wantErr: "LATCH_SDK_ORIGINS is not set"},
		{name: "a token for social login only", get: env(varPublicToken, token, secretOAuthProviders, `[{"provider":"google"}]`), off: true},
		{name: "the HttpOnly mode", get: env(varPublicToken, token, varSDKOrigins, "https://app.example.com", varProjectName, "Acme", varSDKCookieDomain, "example.com"),
			origins: []string{"https://app.example.com"}, httpOnly: "example.com"},
		{name: "the HttpOnly mode, host-only", get: env(varPublicToken, token, varSDKOrigins, "https://app.example.com", varProjectName, "Acme", varSDKCookieDomain, "."),
			origins: []string{"https://app.example.com"}, httpOnly: "."},
		{name: "blank origins", get: env(varPublicToken, token, varSDKOrigins, " , "), wantErr: "LATCH_SDK_ORIGINS is not set"},
		{name: "origin with a path", get: env(varPublicToken, token, varSDKOrigins, "https://app.example.com/app"),
			wantErr: `LATCH_SDK_ORIGINS: origin "https://app.example.com/app" is not scheme://host[:port]`},
		{name: "origin without a scheme", get: env(varPublicToken, token, varSDKOrigins, "app.example.com"),
			wantErr: `LATCH_SDK_ORIGINS: origin "app.example.com" is not scheme://host[:port]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseSDKConfig(tt.get)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if tt.off {
				if c != nil {
					t.Fatalf("surface on: %+v", c)
				}
				return
			}
			wantDomain := strings.TrimPrefix(tt.httpOnly, ".")
			if c.HTTPOnlyCookies != (tt.httpOnly != "") || c.CookieDomain != wantDomain {
				t.Errorf("HttpOnly mode %v on %q, want %q", c.HTTPOnlyCookies, c.CookieDomain, tt.httpOnly)
			}
			if c.PublicToken != token || c.ProjectName != "Acme" || !slices.Equal(c.Origins, tt.origins) {
				t.Errorf("parsed token %q, name %q, origins %q", c.PublicToken, c.ProjectName, c.Origins)
			}
			// Only the header Cloudflare sets names the client.
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = "10.0.0.1:1234"
			r.Header.Set("X-Forwarded-For", "198.51.100.1")
			if ip := c.ClientIP(r); ip != "" {
				t.Errorf("client IP %q without CF-Connecting-IP", ip)
			}
			r.Header.Set("CF-Connecting-IP", "203.0.113.7")
			if ip := c.ClientIP(r); ip != "203.0.113.7" {
				t.Errorf("client IP %q, want 203.0.113.7", ip)
			}
			// The surface takes what was parsed for this project, and
			// refuses a token of another environment.
			c.API, c.ProjectID, c.Secret = http.NotFoundHandler(), projectID, "secret-test-x"
			if _, err := sdk.New(*c); err != nil {
				t.Errorf("sdk.New refuses the parsed settings: %v", err)
			}
			c.ProjectID = strings.Replace(projectID, "-test-", "-live-", 1)
			if _, err := sdk.New(*c); !errors.Is(err, sdk.ErrConfig) {
				t.Errorf("sdk.New with a test token for a live project: %v, want sdk.ErrConfig", err)
			}
		})
	}
}
