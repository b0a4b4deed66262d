//go:build !js

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/conformance"
)

// TestOAuthInBrowser signs in through identity providers in headless
// Chromium against the Worker on workerd, the whole redirect chain
// followed by the browser: the conformance suite's OpenID provider
// (hashicorp/cap's test provider, with its login form) and its GitHub
// fake, both in the test process, which the Worker reaches through its
// outbound fetch. Latch is served as http://localhost:<port> and the
// providers and the app on 127.0.0.1, so that every hop between them is
// cross-site, as between a real provider and Latch.
//
//   - The hosted login page: "Continue with acme", the provider's form
//     (alice / pw-alice), Latch's callback, the page's return step, and the
//     browser is back at the app with the session cookies, which the API
//     accepts. The user then enrols an authenticator app; signing in the
//     same way in another browser stops at the second step, holding no
//     session, until the app's code.
//   - Stytch's SDK (@stytch/vanilla-js as package.json pins it) on the
//     app's page: stytch.oauth.github.start, GitHub's authorize page
//     (octocat), back to the app's page, where stytch.oauth.authenticate
//     starts a 30-minute session the SDK holds and the API accepts; the
//     token is refused a second time.
//
// Screenshots go to LATCH_ARTIFACTS (default .artifacts in the
// repository), under browser-oauth.
func TestOAuthInBrowser(t *testing.T) {
	t.Parallel()
	js, chromium := sdkRequire(t)
	RequireWrangler(t)
	shots := artifactDir(t, "browser-oauth")

	prov := conformance.StartProviders(t, nil)
	port, release, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release) // after the Worker's Close, registered later
	base := fmt.Sprintf("http://localhost:%d", port)
	prov.AllowCallback(base + "/v1/oauth/callback")
	appLn, app := sdkListen(t)
	loginURL := base + "/login"
	w := Start(t, Options{Port: port, SDKOrigins: []string{app}, OAuthProviders: prov.Document(), BaseURL: base,
		MoreVars: map[string]string{
			"LATCH_PROJECT_NAME":      "Acme",
			"LATCH_LOGIN_URL":         loginURL,
			"LATCH_LOGIN_RETURN_URLS": app + "/",
			"LATCH_REDIRECT_URLS":     app + "/oauth-return",
		},
		Log: testLog{t},
	})
	sdkServePages(t, appLn, js, sdkSettings{PublicToken: w.PublicToken, API: base, Frame: base + sdkFramePath})
	o := &oauthRun{prov: prov, app: app, base: base, loginURL: loginURL, shots: shots, browser: sdkBrowser(t, chromium),
		api: &apitest.Client{URL: w.URL, ProjectID: w.ProjectID, Secret: w.Secret}}
	t.Run("login page", func(t *testing.T) {
		t.Parallel()
		o.pageFlow(t)
	})
	t.Run("sdk", func(t *testing.T) {
		t.Parallel()
		o.sdkFlow(t)
	})
}

// oauthRun is what TestOAuthInBrowser's flows share.
type oauthRun struct {
	prov                       *conformance.Providers
	api                        *apitest.Client
	browser                    context.Context
	app, base, loginURL, shots string
}

// waitFor waits until the tab's location starts with prefix, through any
// number of redirects and pages.
func waitFor(t *testing.T, tab context.Context, what, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	loc := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		l, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil {
			if loc = l; strings.HasPrefix(loc, prefix) {
				return loc
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: at %s, want %s…", what, loc, prefix)
	return ""
}

// throughProvider signs in as login at the OpenID provider's form the
// page's "Continue with acme" leads to, and waits for the browser to
// leave the provider.
func (o *oauthRun) throughProvider(t *testing.T, tab context.Context, login string, shot bool) {
	t.Helper()
	acct, _ := o.prov.Account(login)
	do(t, tab, "open the login page", chromedp.Navigate(o.loginURL+"?return_to="+url.QueryEscape(o.app+"/welcome")))
	do(t, tab, "wait for Continue with acme", chromedp.WaitVisible(chromedp.ID("oauth-"+conformance.ProviderOIDC)))
	if text := get(t, tab, "the link's text", chromedp.Text(chromedp.ID("oauth-"+conformance.ProviderOIDC))); text != "Continue with acme" {
		t.Errorf("the link reads %q", text)
	}
	if shot {
		sdkShot(t, tab, o.shots, "1-login-page")
	}
	do(t, tab, "Continue with acme", chromedp.Click(chromedp.ID("oauth-"+conformance.ProviderOIDC)))
	do(t, tab, "wait for the provider's form", chromedp.WaitVisible(chromedp.ID("username")))
	if shot {
		sdkShot(t, tab, o.shots, "2-provider")
	}
	do(t, tab, "sign in at the provider",
		chromedp.SendKeys(chromedp.ID("username"), acct.Login),
		chromedp.SendKeys(chromedp.ID("password"), acct.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
}

// session checks the browser's session cookies for Latch's host, and
// that the API knows their session, of the user with email, with the
// factors want; it returns the session's user.
func (o *oauthRun) session(t *testing.T, tab context.Context, email string, want []string) string {
	t.Helper()
	userID, _ := cookieSession(t, tab, o.api, o.base, email, want)
	if jar := cookies(t, tab, o.loginURL+"/oauth"); jar["latch_oauth_verifier"] != nil {
		t.Errorf("the OAuth verifier cookie is left after signing in")
	}
	return userID
}

// pageFlow: the hosted login page's "Continue with acme", then with an
// authenticator app.
func (o *oauthRun) pageFlow(t *testing.T) {
	const login = "alice"
	acct, _ := o.prov.Account(login)
	tab := browserTab(t, o.browser)
	o.throughProvider(t, tab, login, true)
	waitFor(t, tab, "back at the app", o.app+"/welcome")
	sdkShot(t, tab, o.shots, "3-signed-in")
	userID := o.session(t, tab, acct.Email, []string{"oauth"})

	// An authenticator app for the user; then another browser.
	ctx := context.Background()
	status, totp, err := o.api.Do(ctx, http.MethodPost, "/v1/totps", map[string]any{"user_id": userID})
	if err != nil || status != http.StatusOK {
		t.Fatalf("enrol: %d %v %v", status, totp, err)
	}
	secret, _ := totp["secret"].(string)
	now := time.Now().Unix()
	if status, res, err := o.api.Do(ctx, http.MethodPost, "/v1/totps/authenticate", map[string]any{"user_id": userID,
		"totp_code": apitest.TOTP(t, secret, now)}); err != nil || status != http.StatusOK {
		t.Fatalf("verify the app: %d %v %v", status, res, err)
	}
	other := browserTab(t, o.browser)
	o.throughProvider(t, other, login, false)
	do(t, other, "wait for the second step", chromedp.WaitVisible(chromedp.ID("totp")))
	sdkShot(t, other, o.shots, "4-second-step")
	if loc := get(t, other, "location", chromedp.Location()); !strings.HasPrefix(loc, o.loginURL+"/oauth?") {
		t.Errorf("the second step at %s, want the page's return step", loc)
	}
	if jar := cookies(t, other, o.base); jar["stytch_session"] != nil || jar["stytch_session_jwt"] != nil {
		t.Errorf("session cookies before the second factor: %v", jar)
	}
	if jar := cookies(t, other, o.loginURL+"/totp"); jar["latch_pending"] == nil {
		t.Errorf("no latch_pending at the second step: %v", jar)
	}
	do(t, other, "enter the app's code", chromedp.SendKeys(chromedp.ID("totp"), apitest.TOTP(t, secret, now+30)))
	do(t, other, "verify", chromedp.Click(chromedp.ID("totp-submit")))
	waitFor(t, other, "back at the app after the second step", o.app+"/welcome")
	o.session(t, other, acct.Email, []string{"oauth", "totp"})
}

// sdkFlow: stytch.oauth.github.start on the app's page, GitHub's
// authorize page, and stytch.oauth.authenticate back on the app's page.
func (o *oauthRun) sdkFlow(t *testing.T) {
	const login = "octocat"
	acct, _ := o.prov.Account(login)
	back := o.app + "/oauth-return"
	tab := sdkTab(t, o.browser, o.app+"/")
	// Not awaited: start ends by sending the page away.
	get(t, tab, "stytch.oauth.github.start", chromedp.Evaluate[bool](fmt.Sprintf(
		`(sdk().oauth.github.start({login_redirect_url: %q, signup_redirect_url: %q}), true)`, back, back)))
	do(t, tab, "wait for GitHub's authorize page", chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	sdkShot(t, tab, o.shots, "1-github")
	do(t, tab, "authorize at GitHub",
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), acct.Login),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	loc := waitFor(t, tab, "back at the app's page", back+"?")
	u, _ := url.Parse(loc)
	if u.Query().Get("stytch_token_type") != "oauth" || u.Query().Get("token") == "" {
		t.Fatalf("back at %s without stytch_token_type=oauth and a token", u.Redacted())
	}
	get(t, tab, "wait for the page's scripts", chromedp.Poll[bool](`typeof window.call === 'function'`))
	var got sdkSignedIn
	sdkMust(t, tab, "oauth.authenticate", &got, sdkReport(`() =>
  sdk().oauth.authenticate(new URLSearchParams(location.search).get('token'), {session_duration_minutes: 30})`))
	sdkShot(t, tab, o.shots, "2-signed-in")
	a := got.Auth
	if a.SessionToken == "" || a.SessionJWT == "" || a.Session.SessionID == "" {
		t.Fatalf("no session: %+v", a)
	}
	if !slices.Contains(a.User.Emails, sdkEmail{Email: acct.Email}) || a.User.UserID != a.Session.UserID {
		t.Errorf("user %+v, session's user %s; want %s", a.User, a.Session.UserID, acct.Email)
	}
	if !slices.Contains(a.Session.Factors, sdkFactor{Type: "oauth"}) {
		t.Errorf("factors %v, want oauth", a.Session.Factors)
	}
	exp, err := time.Parse(time.RFC3339, a.Session.ExpiresAt)
	if left := time.Until(exp); err != nil || left < 28*time.Minute || left > 31*time.Minute {
		t.Errorf("session expires_at %q: want 30 minutes from now", a.Session.ExpiresAt)
	}
	if got.Cookies["stytch_session"] != a.SessionToken || got.Held == nil || *got.Held != a.Session.SessionID {
		t.Errorf("the SDK holds cookies %v, session %v; want session %s", got.Cookies, got.Held, a.Session.SessionID)
	}
	status, res, err := o.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": a.SessionToken})
	if s, _ := res["session"].(map[string]any); err != nil || status != http.StatusOK || s["session_id"] != a.Session.SessionID {
		t.Errorf("the API's answer for the SDK's session: %d %v %v", status, res, err)
	}
	again := sdkCall(t, tab, "oauth.authenticate again", `async (token) => sdk().oauth.authenticate(token, {session_duration_minutes: 30})`,
		u.Query().Get("token"))
	if again.Error == nil || again.Error.Name != "StytchAPIError" || again.Error.ErrorType != "unable_to_auth_oauth_token" {
		t.Errorf("the token used twice: %s %+v; want unable_to_auth_oauth_token", again.OK, again.Error)
	}
}
