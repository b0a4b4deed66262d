package wazerohost

import (
	"fmt"
	"slices"

	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/oauth"
)

// loginPageSettings returns a copy of cfg.LoginPage with its URL filled in
// (base + "/login" when empty) and the engine's WebAuthn origins (the page
// offers passkeys when its own origin is one of them), and adds the page's
// mailed-link addresses to cfg.RedirectURLs; nil when there is no page.
func loginPageSettings(cfg *Config, base string) (*loginpage.Config, error) {
	if cfg.LoginPage == nil {
		return nil, nil
	}
	lc := *cfg.LoginPage
	if lc.URL == "" {
		lc.URL = base + "/login"
	}
	if len(lc.WebAuthnOrigins) == 0 {
		lc.WebAuthnOrigins = slices.Clone(cfg.WebAuthnOrigins)
	}
	links, err := loginpage.LinkURLs(lc.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	cfg.RedirectURLs = append(slices.Clone(cfg.RedirectURLs), links...)
	return &lc, nil
}

// offerProviders has the login page offer every social login provider of
// the providers document doc (checked by oauthSettings), unless its
// configuration names its own, with the public token their start URLs
// carry.
func offerProviders(lc *loginpage.Config, doc []byte, publicToken string) {
	providers, _ := oauth.ParseProviders(doc)
	if len(lc.OAuthProviders) == 0 {
		for _, p := range providers {
			lc.OAuthProviders = append(lc.OAuthProviders, loginpage.OAuthProvider{Name: p.Name})
		}
	}
	if lc.PublicToken == "" {
		lc.PublicToken = publicToken
	}
}
