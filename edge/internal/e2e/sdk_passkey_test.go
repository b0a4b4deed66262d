//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/mailbox"
)

// TestSDKPasskeyInBrowser runs Stytch's frontend SDK, unchanged, in
// headless Chromium with Chromium's virtual authenticator (the DevTools
// WebAuthn domain: a CTAP2 platform authenticator that keeps resident
// keys and verifies its user) as the user's passkey, against the Worker
// on workerd and against latch-local. The app's page is on
// http://localhost:<port>, a secure context whose host is the relying
// party ID, "localhost"; the host allows that origin for the SDK and for
// WebAuthn. On each host:
//
//   - signed in by emailed code, stytch.webauthn.register adds a passkey:
//     the SDK's session gains the webauthn factor, the API lists the
//     registration and the authenticator holds the credential, its user
//     handle the user's id;
//   - signed out (session.revoke), stytch.webauthn.authenticate signs in
//     with the discoverable passkey (authenticate/start/primary): a new
//     session with the webauthn factor, accepted by the API;
//   - signed in, it asks for the caller's own credentials
//     (authenticate/start/secondary) and keeps the session;
//   - stytch.webauthn.update names the registration, as the API then
//     reads it.
//
// All of a host's calls come from one client: 1 that mails and 7 that
// check a secret, within the surface's per-client limits (see
// TestSDKInBrowser) and the Worker's LOGIN_LIMIT binding.
//
// Screenshots go to LATCH_ARTIFACTS (default .artifacts in the
// repository), under browser-sdk.
func TestSDKPasskeyInBrowser(t *testing.T) {
	t.Parallel()
	js, chromium := sdkRequire(t)
	shots := artifactDir(t, "browser-sdk")
	for _, host := range []struct {
		name  string
		start func(t *testing.T, page string) sdkHost
	}{
		{name: "workerd", start: sdkPasskeyOnWorkerd},
		{name: "latch-local", start: sdkPasskeyOnLatchLocal},
	} {
		t.Run(host.name, func(t *testing.T) {
			t.Parallel()
			pageLn, page := sdkListenLocalhost(t)
			latch := host.start(t, page)
			sdkServePages(t, pageLn, js, sdkSettings{PublicToken: latch.publicToken, API: latch.url, Frame: latch.url + sdkFramePath})
			b := &sdkRun{
				latch: latch, page: page, shots: shots,
				api:     &apitest.Client{URL: latch.url, ProjectID: latch.projectID, Secret: latch.secret},
				browser: sdkBrowser(t, chromium),
			}
			b.passkeyFlow(t)
		})
	}
}

// sdkListenLocalhost is sdkListen with the page's origin named
// http://localhost:<port>: a browser takes "localhost" as a relying party
// ID, and an IP address not.
func sdkListenLocalhost(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, _ := sdkListen(t)
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://localhost:" + port
}

// sdkPasskeyOnWorkerd starts the Worker on workerd for the page's origin,
// for the SDK and for WebAuthn.
func sdkPasskeyOnWorkerd(t *testing.T, page string) sdkHost {
	box := mailbox.New(0)
	w := Start(t, Options{
		SDKOrigins: []string{page},
		LoginLimit: 30,
		MoreVars: map[string]string{
			"LATCH_MAIL":             "send_email",
			"LATCH_MAIL_FROM":        sdkMailFrom,
			"LATCH_WEBAUTHN_ORIGINS": page,
		},
		Log: newMailFiles(t, box, testLog{t}),
	})
	return sdkHost{url: w.URL, publicToken: w.PublicToken, projectID: w.ProjectID, secret: w.Secret, mail: sdkBox{box}}
}

// sdkPasskeyOnLatchLocal builds and runs latch-local for the page's
// origin, for the SDK and for WebAuthn, as sdkOnLatchLocal does.
func sdkPasskeyOnLatchLocal(t *testing.T, page string) sdkHost {
	t.Helper()
	dir := t.TempDir()
	banner := sdkRunLatchLocal(t, sdkBuildLatchLocal(t, dir), []string{
		"-port", "0", "-db", filepath.Join(dir, "latch.db"), "-mailbox", "127.0.0.1:0",
		"-sdk-origin", page, "-webauthn-origin", page, "-mail-from", sdkMailFrom,
	})
	for _, name := range []string{"serving", "project_id", "secret", "public_token", "mailbox"} {
		if banner[name] == "" {
			t.Fatalf("latch-local's banner has no %s: %v", name, banner)
		}
	}
	return sdkHost{url: banner["serving"], publicToken: banner["public_token"], projectID: banner["project_id"],
		secret: banner["secret"], mail: sdkMailPage{url: strings.TrimSuffix(banner["mailbox"], "/")}}
}

// sdkPasskey is the page's report after a webauthn call: the SDK's
// answer as sdkSignedIn reads it, and the registration it names.
type sdkPasskey struct {
	sdkSignedIn
	registrationID string
}

// sdkPasskeyCall runs a webauthn call of the SDK that signs in (call, as
// sdkReport takes it), which must succeed.
func sdkPasskeyCall(t *testing.T, tab context.Context, what, call string) sdkPasskey {
	t.Helper()
	var raw json.RawMessage
	sdkMust(t, tab, what, &raw, sdkReport(call))
	var got sdkPasskey
	var reg struct {
		Auth struct {
			RegistrationID string `json:"webauthn_registration_id"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(raw, &got.sdkSignedIn); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
	if err := json.Unmarshal(raw, &reg); err != nil || reg.Auth.RegistrationID == "" {
		t.Fatalf("%s: no webauthn_registration_id in %s (%v)", what, raw, err)
	}
	got.registrationID = reg.Auth.RegistrationID
	return got
}

// passkeyFlow: sign in by emailed code, register a passkey, sign out, sign
// in with the passkey, step up with it, name it.
func (b *sdkRun) passkeyFlow(t *testing.T) {
	const email = "sdk-passkey@example.com"
	tab := sdkTab(t, b.browser, b.page+"/")
	authenticator := sdkVirtualAuthenticator(t, tab)

	var sent struct {
		MethodID string `json:"method_id"`
		UserID   string `json:"user_id"`
	}
	sdkMust(t, tab, "otps.email.loginOrCreate", &sent,
		`async (email) => sdk().otps.email.loginOrCreate(email, {expiration_minutes: 5})`, email)
	var otp sdkSignedIn
	sdkMust(t, tab, "otps.authenticate", &otp,
		sdkReport(`(code, methodID) => sdk().otps.authenticate(code, methodID, {session_duration_minutes: 60})`),
		b.code(t, email), sent.MethodID)
	b.signedIn(t, otp, email, "otp")
	userID := otp.Auth.UserID
	sdkPasskeyShot(t, tab, b.shots, "1-signed-in", "Signed in by emailed code as "+email)

	reg := sdkPasskeyCall(t, tab, "webauthn.register",
		`() => sdk().webauthn.register({domain: 'localhost', is_passkey: true, session_duration_minutes: 60})`)
	b.signedIn(t, reg.sdkSignedIn, email, "webauthn")
	if reg.Auth.Session.SessionID != otp.Auth.Session.SessionID || !slices.Contains(reg.Auth.Session.Factors, sdkFactor{Type: "otp"}) {
		t.Errorf("webauthn.register: session %s with factors %v, want the code's session %s with otp and webauthn",
			reg.Auth.Session.SessionID, reg.Auth.Session.Factors, otp.Auth.Session.SessionID)
	}
	regs := b.passkeyRegistrations(t, userID)
	if len(regs) != 1 || regs[0]["webauthn_registration_id"] != reg.registrationID || regs[0]["domain"] != "localhost" || regs[0]["user_agent"] == "" {
		t.Errorf("the API's webauthn_registrations after webauthn.register: %v, want %s on localhost with the browser's user agent", regs, reg.registrationID)
	}
	sdkAuthenticatorHolds(t, tab, authenticator, userID)
	sdkPasskeyShot(t, tab, b.shots, "2-registered", "Passkey registered: "+reg.registrationID)

	b.sessionCalls(t, tab, reg.Auth)
	in := sdkPasskeyCall(t, tab, "webauthn.authenticate signed out",
		`() => sdk().webauthn.authenticate({domain: 'localhost', is_passkey: true, session_duration_minutes: 60})`)
	b.signedIn(t, in.sdkSignedIn, email, "webauthn")
	if in.Auth.UserID != userID || in.registrationID != reg.registrationID || in.Auth.Session.SessionID == reg.Auth.Session.SessionID {
		t.Errorf("webauthn.authenticate signed out: user %s, registration %s, session %s; want %s, %s and a new session",
			in.Auth.UserID, in.registrationID, in.Auth.Session.SessionID, userID, reg.registrationID)
	}
	sdkPasskeyShot(t, tab, b.shots, "3-passkey-sign-in", "Signed in with the passkey: "+in.Auth.Session.SessionID)

	again := sdkPasskeyCall(t, tab, "webauthn.authenticate signed in",
		`() => sdk().webauthn.authenticate({domain: 'localhost', is_passkey: true, session_duration_minutes: 60})`)
	b.signedIn(t, again.sdkSignedIn, email, "webauthn")
	if again.Auth.Session.SessionID != in.Auth.Session.SessionID {
		t.Errorf("webauthn.authenticate signed in: session %s, want the caller's %s", again.Auth.Session.SessionID, in.Auth.Session.SessionID)
	}
	paths := get(t, tab, "the SDK's webauthn calls", chromedp.Evaluate[[]string](
		`sdkLog.map(e => new URL(e.url).pathname).filter(p => p.includes('/webauthn/authenticate/start/'))`))
	if want := []string{"/sdk/v1/webauthn/authenticate/start/primary", "/sdk/v1/webauthn/authenticate/start/secondary"}; !slices.Equal(paths, want) {
		t.Errorf("the SDK began its sign-ins at %v, want %v", paths, want)
	}

	var named struct {
		Registration struct {
			ID   string `json:"webauthn_registration_id"`
			Name string `json:"name"`
		} `json:"webauthn_registration"`
	}
	sdkMust(t, tab, "webauthn.update", &named,
		`async (id) => sdk().webauthn.update({webauthn_registration_id: id, name: 'Laptop'})`, reg.registrationID)
	if named.Registration.ID != reg.registrationID || named.Registration.Name != "Laptop" {
		t.Errorf("webauthn.update: %+v, want %s named Laptop", named.Registration, reg.registrationID)
	}
	if regs := b.passkeyRegistrations(t, userID); len(regs) != 1 || regs[0]["name"] != "Laptop" {
		t.Errorf("the API's webauthn_registrations after webauthn.update: %v, want one named Laptop", regs)
	}
	sdkPasskeyShot(t, tab, b.shots, "4-named", "Passkey named Laptop")
}

// passkeyRegistrations are the user's webauthn_registrations as the
// project's backend reads them.
func (b *sdkRun) passkeyRegistrations(t *testing.T, userID string) []map[string]any {
	t.Helper()
	status, res, err := b.api.Do(context.Background(), http.MethodGet, "/v1/users/"+userID, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /v1/users/%s: %d %v %v", userID, status, res, err)
	}
	list, _ := res["webauthn_registrations"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}

// sdkVirtualAuthenticator gives the tab Chromium's virtual authenticator,
// a platform passkey provider that keeps resident keys, verifies its user
// and is touched at once, and returns its id.
func sdkVirtualAuthenticator(t *testing.T, tab context.Context) webauthn.AuthenticatorID {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// sdkAuthenticatorHolds checks that the virtual authenticator holds one
// credential, a resident one for localhost whose user handle is userID
// (the user id is the handle Latch gives by default).
func sdkAuthenticatorHolds(t *testing.T, tab context.Context, id webauthn.AuthenticatorID, userID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	if len(res.Credentials) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(res.Credentials))
	}
	c := res.Credentials[0]
	if !c.IsResidentCredential || c.RpID != "localhost" || string(c.UserHandle) != userID {
		t.Errorf("the authenticator's credential: resident %v, rpId %q, user handle %q; want a resident credential for localhost, handle %s",
			c.IsResidentCredential, c.RpID, c.UserHandle, userID)
	}
}

// sdkPasskeyShot writes status on the page, which has no UI of its own,
// and saves a screenshot (sdkShot).
func sdkPasskeyShot(t *testing.T, tab context.Context, dir, name, status string) {
	t.Helper()
	get(t, tab, "write the status", chromedp.Evaluate[bool](
		`(s => { document.getElementById('login').textContent = s; return true; })(`+sdkJSString(status)+`)`))
	sdkShot(t, tab, dir, name)
}

// sdkJSString is s as a JavaScript string literal.
func sdkJSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
