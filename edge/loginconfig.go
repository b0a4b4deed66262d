package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchauth/latch/wasm/loginpage"
)

// Names of the login page's settings (wrangler.toml, .dev.vars). The page
// is off unless LATCH_LOGIN_URL is set. See edge/README.md, "The hosted
// login page on the Worker", and API.md, "Hosted login page".
const (
	varLoginURL        = "LATCH_LOGIN_URL"
	varLoginReturnURLs = "LATCH_LOGIN_RETURN_URLS"
	varLoginDomain     = "LATCH_LOGIN_COOKIE_DOMAIN"
	varLoginMinutes    = "LATCH_LOGIN_SESSION_MINUTES"
	varLoginLogo       = "LATCH_LOGIN_LOGO_URL"
	varLoginAccent     = "LATCH_LOGIN_ACCENT_COLOR"
	varLoginBackground = "LATCH_LOGIN_BACKGROUND_COLOR"
	varLoginText       = "LATCH_LOGIN_TEXT_COLOR"
)

// parseLoginConfig reads the login page's settings through get; nil when
// the page is off. API and the project credentials are the caller's to
// fill in; loginpage.New checks the rest. Its errors name the setting at
// fault.
func parseLoginConfig(get func(string) string) (*loginpage.Config, error) {
	pageURL := strings.TrimSpace(get(varLoginURL))
	if pageURL == "" {
		return nil, nil
	}
	c := &loginpage.Config{
		URL:          pageURL,
		CookieDomain: strings.TrimSpace(get(varLoginDomain)),
		Name:         get(varProjectName),
		LogoURL:      strings.TrimSpace(get(varLoginLogo)),
		Colors: loginpage.Colors{
			Accent:     strings.TrimSpace(get(varLoginAccent)),
			Background: strings.TrimSpace(get(varLoginBackground)),
			Text:       strings.TrimSpace(get(varLoginText)),
		},
		ClientIP: cfConnectingIP,
	}
	for _, u := range strings.Split(get(varLoginReturnURLs), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.ReturnURLs = append(c.ReturnURLs, u)
		}
	}
	if len(c.ReturnURLs) == 0 {
		return nil, errors.New(varLoginReturnURLs + " is not set")
	}
	if m := strings.TrimSpace(get(varLoginMinutes)); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s is not a positive number of minutes", varLoginMinutes)
		}
		c.SessionDurationMinutes = n
	}
	return c, nil
}

// cfConnectingIP names the client of a request, for the login page and
// the SDK surface: Cloudflare sets CF-Connecting-IP on every request it
// hands the Worker, and a client cannot choose it.
func cfConnectingIP(r *http.Request) string { return r.Header.Get("CF-Connecting-IP") }
