package verifier

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	good := func(edit func(c *Config)) Config {
		c := Config{ProjectID: testProject, BaseURL: "https://auth.example.com/", HTTPClient: offline}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "zero value", cfg: Config{}, wantErr: true},
		{name: "minimal", cfg: good(nil)},
		{name: "no project", cfg: good(func(c *Config) { c.ProjectID = "" }), wantErr: true},
		{name: "project with a slash", cfg: good(func(c *Config) { c.ProjectID = "a/b" }), wantErr: true},
		{name: "no base URL", cfg: good(func(c *Config) { c.BaseURL = "" }), wantErr: true},
		{name: "relative base URL", cfg: good(func(c *Config) { c.BaseURL = "/edge" }), wantErr: true},
		{name: "http base URL", cfg: good(func(c *Config) { c.BaseURL = "http://auth.example.com" }), wantErr: true},
		{name: "http on loopback", cfg: good(func(c *Config) { c.BaseURL = "http://127.0.0.1:8787" })},
		{name: "http on localhost", cfg: good(func(c *Config) { c.BaseURL = "http://localhost:8787" })},
		{name: "http on IPv6 loopback", cfg: good(func(c *Config) { c.BaseURL = "http://[::1]:8787" })},
		{name: "ftp", cfg: good(func(c *Config) { c.BaseURL = "ftp://auth.example.com" }), wantErr: true},
		{name: "base URL with credentials", cfg: good(func(c *Config) { c.BaseURL = "https://u:p@auth.example.com" }), wantErr: true},
		{name: "base URL with query", cfg: good(func(c *Config) { c.BaseURL = "https://auth.example.com/?x=1" }), wantErr: true},
		{name: "base URL with path", cfg: good(func(c *Config) { c.BaseURL = "https://example.com/auth" })},
		{name: "negative leeway", cfg: good(func(c *Config) { c.Leeway = -time.Second }), wantErr: true},
		{name: "huge leeway", cfg: good(func(c *Config) { c.Leeway = time.Hour }), wantErr: true},
		{name: "leeway", cfg: good(func(c *Config) { c.Leeway = 30 * time.Second })},
		{name: "negative fallback bound", cfg: good(func(c *Config) { c.MaxConcurrentFallbacks = -1 }), wantErr: true},
		{name: "fallback bound", cfg: good(func(c *Config) { c.MaxConcurrentFallbacks = 64 })},
		{name: "cookie settings", cfg: good(func(c *Config) {
			c.CookieDomain, c.CookiePath, c.CookieSameSite = "example.com", "/app", http.SameSiteStrictMode
		})},
		{name: "relative cookie path", cfg: good(func(c *Config) { c.CookiePath = "app" }), wantErr: true},
		{name: "cookie path with a semicolon", cfg: good(func(c *Config) { c.CookiePath = "/a;b" }), wantErr: true},
		{name: "bad cookie domain", cfg: good(func(c *Config) { c.CookieDomain = "exa mple.com" }), wantErr: true},
		{name: "unknown SameSite", cfg: good(func(c *Config) { c.CookieSameSite = 9 }), wantErr: true},
		{name: "negative max age", cfg: good(func(c *Config) { c.MaxTokenAge = -time.Second }), wantErr: true},
		{name: "tiny cooldown", cfg: good(func(c *Config) { c.RefreshCooldown = time.Millisecond }), wantErr: true},
		{name: "negative key wait", cfg: good(func(c *Config) { c.KeyWait = -time.Second }), wantErr: true},
		{name: "inverted refresh range", cfg: good(func(c *Config) { c.MinRefreshInterval, c.MaxRefreshInterval = time.Hour, time.Minute }), wantErr: true},
		{name: "cache disabled", cfg: good(func(c *Config) { c.TokenCacheSize = -1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			v, err := New(ctx, tt.cfg)
			if tt.wantErr {
				if !errors.Is(err, ErrConfig) || v != nil {
					t.Fatalf("New = %v, %v; want ErrConfig", v, err)
				}
				return
			}
			if err != nil || v == nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// offline is an HTTP client that never touches the network.
var offline = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
	return nil, errors.New("offline")
})}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTrailingSlashTrimmed(t *testing.T) {
	s, err := Config{ProjectID: testProject, BaseURL: "https://auth.example.com/", AcceptBaseURLIssuer: true}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.baseURL != "https://auth.example.com" || s.altIssuer != s.baseURL || s.issuer != "stytch.com/"+testProject {
		t.Fatalf("settings = %+v", s)
	}
}
