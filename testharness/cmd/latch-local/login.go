package main

import (
	"flag"

	"github.com/latchauth/latch/wasm/loginpage"
)

// loginFlags are the hosted login page's settings. The page is on when
// at least one -login-return-url is given. See testharness/README.md,
// "The login page in latch-local", and API.md, "Hosted login page".
type loginFlags struct {
	url, domain, logo        string
	accent, background, text string
	minutes                  int
	returns                  stringList
}

func (l *loginFlags) register(fl *flag.FlagSet) {
	fl.Var(&l.returns, "login-return-url", "serve the hosted login page, which may send browsers back to this URL (a path ending in / allows the paths under it); repeatable, the first is the default")
	fl.StringVar(&l.url, "login-url", "", "the login page's public URL (default http://127.0.0.1:<port>/login)")
	fl.StringVar(&l.domain, "login-cookie-domain", "", "Domain of the session cookies the login page sets (host-only when empty)")
	fl.IntVar(&l.minutes, "login-session-minutes", 0, "lifetime of the sessions the login page starts (default 7 days)")
	fl.StringVar(&l.logo, "login-logo-url", "", "logo shown on the login page (https, or http to loopback)")
	fl.StringVar(&l.accent, "login-accent-color", "", "login page accent colour, #rgb or #rrggbb")
	fl.StringVar(&l.background, "login-background-color", "", "login page background colour")
	fl.StringVar(&l.text, "login-text-color", "", "login page text colour")
}

// config returns the page's settings, or nil when the page is off;
// wazerohost.New checks them.
func (l *loginFlags) config(projectName string) *loginpage.Config {
	if len(l.returns) == 0 {
		return nil
	}
	return &loginpage.Config{
		URL: l.url, ReturnURLs: l.returns, CookieDomain: l.domain, SessionDurationMinutes: l.minutes,
		Name: projectName, LogoURL: l.logo,
		Colors: loginpage.Colors{Accent: l.accent, Background: l.background, Text: l.text},
	}
}
