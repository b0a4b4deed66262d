//go:build !js

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The flows TestSDKInBrowser runs on each host.

// otpFlow: sign in by emailed code; read and update the user; check and
// revoke the session.
func (b *sdkRun) otpFlow(t *testing.T) {
	const email = "sdk-otp@example.com"
	tab := sdkTab(t, b.browser, b.page+"/")
	var sent struct {
		MethodID    string `json:"method_id"`
		UserID      string `json:"user_id"`
		UserCreated bool   `json:"user_created"`
	}
	sdkMust(t, tab, "otps.email.loginOrCreate", &sent,
		`async (email) => sdk().otps.email.loginOrCreate(email, {expiration_minutes: 5})`, email)
	if sent.MethodID == "" || sent.UserID == "" || !sent.UserCreated {
		t.Fatalf("otps.email.loginOrCreate: %+v, want a method_id and a new user", sent)
	}
	var got sdkSignedIn
	sdkMust(t, tab, "otps.authenticate", &got,
		sdkReport(`(code, methodID) => sdk().otps.authenticate(code, methodID, {session_duration_minutes: 60})`),
		b.code(t, email), sent.MethodID)
	b.signedIn(t, got, email, "otp")
	if got.Auth.UserID != sent.UserID {
		t.Errorf("signed in as %s, want the user created, %s", got.Auth.UserID, sent.UserID)
	}
	b.userCalls(t, tab, sent.UserID, email)
	b.sessionCalls(t, tab, got.Auth)
}

// userCalls reads the signed-in user through the SDK, updates it, and
// checks that the API sees the update.
func (b *sdkRun) userCalls(t *testing.T, tab context.Context, userID, email string) {
	var me sdkUser
	sdkMust(t, tab, "user.get", &me, `async () => sdk().user.get()`)
	if me.UserID != userID || len(me.Emails) != 1 || me.Emails[0].Email != email {
		t.Errorf("user.get: %+v, want %s with %s", me, userID, email)
	}
	var updated struct {
		Answer struct {
			UserID string `json:"user_id"`
		} `json:"answer"`
		Held sdkUser `json:"held"`
	}
	sdkMust(t, tab, "user.update", &updated, `async () => ({
  answer: await sdk().user.update({name: {first_name: 'Ada'}, untrusted_metadata: {k: 'v'}}),
  held: sdk().user.getSync()})`)
	if updated.Answer.UserID != userID || updated.Held.Name.FirstName != "Ada" || updated.Held.UntrustedMetadata["k"] != "v" {
		t.Errorf("user.update: answer %+v, user.getSync() %+v; want the name and metadata", updated.Answer, updated.Held)
	}
	status, res, err := b.api.Do(context.Background(), http.MethodGet, "/v1/users/"+userID, nil)
	name, _ := res["name"].(map[string]any)
	meta, _ := res["untrusted_metadata"].(map[string]any)
	if err != nil || status != http.StatusOK || name["first_name"] != "Ada" || meta["k"] != "v" {
		t.Errorf("the API's user after user.update: %d %v %v; want first_name Ada and untrusted_metadata k: v", status, res, err)
	}
}

// sdkUnrecoverable are the error types on which the SDK drops its session
// (UNRECOVERABLE_ERROR_TYPES); on any other it retries forever.
var sdkUnrecoverable = []string{"unauthorized_credentials", "user_unauthenticated", "invalid_secret_authentication", "session_not_found"}

// sessionCalls checks the session of auth through the SDK, revokes it,
// and checks that it is gone from the page and from the API.
func (b *sdkRun) sessionCalls(t *testing.T, tab context.Context, auth sdkAuth) {
	var checked sdkAuth
	sdkMust(t, tab, "session.authenticate", &checked, `async () => sdk().session.authenticate()`)
	if checked.Session.SessionID != auth.Session.SessionID {
		t.Errorf("session.authenticate: session %q, want %s", checked.Session.SessionID, auth.Session.SessionID)
	}
	var revoked struct {
		Cookies map[string]string `json:"cookies"`
		Held    any               `json:"held"`
	}
	sdkMust(t, tab, "session.revoke", &revoked, `async () => {
  await sdk().session.revoke();
  return {cookies: cookies(), held: sdk().session.getSync()};
}`)
	_, token := revoked.Cookies["stytch_session"]
	_, jwt := revoked.Cookies["stytch_session_jwt"]
	if token || jwt || revoked.Held != nil {
		t.Errorf("after session.revoke: cookies %v, session %v; want neither", revoked.Cookies, revoked.Held)
	}
	if status, res, err := b.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": auth.SessionToken}); err != nil || status == http.StatusOK {
		t.Errorf("after session.revoke the API answers the old token with %d %v %v, want a refusal", status, res, err)
	}
	// Signed out, the SDK's check is refused with an error type that makes
	// it drop its session, not one it retries forever.
	res := sdkCall(t, tab, "session.authenticate signed out", `async () => sdk().session.authenticate()`)
	if res.Error == nil || res.Error.Name != "StytchAPIError" || !slices.Contains(sdkUnrecoverable, res.Error.ErrorType) {
		t.Errorf("session.authenticate signed out: %s %+v; want a StytchAPIError of type %v", res.OK, res.Error, sdkUnrecoverable)
	}
}

// linkFlow: sign in by the magic link, opened on the app's page it leads
// to; the link works once.
func (b *sdkRun) linkFlow(t *testing.T) {
	const email = "sdk-link@example.com"
	tab := sdkTab(t, b.browser, b.page+"/")
	redirect := b.page + "/authenticate"
	sdkMust(t, tab, "magicLinks.email.loginOrCreate", nil,
		`async (email, url) => sdk().magicLinks.email.loginOrCreate(email, {login_magic_link_url: url, signup_magic_link_url: url})`,
		email, redirect)
	link, token := b.link(t, email, "/authenticate", "magic_links")
	do(t, tab, "open the link", chromedp.Navigate(link))
	var got sdkSignedIn
	sdkMust(t, tab, "magicLinks.authenticate", &got, sdkReport(`() =>
  sdk().magicLinks.authenticate(new URLSearchParams(location.search).get('token'), {session_duration_minutes: 60})`))
	b.signedIn(t, got, email, "magic_link")
	again := sdkCall(t, tab, "magicLinks.authenticate again",
		`async (token) => sdk().magicLinks.authenticate(token, {session_duration_minutes: 60})`, token)
	if again.Error == nil || again.Error.Name != "StytchAPIError" {
		t.Errorf("the link used twice: %s %+v; want a StytchAPIError", again.OK, again.Error)
	}
}

// passwordFlow: create a password, sign in with it, reset it through the
// mailed link; the old one is then refused, the new one accepted.
func (b *sdkRun) passwordFlow(t *testing.T) {
	const email = "sdk-password@example.com"
	old, fresh := "Latch-"+rand.Text()+"-old", "Latch-"+rand.Text()+"-new"
	tab := sdkTab(t, b.browser, b.page+"/")
	var got sdkSignedIn
	sdkMust(t, tab, "passwords.create", &got, sdkReport(`(email, password) =>
  sdk().passwords.create({email, password, session_duration_minutes: 60})`), email, old)
	b.signedIn(t, got, email, "password")
	authenticate := sdkReport(`(email, password) =>
  sdk().passwords.authenticate({email, password, session_duration_minutes: 60})`)
	sdkMust(t, tab, "passwords.authenticate", &got, authenticate, email, old)
	b.signedIn(t, got, email, "password")

	sdkMust(t, tab, "passwords.resetByEmailStart", nil, `async (email, reset, login) =>
  sdk().passwords.resetByEmailStart({email, reset_password_redirect_url: reset, login_redirect_url: login})`,
		email, b.page+"/reset", b.page+"/login")
	link, _ := b.link(t, email, "/reset", "reset_password")
	do(t, tab, "open the reset link", chromedp.Navigate(link))
	sdkMust(t, tab, "passwords.resetByEmail", &got, sdkReport(`(password) => sdk().passwords.resetByEmail({
  token: new URLSearchParams(location.search).get('token'), password, session_duration_minutes: 60})`), fresh)
	b.signedIn(t, got, email, "password")

	refused := sdkCall(t, tab, "passwords.authenticate with the old password", authenticate, email, old)
	if refused.Error == nil || refused.Error.Name != "StytchAPIError" {
		t.Errorf("the old password after the reset: %s %+v; want a StytchAPIError", refused.OK, refused.Error)
	}
	sdkMust(t, tab, "passwords.authenticate with the new password", &got, authenticate, email, fresh)
	b.signedIn(t, got, email, "password")
}

// otherOriginFlow: the same page on an origin Latch does not serve: the
// SDK's call is refused, by the server too, and nothing is mailed.
func (b *sdkRun) otherOriginFlow(t *testing.T) {
	const email = "sdk-other@example.com"
	tab := sdkTab(t, b.browser, b.other+"/")
	res := sdkCall(t, tab, "otps.email.loginOrCreate from another origin",
		`async (email) => sdk().otps.email.loginOrCreate(email, {expiration_minutes: 5})`, email)
	if res.Error == nil {
		t.Errorf("otps.email.loginOrCreate from %s: %s, want it refused", b.other, res.OK)
	} else {
		t.Logf("from %s the SDK got %s: %s", b.other, res.Error.Name, res.Error.Message)
	}
	// Not only the browser's CORS check: the server itself refuses a call
	// from that origin.
	body := strings.NewReader(`{"email":"` + email + `","expiration_minutes":5}`)
	req, err := http.NewRequest(http.MethodPost, b.latch.url+"/sdk/v1/otps/email/login_or_create", body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(b.latch.publicToken, b.latch.publicToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.other)
	req.Header.Set("X-SDK-Parent-Host", b.other)
	resp, err := (&http.Client{Timeout: stepTimeout, Transport: Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	decodeErr := json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || decodeErr != nil || answer["error_type"] == nil {
		t.Errorf("a call from %s: %d %v (%v), want 403 and a JSON error", b.other, resp.StatusCode, answer, decodeErr)
	}
	// Any mail the refused calls had sent would be in the box now.
	b.settle(t, "sdk-other-after@example.com")
	msgs, err := b.latch.mail.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.EqualFold(m.To, email) {
			t.Errorf("mail to %s after refused calls: %q", email, m.Subject)
		}
	}
}

// uiFlow: the SDK's prebuilt login UI, email OTP: the email typed in, the
// mailed code typed in, and the SDK holds a session the API accepts.
func (b *sdkRun) uiFlow(t *testing.T) {
	const email = "sdk-ui@example.com"
	tab := sdkTab(t, b.browser, b.page+"/")
	// 6.3.0's first mountLogin appends the element without its props;
	// render gives them.
	sdkMust(t, tab, "mountLogin", nil, `async () => {
  window.uiEvents = [];
  window.uiClient = new stytch.StytchUIClient(settings.publicToken, options);
  const args = {client: uiClient, elementId: '#login',
    config: {products: [stytch.Products.otp], otpOptions: {methods: ['email'], expirationMinutes: 5},
      sessionOptions: {sessionDurationMinutes: 60}},
    callbacks: {onEvent: e => uiEvents.push(e.type), onError: e => uiEvents.push('error ' + (e.error_type || e.message))}};
  stytch.mountLogin(args).render(args);
}`)
	do(t, tab, "enter the email", chromedp.SendKeys("#email-input", email))
	sdkShot(t, tab, b.shots, "1-email")
	do(t, tab, "submit the email", chromedp.Click(`#login form button[type="submit"]`))
	const passcode = `#login input[autocomplete="one-time-code"]`
	do(t, tab, "wait for the passcode input", chromedp.WaitVisible(passcode))
	sdkShot(t, tab, b.shots, "2-passcode")
	b.frameAnswers(t, tab)
	do(t, tab, "enter the code", chromedp.SendKeys(passcode, b.code(t, email)))
	get(t, tab, "wait for the SDK's session", chromedp.Poll[bool](`!!(uiClient.session.getSync() && cookies().stytch_session)`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	sdkShot(t, tab, b.shots, "3-signed-in")
	var got struct {
		Cookies map[string]string `json:"cookies"`
		Events  []string          `json:"events"`
		UserID  string            `json:"user_id"`
	}
	sdkMust(t, tab, "the UI's outcome", &got,
		`async () => ({cookies: cookies(), events: uiEvents, user_id: uiClient.user.getSync()?.user_id})`)
	if !slices.Contains(got.Events, "OTP_LOGIN_OR_CREATE") || !slices.Contains(got.Events, "OTP_AUTHENTICATE") ||
		slices.ContainsFunc(got.Events, func(e string) bool { return strings.HasPrefix(e, "error") }) {
		t.Errorf("the UI's events %q, want OTP_LOGIN_OR_CREATE and OTP_AUTHENTICATE and no error", got.Events)
	}
	status, res, err := b.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": got.Cookies["stytch_session"]})
	if user, _ := res["user"].(map[string]any); err != nil || status != http.StatusOK || user["user_id"] != got.UserID {
		t.Errorf("the API on the UI's session: %d %v %v, want user %s", status, res, err, got.UserID)
	}
}

// sdkFramePath is where Latch serves the page the SDK loads in its hidden
// client-side services iframe.
const sdkFramePath = "/sdk/clientside-services/index.html"

// frameAnswers checks that the SDK has loaded Latch's client-side
// services iframe (on the passcode screen, to format the address) and
// that the frame answers a question as the SDK asks it — a message and a
// port — at once, so the SDK never waits out its timeout.
func (b *sdkRun) frameAnswers(t *testing.T, tab context.Context) {
	t.Helper()
	var answer struct {
		Success bool           `json:"success"`
		Error   map[string]any `json:"error"`
		Missing string         `json:"missing"`
	}
	sdkMust(t, tab, "ask the iframe", &answer, `async (src) => {
  // Asked until it answers: the SDK makes the frame once the screen is up,
  // and it may still be loading.
  for (const deadline = Date.now() + 30000; Date.now() < deadline;) {
    const frame = [...document.querySelectorAll('iframe')].find(f => f.src.startsWith(src));
    const channel = new MessageChannel();
    const reply = new Promise(done => {
      channel.port1.onmessage = e => done(e.data);
      setTimeout(() => done(null), 250);
    });
    frame?.contentWindow.postMessage({method: 'parsedPhoneNumber', args: [{phoneNumber: '+15555550100'}]},
      new URL(src).origin, [channel.port2]);
    const got = await reply;
    if (got) return got;
  }
  const frames = [...document.querySelectorAll('iframe')].map(f => f.src);
  return {missing: 'no answer from an iframe of ' + src + '; iframes: ' + JSON.stringify(frames)};
}`, b.latch.url+sdkFramePath)
	if answer.Missing != "" || answer.Success || answer.Error == nil {
		t.Errorf("Latch's client-side services iframe: %+v, want it loaded and answering unsupported", answer)
	}
}
