//go:build !js

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/exampleorigin"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/verifier"
)

// TestBrowserLogin drives real headless Chromium through the hosted login
// page of a Worker on workerd and the example origin (package
// exampleorigin, with a real verifier), with mail really delivered by the
// Worker's signed webhook to a mailbox on loopback:
//
//   - by code: the origin sends the browser to the login page, which mails
//     a code; the code from the mail signs in and the origin greets the
//     user; after the session's JWT has expired on the real clock the
//     origin's middleware refreshes it and the user is still signed in;
//     signing out revokes the session, and the origin sends the browser
//     back to the login page;
//   - by magic link, for a user with an authenticator app: the link from
//     the mail, opened first in another browser context, which is told to
//     open it where it was asked for and spends nothing; then in the
//     browser that asked, one click; at the second step nothing the
//     browser holds is a session to the API or the verifier; the app's
//     code, then the origin lists both factors; signing out ends there
//     too;
//   - by password, after resetting it through the mailed reset link.
//
// The page runs no script: its Content-Security-Policy (default-src
// 'none', no script-src) has the browser refuse any, so every step here
// is done as it would be with JavaScript off.
//
// It saves a screenshot of each step under LATCH_ARTIFACTS (default
// .artifacts/browser in the repository). The real-clock wait overlaps the
// rest of the package as TestRealTimeLifecycle's does: the Worker starts
// in the sequential phase, the flows run in a subtest from their own
// goroutine and the test pauses in t.Parallel.
func TestBrowserLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a session JWT to expire on the real clock")
	}
	RequireWrangler(t)
	chromium := requireChromium(t)
	shots := artifactDir(t, "browser")

	secret := make([]byte, 32)
	rand.Read(secret)
	hexSecret := []byte(hex.EncodeToString(secret))
	box := mailbox.New(0)
	mailSrv := httptest.NewServer(mailbox.WebhookHandler(box, hexSecret))
	t.Cleanup(mailSrv.Close)

	// The origin's address and the Worker's port are chosen first: each
	// names the other in its settings.
	originLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	originURL := "http://" + originLn.Addr().String()
	port, release, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release) // after the Worker's Close, registered later
	loginURL := fmt.Sprintf("http://127.0.0.1:%d/login", port)
	w := Start(t, Options{Port: port, MoreVars: map[string]string{
		"LATCH_MAIL":                "webhook",
		"LATCH_MAIL_WEBHOOK_URL":    mailSrv.URL + "/webhook",
		"LATCH_MAIL_WEBHOOK_SECRET": string(hexSecret),
		"LATCH_MAIL_FROM":           "Acme <login@example.com>",
		"LATCH_PROJECT_NAME":        "Acme",
		"LATCH_LOGIN_URL":           loginURL,
		"LATCH_LOGIN_RETURN_URLS":   originURL + "/",
		"LATCH_LOGIN_ACCENT_COLOR":  "#0b6e4f",
	}})

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := verifier.New(ctx, verifier.Config{ProjectID: w.ProjectID, Secret: w.Secret, BaseURL: w.URL,
		ErrorHandler: exampleorigin.ErrorHandler(loginURL, originURL)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	origin, err := exampleorigin.New(exampleorigin.Config{Verifier: v, LoginURL: loginURL, URL: originURL, Name: "Acme app"})
	if err != nil {
		t.Fatal(err)
	}
	originSrv := &http.Server{Handler: origin, ReadHeaderTimeout: 10 * time.Second}
	go originSrv.Serve(originLn)
	t.Cleanup(func() { originSrv.Close() })

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, browserOptions(t, chromium)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browserRun{t: t, box: box, shots: shots, loginURL: loginURL, originURL: originURL, browser: browser, verifier: v,
		api: &apitest.Client{URL: w.URL, ProjectID: w.ProjectID, Secret: w.Secret}}

	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Run("flows", func(t *testing.T) {
			t.Run("code", func(t *testing.T) {
				t.Parallel()
				b.codeFlow(t, browserTab(t, browser))
			})
			t.Run("magic link and totp", func(t *testing.T) {
				t.Parallel()
				b.linkFlow(t, browserTab(t, browser))
			})
			t.Run("password reset and password", func(t *testing.T) {
				t.Parallel()
				b.passwordFlow(t, browserTab(t, browser))
			})
		})
	}()
	t.Parallel()
	<-done
}

// browserRun is what the flows share.
type browserRun struct {
	t                   *testing.T
	box                 *mailbox.Mailbox
	api                 *apitest.Client
	verifier            *verifier.Verifier // the origin's
	browser             context.Context    // for tabs in browser contexts of their own
	shots               string
	loginURL, originURL string
}

// browserTab opens a tab of the running browser in a browser context of
// its own (its own cookies), closed when t ends.
func browserTab(t *testing.T, browser context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// stepTimeout bounds each browser step.
const stepTimeout = 60 * time.Second

// do runs browser actions, failing t with what was being done.
func do(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// submit clicks a button and waits for the page it leads to.
func submit(t *testing.T, tab context.Context, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
}

// shot saves a screenshot of the page as <flow>-<n>-<name>.png.
func (b *browserRun) shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	saveShot(t, tab, b.shots, name)
}

// saveShot saves a screenshot of the page as <test>-<name>.png in dir. A
// screenshot is for reading a run afterwards, not a check: one that
// cannot be taken (a page still being laid out on a busy machine answers
// "0 width") is logged, and the test goes on.
func saveShot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s not taken: %v", name, err)
		return
	}
	file := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("screenshot %s not saved: %v", name, err)
	}
}

// atLogin checks that the browser is on the login page, sent there to
// return to the origin's page.
func (b *browserRun) atLogin(t *testing.T, tab context.Context) {
	t.Helper()
	do(t, tab, "wait for the login form", chromedp.WaitVisible(chromedp.ID("email")))
	loc := get(t, tab, "location", chromedp.Location())
	want := b.loginURL + "?return_to=" + url.QueryEscape(b.originURL+"/")
	if loc != want {
		t.Fatalf("at %s, want the login page %s", loc, want)
	}
}

// focused checks that the element with id has the focus (the page gives
// it with autofocus: no script runs on it).
func (b *browserRun) focused(t *testing.T, tab context.Context, id string) {
	t.Helper()
	if got := get(t, tab, "focus", chromedp.Evaluate[string](`document.activeElement && document.activeElement.id`)); got != id {
		t.Errorf("focus on %q, want #%s", got, id)
	}
}

// signedIn checks that the origin greets email and lists factors, and
// returns the factors' text.
func (b *browserRun) signedIn(t *testing.T, tab context.Context, email string) string {
	t.Helper()
	do(t, tab, "wait for the greeting", chromedp.WaitVisible(chromedp.ID("greeting")))
	if loc := get(t, tab, "location", chromedp.Location()); loc != b.originURL+"/" {
		t.Errorf("signed in at %s, want the origin's page %s/", loc, b.originURL)
	}
	if g := get(t, tab, "greeting", chromedp.Text(chromedp.ID("greeting"))); !strings.Contains(g, email) {
		t.Errorf("greeting %q does not name %s", g, email)
	}
	return get(t, tab, "factors", chromedp.Text(chromedp.ID("factors")))
}

// cookies returns the browser's cookies for the origin, by name.
func cookies(t *testing.T, tab context.Context, originURL string) map[string]*network.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{originURL + "/"}})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}

// sessionCookies checks the two session cookies' attributes and returns
// their values.
func sessionCookies(t *testing.T, tab context.Context, originURL string) (token, jwt string) {
	t.Helper()
	jar := cookies(t, tab, originURL)
	for _, name := range []string{"stytch_session", "stytch_session_jwt"} {
		c := jar[name]
		if c == nil {
			t.Fatalf("no %s cookie for the origin; cookies: %v", name, jar)
		}
		// Loopback over plain HTTP: not Secure (the page is not HTTPS).
		if !c.HTTPOnly || c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Session {
			t.Errorf("%s: httpOnly %v secure %v sameSite %q path %q session %v; want HttpOnly, not Secure on loopback, Lax, /, persistent",
				name, c.HTTPOnly, c.Secure, c.SameSite, c.Path, c.Session)
		}
	}
	return jar["stytch_session"].Value, jar["stytch_session_jwt"].Value
}

// cookieSession checks the browser's session cookies for base
// (sessionCookies) and that the API takes each, token and JWT, as a
// session of the user with email whose factors are want, in order. It
// returns the session's user id and its factors.
func cookieSession(t *testing.T, tab context.Context, api *apitest.Client, base, email string, want []string) (userID string, factors []map[string]any) {
	t.Helper()
	token, jwt := sessionCookies(t, tab, base)
	for field, value := range map[string]string{"session_token": token, "session_jwt": jwt} {
		status, res, err := api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{field: value})
		if err != nil || status != http.StatusOK {
			t.Fatalf("the API refuses the cookie's %s: %d %v %v", field, status, res, err)
		}
		sess, _ := res["session"].(map[string]any)
		list, _ := sess["authentication_factors"].([]any)
		var types []string
		factors = factors[:0]
		for _, f := range list {
			m, _ := f.(map[string]any)
			types = append(types, fmt.Sprint(m["type"]))
			factors = append(factors, m)
		}
		if !slices.Equal(types, want) {
			t.Errorf("factors %q, want %q", types, want)
		}
		user, _ := res["user"].(map[string]any)
		if emails := fmt.Sprint(user["emails"]); !strings.Contains(emails, email) {
			t.Errorf("the session's user has emails %s, want %s", emails, email)
		}
		userID = fmt.Sprint(user["user_id"])
	}
	return userID, factors
}

// mail waits for the next mail to to, after the ones counted in after.
func (b *browserRun) mail(t *testing.T, to string) *mailbox.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := b.box.Wait(ctx, to, 0)
	if err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	if m.Via != "webhook" {
		t.Errorf("mail to %s came by %q, want the webhook", to, m.Via)
	}
	return m
}

// jwtExpiry returns a JWT's exp, read from its payload.
func jwtExpiry(t *testing.T, jwt string) time.Time {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("JWT payload %s: %v", raw, err)
	}
	return time.Unix(claims.Exp, 0)
}

// revoked checks that the edge no longer knows the session of token.
func (b *browserRun) revoked(t *testing.T, token string) {
	t.Helper()
	status, res, err := b.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token})
	if err != nil || status != http.StatusNotFound {
		t.Errorf("after signing out, sessions/authenticate answered %d %v (%v), want 404", status, res["error_type"], err)
	}
}

// signOut follows the origin's sign-out link, confirms and checks the
// browser is back at the login page with no session cookies.
func (b *browserRun) signOut(t *testing.T, tab context.Context, token string) {
	t.Helper()
	submit(t, tab, "logout")
	do(t, tab, "wait for the sign-out form", chromedp.WaitVisible(chromedp.ID("logout-submit")))
	b.shot(t, tab, "5-sign-out")
	submit(t, tab, "logout-submit")
	b.atLogin(t, tab)
	b.shot(t, tab, "6-signed-out")
	jar := cookies(t, tab, b.originURL)
	if jar["stytch_session"] != nil || jar["stytch_session_jwt"] != nil {
		t.Errorf("session cookies left after signing out: %v", jar)
	}
	b.revoked(t, token)
}

var codeInMail = regexp.MustCompile(`\b[0-9]{6}\b`)

// codeFlow: sign in by emailed code, stay signed in past the JWT's
// expiry, sign out.
func (b *browserRun) codeFlow(t *testing.T, tab context.Context) {
	const email = "code@example.com"
	do(t, tab, "visit the origin", chromedp.Navigate(b.originURL+"/"))
	b.atLogin(t, tab)
	b.focused(t, tab, "email")
	b.shot(t, tab, "1-login")
	do(t, tab, "enter the email", chromedp.SendKeys(chromedp.ID("email"), email))
	submit(t, tab, "send-code")
	do(t, tab, "wait for the code form", chromedp.WaitVisible(chromedp.ID("code")))
	b.focused(t, tab, "code")
	b.shot(t, tab, "2-code")
	code := codeInMail.FindString(b.mail(t, email).Text)
	if code == "" {
		t.Fatal("no code in the mail")
	}
	// A wrong code first: the error is announced (role="alert") and the
	// field is marked, described by it and focused.
	wrong := string('0'+(code[0]-'0'+1)%10) + code[1:]
	do(t, tab, "enter a wrong code", chromedp.SendKeys(chromedp.ID("code"), wrong))
	submit(t, tab, "code-submit")
	do(t, tab, "wait for the code form again", chromedp.WaitVisible(chromedp.ID("code")))
	if msg := get(t, tab, "alert", chromedp.Text(chromedp.CSS(`#error[role="alert"]`))); !strings.Contains(msg, "not right") {
		t.Errorf("alert after a wrong code: %q", msg)
	}
	b.focused(t, tab, "code")
	marked := get(t, tab, "code field", chromedp.Evaluate[string](
		`(e => e.getAttribute("aria-invalid") + " " + e.getAttribute("aria-describedby"))(document.getElementById("code"))`))
	if marked != "true code-hint error" {
		t.Errorf("code field after the error: aria-invalid, aria-describedby = %q", marked)
	}
	b.shot(t, tab, "2-wrong-code")
	do(t, tab, "enter the code", chromedp.SendKeys(chromedp.ID("code"), code))
	submit(t, tab, "code-submit")
	if f := b.signedIn(t, tab, email); !strings.Contains(f, "otp") {
		t.Errorf("factors %q, want the email code", f)
	}
	b.shot(t, tab, "3-signed-in")
	token, jwt := sessionCookies(t, tab, b.originURL)

	// The verifier checks a JWT locally until it expires (5 minutes after
	// it was minted); then its middleware asks the edge with the session
	// and sets the fresh JWT it gets back.
	exp := jwtExpiry(t, jwt)
	t.Logf("waiting %v on the real clock for the session JWT to expire", time.Until(exp).Round(time.Second))
	time.Sleep(time.Until(exp) + 2*time.Second)
	do(t, tab, "revisit the origin", chromedp.Navigate(b.originURL+"/"))
	b.signedIn(t, tab, email)
	b.shot(t, tab, "4-refreshed")
	token2, jwt2 := sessionCookies(t, tab, b.originURL)
	if token2 != token {
		t.Errorf("the session token changed on refresh")
	}
	if jwt2 == jwt || !jwtExpiry(t, jwt2).After(time.Now()) {
		t.Errorf("the JWT cookie was not refreshed after the JWT expired: same %v, exp %v", jwt2 == jwt, jwtExpiry(t, jwt2))
	}
	b.signOut(t, tab, token)
	// Back at the origin without a session: sent to sign in again.
	do(t, tab, "revisit the origin signed out", chromedp.Navigate(b.originURL+"/"))
	b.atLogin(t, tab)
}

// linkFlow: sign in by emailed link, then the authenticator app's code
// (the user has one), sign out.
func (b *browserRun) linkFlow(t *testing.T, tab context.Context) {
	const email = "link@example.com"
	ctx := context.Background()
	created := b.must(t, ctx, "/v1/users", map[string]any{"email": email})
	userID := created["user_id"]
	// The address is proven before the app is enrolled: an app set while
	// it was unproven would go with its first proof (API.md, "The first
	// proof of an email").
	proof := b.must(t, ctx, "/v1/magic_links", map[string]any{"user_id": userID, "delivery_method": "email"})
	b.must(t, ctx, "/v1/magic_links/authenticate", map[string]any{"token": proof["token"]})
	totp := b.must(t, ctx, "/v1/totps", map[string]any{"user_id": userID})
	secret, _ := totp["secret"].(string)
	now := time.Now().Unix()
	b.must(t, ctx, "/v1/totps/authenticate", map[string]any{"user_id": userID, "totp_code": apitest.TOTP(t, secret, now)})

	do(t, tab, "visit the origin", chromedp.Navigate(b.originURL+"/"))
	b.atLogin(t, tab)
	do(t, tab, "enter the email", chromedp.SendKeys(chromedp.ID("email"), email))
	submit(t, tab, "send-link")
	status := get(t, tab, "status", chromedp.Text(chromedp.ID("status")))
	if !strings.Contains(status, email) {
		t.Errorf("after sending the link the page says %q", status)
	}
	b.shot(t, tab, "1-link-sent")
	link := regexp.MustCompile(regexp.QuoteMeta(b.loginURL+"/magic?") + `\S+`).FindString(b.mail(t, email).Text)
	if link == "" {
		t.Fatalf("no link to %s/magic in the mail", b.loginURL)
	}
	// Opened in a browser that did not ask for it (the link's PKCE
	// verifier is a cookie of the one that did), it says so and spends
	// nothing.
	elsewhere := browserTab(t, b.browser)
	do(t, elsewhere, "open the link elsewhere", chromedp.Navigate(link))
	do(t, elsewhere, "wait for the confirm button elsewhere", chromedp.WaitVisible(chromedp.ID("magic-submit")))
	submit(t, elsewhere, "magic-submit")
	do(t, elsewhere, "wait for the refusal", chromedp.WaitVisible(chromedp.ID("start-over")))
	if msg := get(t, elsewhere, "alert", chromedp.Text(chromedp.CSS(`#error[role="alert"]`))); !strings.Contains(msg, "Open this link in the browser where you asked for it") {
		t.Errorf("the link in another browser: alert %q", msg)
	}
	if jar := cookies(t, elsewhere, b.originURL); jar["stytch_session"] != nil {
		t.Errorf("the link signed another browser in: %v", jar)
	}
	b.shot(t, elsewhere, "2-link-elsewhere")

	do(t, tab, "open the link", chromedp.Navigate(link))
	do(t, tab, "wait for the confirm button", chromedp.WaitVisible(chromedp.ID("magic-submit")))
	b.shot(t, tab, "2-link-opened")
	submit(t, tab, "magic-submit")
	do(t, tab, "wait for the second step", chromedp.WaitVisible(chromedp.ID("totp")))
	b.shot(t, tab, "3-totp")
	b.holdsNoSession(t, tab)
	// The next step's code: the enrolment spent this step's.
	do(t, tab, "enter the app's code", chromedp.SendKeys(chromedp.ID("totp"), apitest.TOTP(t, secret, now+30)))
	submit(t, tab, "totp-submit")
	factors := b.signedIn(t, tab, email)
	if !strings.Contains(factors, "magic_link") || !strings.Contains(factors, "totp") {
		t.Errorf("factors %q, want the magic link and the app", factors)
	}
	b.shot(t, tab, "4-signed-in")
	token, _ := sessionCookies(t, tab, b.originURL)
	b.signOut(t, tab, token)
}

// holdsNoSession checks that no cookie the browser holds, for the page
// or the origin, is a session to the API or to the origin's verifier.
func (b *browserRun) holdsNoSession(t *testing.T, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.loginURL + "/totp", b.originURL + "/"}})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	names := map[string]bool{}
	for _, c := range res.Cookies {
		names[c.Name] = true
		for _, field := range []string{"session_token", "session_jwt"} {
			if status, _, _ := b.api.Do(ctx, http.MethodPost, "/v1/sessions/authenticate", map[string]any{field: c.Value}); status == http.StatusOK {
				t.Errorf("at the second step, cookie %s as %s authenticates", c.Name, field)
			}
		}
		if s, _, err := b.verifier.Authenticate(ctx, c.Value); err == nil {
			t.Errorf("at the second step, the verifier accepts cookie %s: session %s", c.Name, s.SessionID)
		}
	}
	if !names["latch_pending"] || names["stytch_session"] || names["stytch_session_jwt"] {
		t.Errorf("cookies at the second step: %v; want latch_pending and no session cookie", names)
	}
}

// passwordFlow: "Forgot your password?", the mailed reset link, a new
// password (signed in), sign out, then sign in with that password.
func (b *browserRun) passwordFlow(t *testing.T, tab context.Context) {
	const email, fresh = "reset@example.com", "purple elephant marching slowly 7"
	b.must(t, context.Background(), "/v1/passwords", map[string]any{"email": email, "password": "correct horse battery staple 42"})
	do(t, tab, "visit the origin", chromedp.Navigate(b.originURL+"/"))
	b.atLogin(t, tab)
	submit(t, tab, "forgot")
	do(t, tab, "enter the email", chromedp.SendKeys(chromedp.ID("reset-email"), email))
	submit(t, tab, "reset-submit")
	b.shot(t, tab, "1-reset-sent")
	link := regexp.MustCompile(regexp.QuoteMeta(b.loginURL+"/reset?") + `\S+`).FindString(b.mail(t, email).Text)
	if link == "" {
		t.Fatalf("no link to %s/reset in the mail", b.loginURL)
	}
	do(t, tab, "open the link", chromedp.Navigate(link))
	do(t, tab, "enter the new password", chromedp.SendKeys(chromedp.ID("new-password"), fresh))
	b.shot(t, tab, "2-new-password")
	submit(t, tab, "new-password-submit")
	if f := b.signedIn(t, tab, email); !strings.Contains(f, "password") {
		t.Errorf("factors %q, want the password", f)
	}
	b.shot(t, tab, "3-signed-in")
	token, _ := sessionCookies(t, tab, b.originURL)
	b.signOut(t, tab, token)
	do(t, tab, "enter email and password",
		chromedp.SendKeys(chromedp.ID("password-email"), email), chromedp.SendKeys(chromedp.ID("password"), fresh))
	submit(t, tab, "password-submit")
	b.signedIn(t, tab, email)
	b.shot(t, tab, "7-password")
}

// must makes an API call that must answer 200.
func (b *browserRun) must(t *testing.T, ctx context.Context, path string, body any) map[string]any {
	t.Helper()
	status, res, err := b.api.Do(ctx, http.MethodPost, path, body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("POST %s: %d %v %v", path, status, res, err)
	}
	return res
}

// requireChromium returns the Chromium to run, skipping the test when
// there is none — unless CI=true or LATCH_E2E=1 (make test), where its
// absence is a failure: .ci/run installs Debian's chromium package.
func requireChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium on PATH (Debian: apt-get install chromium); the browser test needs it"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// artifactDir is where a browser test's screenshots go:
// $LATCH_ARTIFACTS/name, or .artifacts/name in the repository.
func artifactDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("LATCH_ARTIFACTS")
	if base == "" {
		root, err := RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		base = filepath.Join(root, ".artifacts")
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}
