package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/oauth"
)

// Names of the social login settings (wrangler.toml, .dev.vars). Social
// login is off unless LATCH_OAUTH_PROVIDERS lists a provider. See
// edge/README.md, "Social login".
const (
	secretOAuthProviders = "LATCH_OAUTH_PROVIDERS" // a JSON list of providers (oauth.ParseProviders)
	varBaseURL           = "LATCH_BASE_URL"        // optional: where browsers reach the Worker
)

// oauthConfig is what the engine's social login takes from the Worker's
// settings; the Fetcher and the SecretBox come from the glue.
type oauthConfig struct {
	Providers   []oauth.Provider // none: social login is off
	PublicToken string           // LATCH_PUBLIC_TOKEN, which every OAuth start URL carries
	BaseURL     string           // "" or an origin without a trailing slash
}

// offerOn has the login page offer every configured provider, a
// "Continue with …" each, and gives it the public token their start URLs
// carry.
func (c oauthConfig) offerOn(page *loginpage.Config) {
	page.OAuthProviders = nil
	for _, p := range c.Providers {
		page.OAuthProviders = append(page.OAuthProviders, loginpage.OAuthProvider{Name: p.Name})
	}
	page.PublicToken = c.PublicToken
}

// parseOAuthConfig reads the social login settings through get. Providers
// need the project's public token; engine.New checks it against the
// project. Its errors name the setting at fault and never quote the
// providers document, which holds the client secrets.
func parseOAuthConfig(get func(string) string) (oauthConfig, error) {
	var c oauthConfig
	ps, err := oauth.ParseProviders([]byte(get(secretOAuthProviders)))
	if err != nil {
		return oauthConfig{}, fmt.Errorf("%s: %w", secretOAuthProviders, err)
	}
	c.Providers = ps
	c.PublicToken = strings.TrimSpace(get(varPublicToken))
	if len(ps) > 0 && c.PublicToken == "" {
		return oauthConfig{}, fmt.Errorf("%s lists providers but %s is not set: every OAuth start URL carries the project's public token",
			secretOAuthProviders, varPublicToken)
	}
	if raw := strings.TrimSpace(get(varBaseURL)); raw != "" {
		if c.BaseURL, err = checkBaseURL(raw); err != nil {
			return oauthConfig{}, err
		}
	}
	return c, nil
}

// checkBaseURL accepts an https origin, or an http one on a loopback host
// (a Worker on the developer's machine): providers send authorization
// codes to BaseURL + "/v1/oauth/callback". It returns the origin without
// a trailing slash.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%s %q is not scheme://host[:port]", varBaseURL, clipValue(raw))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("%s %q is not https (http only to a loopback host)", varBaseURL, clipValue(raw))
	}
	return u.Scheme + "://" + u.Host, nil
}

// clipValue shortens a setting's value quoted in an error.
func clipValue(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
