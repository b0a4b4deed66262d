//go:build !js

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/latchauth/latch/testharness/apitest"
)

// TestPasskeyOnLoginPage signs in with a passkey on the hosted login page
// of a Worker on workerd, in headless Chromium with Chrome's virtual
// authenticator (CDP WebAuthn: a platform authenticator holding
// discoverable credentials, verifying its user). The Worker is served as
// http://localhost:<port>, with its own origin in LATCH_WEBAUTHN_ORIGINS:
// localhost is the relying party ID (an IP address is not one). The
// passkey of a user made through the API is registered from a tab on that
// origin (register/start from the test, navigator.credentials.create in
// the tab, register from the test); then "Sign in with a passkey", which
// the page's one script runs, pinned by hash in its CSP.
//
//   - A user signs in: the browser is back at the app with the session
//     cookies, which the API accepts, a session with the webauthn factor.
//   - A user with an authenticator app signs in the same way, without the
//     second step: a passkey that verified its user is two factors.
//   - A browser without PublicKeyCredential's JSON helpers
//     (parseRequestOptionsFromJSON, toJSON) signs in too: the script
//     converts the options and the credential itself.
//   - After the registration is deleted through the API, the button leads
//     to the page's error, and no session.
//
// Screenshots go to LATCH_ARTIFACTS (default .artifacts in the
// repository), under browser-passkey.
func TestPasskeyOnLoginPage(t *testing.T) {
	t.Parallel()
	RequireWrangler(t)
	chromium := requireChromium(t)
	shots := artifactDir(t, "browser-passkey")

	port, release, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release) // after the Worker's Close, registered later
	base := fmt.Sprintf("http://localhost:%d", port)
	appLn, app := sdkListen(t)
	appSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Acme app</title><h1 id="app">Acme app</h1>`)
	}))
	appSrv.Listener.Close()
	appSrv.Listener = appLn
	appSrv.Start()
	t.Cleanup(appSrv.Close)

	loginURL := base + "/login"
	w := Start(t, Options{Port: port, MoreVars: map[string]string{
		"LATCH_PROJECT_NAME":      "Acme",
		"LATCH_LOGIN_URL":         loginURL,
		"LATCH_LOGIN_RETURN_URLS": app + "/",
		"LATCH_WEBAUTHN_ORIGINS":  base,
	}})
	p := &passkeyRun{base: base, loginURL: loginURL, app: app, shots: shots, browser: sdkBrowser(t, chromium),
		api: &apitest.Client{URL: w.URL, ProjectID: w.ProjectID, Secret: w.Secret}}

	t.Run("sign in", func(t *testing.T) {
		t.Parallel()
		tab := p.tab(t)
		userID := p.user(t, "pia@example.com")
		p.register(t, tab, userID)
		p.signIn(t, tab, true)
		p.session(t, tab, "pia@example.com")
	})
	t.Run("with an authenticator app", func(t *testing.T) {
		t.Parallel()
		tab := p.tab(t)
		userID := p.user(t, "tess@example.com")
		p.enrolApp(t, userID)
		p.register(t, tab, userID)
		p.signIn(t, tab, false)
		p.session(t, tab, "tess@example.com")
	})
	t.Run("without the JSON helpers", func(t *testing.T) {
		t.Parallel()
		tab := p.tab(t)
		userID := p.user(t, "olga@example.com")
		p.register(t, tab, userID)
		// A browser older than PublicKeyCredential's JSON helpers: the
		// script converts the options and the credential itself.
		ctx, cancel := context.WithTimeout(tab, stepTimeout)
		defer cancel()
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `delete PublicKeyCredential.parseRequestOptionsFromJSON; delete PublicKeyCredential.prototype.toJSON;`}); err != nil {
			t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
		}
		p.signIn(t, tab, false)
		p.session(t, tab, "olga@example.com")
		if got := get(t, tab, "the helpers", chromedp.Evaluate[string](
			`typeof PublicKeyCredential.parseRequestOptionsFromJSON + " " + typeof PublicKeyCredential.prototype.toJSON`)); got != "undefined undefined" {
			t.Errorf("the JSON helpers were there: %s", got)
		}
	})
	t.Run("deleted registration", func(t *testing.T) {
		t.Parallel()
		tab := p.tab(t)
		userID := p.user(t, "gone@example.com")
		regID := p.register(t, tab, userID)
		if status, res, err := p.api.Do(context.Background(), http.MethodDelete, "/v1/users/webauthn_registrations/"+regID, nil); err != nil || status != http.StatusOK {
			t.Fatalf("delete the registration: %d %v %v", status, res, err)
		}
		p.open(t, tab)
		do(t, tab, "Sign in with a passkey", chromedp.Click(chromedp.ID("passkey-submit")))
		do(t, tab, "wait for the page's error", chromedp.WaitVisible(chromedp.CSS(`#error p.error`)))
		if msg := get(t, tab, "alert", chromedp.Text(chromedp.CSS(`#error[role="alert"]`))); !strings.Contains(msg, "That passkey could not sign you in") {
			t.Errorf("alert %q", msg)
		}
		if loc := get(t, tab, "location", chromedp.Location()); !strings.HasPrefix(loc, p.loginURL) {
			t.Errorf("at %s, want the login page", loc)
		}
		if jar := cookies(t, tab, p.base); jar["stytch_session"] != nil || jar["stytch_session_jwt"] != nil || jar["latch_pending"] != nil {
			t.Errorf("cookies after a deleted passkey: %v", jar)
		}
		saveShot(t, tab, p.shots, "refused")
	})
}

// passkeyRun is what TestPasskeyOnLoginPage's flows share.
type passkeyRun struct {
	api                        *apitest.Client
	browser                    context.Context
	base, loginURL, app, shots string
}

// tab opens a tab in a browser context of its own, with a virtual
// authenticator: a platform passkey provider that verifies its user and
// answers at once.
func (p *passkeyRun) tab(t *testing.T) context.Context {
	t.Helper()
	tab := browserTab(t, p.browser)
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}}); err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return tab
}

// must makes an API call that must answer 200.
func (p *passkeyRun) must(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	status, res, err := p.api.Do(context.Background(), method, path, body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("%s %s: %d %v %v", method, path, status, res, err)
	}
	return res
}

// user creates a user and returns its id.
func (p *passkeyRun) user(t *testing.T, email string) string {
	t.Helper()
	return fmt.Sprint(p.must(t, http.MethodPost, "/v1/users", map[string]any{"email": email})["user_id"])
}

// enrolApp gives the user a verified authenticator app.
func (p *passkeyRun) enrolApp(t *testing.T, userID string) {
	t.Helper()
	totp := p.must(t, http.MethodPost, "/v1/totps", map[string]any{"user_id": userID})
	secret, _ := totp["secret"].(string)
	p.must(t, http.MethodPost, "/v1/totps/authenticate", map[string]any{"user_id": userID,
		"totp_code": apitest.TOTP(t, secret, time.Now().Unix())})
}

// register registers a passkey of the user in the tab's authenticator, as
// an app would: the options from the API, navigator.credentials.create on
// the Worker's origin, the credential back to the API. It returns the
// registration's id.
func (p *passkeyRun) register(t *testing.T, tab context.Context, userID string) string {
	t.Helper()
	do(t, tab, "open a page of the Worker's origin", chromedp.Navigate(p.loginURL))
	start := p.must(t, http.MethodPost, "/v1/webauthn/register/start", map[string]any{"user_id": userID, "domain": "localhost",
		"return_passkey_credential_options": true, "use_base64_url_encoding": true})
	options, _ := start["public_key_credential_creation_options"].(string)
	cred := get(t, tab, "navigator.credentials.create", chromedp.Evaluate[string](`(async (o) => {
		const c = await navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o)});
		return JSON.stringify(c.toJSON());
	})(`+options+`)`, chromedp.EvalAwaitPromise))
	reg := p.must(t, http.MethodPost, "/v1/webauthn/register", map[string]any{"user_id": userID, "public_key_credential": cred})
	return fmt.Sprint(reg["webauthn_registration_id"])
}

// open opens the login page, returning to the app, and waits for the
// passkey button, which only the page's script shows.
func (p *passkeyRun) open(t *testing.T, tab context.Context) {
	t.Helper()
	do(t, tab, "open the login page", chromedp.Navigate(p.loginURL+"?return_to="+url.QueryEscape(p.app+"/")))
	do(t, tab, "wait for Sign in with a passkey", chromedp.WaitVisible(chromedp.ID("passkey-submit")))
	if text := get(t, tab, "the button's text", chromedp.Text(chromedp.ID("passkey-submit"))); text != "Sign in with a passkey" {
		t.Errorf("the button reads %q", text)
	}
}

// signIn clicks "Sign in with a passkey" and waits to be back at the app.
func (p *passkeyRun) signIn(t *testing.T, tab context.Context, shot bool) {
	t.Helper()
	p.open(t, tab)
	if shot {
		saveShot(t, tab, p.shots, "login-page")
	}
	do(t, tab, "Sign in with a passkey", chromedp.Click(chromedp.ID("passkey-submit")))
	waitFor(t, tab, "back at the app", p.app+"/")
	do(t, tab, "wait for the app", chromedp.WaitVisible(chromedp.ID("app")))
	if shot {
		saveShot(t, tab, p.shots, "signed-in")
	}
}

// session checks the browser's session cookies for the Worker's host and
// that the API takes both as a session of the user with email whose one
// factor is the passkey; and that no second step is held.
func (p *passkeyRun) session(t *testing.T, tab context.Context, email string) {
	t.Helper()
	_, factors := cookieSession(t, tab, p.api, p.base, email, []string{"webauthn"})
	for _, f := range factors {
		if f["delivery_method"] != "webauthn_registration" {
			t.Errorf("webauthn factor %v", f)
		}
	}
	if jar := cookies(t, tab, p.loginURL); jar["latch_pending"] != nil {
		t.Errorf("a second step is held: %v", jar)
	}
}
