package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/latchauth/latch/wasm/sdk"
)

// Names of the SDK surface's settings (wrangler.toml, .dev.vars). The
// surface Stytch's frontend SDKs call, /sdk/v1/..., is off unless
// LATCH_PUBLIC_TOKEN is set, and, with social login's
// LATCH_OAUTH_PROVIDERS, unless LATCH_SDK_ORIGINS is too. See edge/README.md, "Settings".
const (
	varPublicToken     = "LATCH_PUBLIC_TOKEN"
	varSDKOrigins      = "LATCH_SDK_ORIGINS"
	varSDKCookieDomain = "LATCH_SDK_COOKIE_DOMAIN" // set: the HttpOnly mode, on this domain
)

// parseSDKConfig reads the SDK surface's settings through get; nil when
// the surface is off. API, the project credentials and the logger are the
// caller's to fill in; sdk.New checks the token against the project. Its
// errors name the setting at fault.
func parseSDKConfig(get func(string) string) (*sdk.Config, error) {
	token := strings.TrimSpace(get(varPublicToken))
	if token == "" {
		return nil, nil
	}
	c := &sdk.Config{
		PublicToken: token,
		ProjectName: get(varProjectName),
		ClientIP:    cfConnectingIP,
	}
	for _, raw := range strings.Split(get(varSDKOrigins), ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		o, err := sdk.ParseOrigin(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", varSDKOrigins, err)
		}
		c.Origins = append(c.Origins, o)
	}
	if len(c.Origins) == 0 {
		if strings.TrimSpace(get(secretOAuthProviders)) != "" {
			// The token names the project in social login's start URLs
			// only; the surface stays off until origins are named.
			return nil, nil
		}
		return nil, errors.New(varSDKOrigins + " is not set")
	}
	// The HttpOnly mode: the surface sets the session cookies itself, on
	// this domain (sdk.Config.HTTPOnlyCookies); "." alone asks for
	// host-only cookies.
	if d := strings.TrimSpace(get(varSDKCookieDomain)); d != "" {
		c.HTTPOnlyCookies = true
		if d != "." {
			c.CookieDomain = d
		}
	}
	return c, nil
}
