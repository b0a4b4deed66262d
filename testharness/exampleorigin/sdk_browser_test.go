package exampleorigin_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/exampleorigin"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/verifier"
	"github.com/latchauth/latch/wasm/mail"
)

// TestSDKSignInInBrowser drives headless Chromium through the origin's
// SDK sign-in: Stytch's published SDK, as package.json pins it, served by
// the origin, its prebuilt UI against the /sdk/v1 surface of a Latch
// under wazero, with mail delivered over SMTP to a mailbox on loopback.
// The emailed code typed into the UI signs in; the page goes on to /,
// where the verifier reads the cookies the SDK wrote and greets the user.
// Signing out there revokes the session through the SDK: the cookies are
// gone, the API refuses the token and / sends the browser to sign in.
// Nothing the pages do breaks their Content-Security-Policy.
func TestSDKSignInInBrowser(t *testing.T) {
	js, chromium := requireSDKBrowser(t)
	shots := sdkArtifacts(t)

	originLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	originURL := "http://" + originLn.Addr().String()
	box := mailbox.New(0)
	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailbox.ServeSMTP(smtpLn, box, mailbox.SMTPConfig{})
	t.Cleanup(func() { smtp.Close() })
	latch, err := testharness.New(testharness.Config{
		SDKOrigins:  []string{originURL},
		Mailer:      &mail.SMTP{Addr: smtp.Addr},
		MailFrom:    "Acme <login@acme.test>",
		ProjectName: "Acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := latch.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})

	// The hosted login page is not served here: / only redirects to it.
	loginURL := latch.URL + "/login"
	v, err := verifier.New(t.Context(), verifier.Config{
		ProjectID: latch.ProjectID, BaseURL: latch.URL, Secret: latch.Secret,
		CookieScriptReadable: true, ErrorHandler: exampleorigin.ErrorHandler(loginURL, originURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	h, err := exampleorigin.New(exampleorigin.Config{
		Verifier: v, LoginURL: loginURL, URL: originURL, Name: "Acme app",
		SDK: &exampleorigin.SDKConfig{PublicToken: latch.PublicToken, LatchURL: latch.URL, Script: js},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(originLn)
	t.Cleanup(func() { srv.Close() })

	tab, console := sdkTab(t, chromium)
	const email = "sdk-origin@example.com"
	browse(t, tab, "open the sign-in", chromedp.Navigate(originURL+"/sdk-login"))
	browse(t, tab, "wait for the email input", chromedp.WaitVisible("#email-input"))
	sdkShot(t, tab, shots, "1-email")
	browse(t, tab, "enter the email", chromedp.SendKeys("#email-input", email))
	browse(t, tab, "submit the email", chromedp.Click(`#login form button[type="submit"]`))
	const passcode = `#login input[autocomplete="one-time-code"]`
	browse(t, tab, "wait for the passcode input", chromedp.WaitVisible(passcode))
	sdkShot(t, tab, shots, "2-passcode")
	browse(t, tab, "enter the code", chromedp.SendKeys(passcode, mailedCode(t, box, email)))

	browse(t, tab, "wait for the app's page", chromedp.WaitVisible("#greeting"))
	sdkShot(t, tab, shots, "3-signed-in")
	if loc := browseGet(t, tab, "location", chromedp.Location()); loc != originURL+"/" {
		t.Errorf("signed in at %s, want %s/", loc, originURL)
	}
	if g := browseGet(t, tab, "greeting", chromedp.Text("#greeting")); g != "Signed in as "+email {
		t.Errorf("greeting %q, want Signed in as %s", g, email)
	}
	if f := browseGet(t, tab, "factors", chromedp.Text("#factors")); !strings.Contains(f, "otp — email") {
		t.Errorf("factors %q, want otp — email", f)
	}
	token, jwt := sdkCookies(t, tab, originURL)
	if token == "" || jwt == "" {
		t.Fatalf("the SDK's cookies: stytch_session %q, stytch_session_jwt %q; want both", token, jwt)
	}
	s, err := v.Verify(t.Context(), jwt)
	if err != nil {
		t.Fatalf("the SDK's JWT: %v", err)
	}
	if left := time.Until(s.ExpiresAt); left < 55*time.Minute || left > 61*time.Minute {
		t.Errorf("the session expires in %v, want the UI's 60 minutes", left)
	}
	api := &apitest.Client{URL: latch.URL, ProjectID: latch.ProjectID, Secret: latch.Secret}
	if status, res, err := api.Do(t.Context(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": token}); err != nil || status != http.StatusOK {
		t.Fatalf("the API on the SDK's session token: %d %v %v", status, res, err)
	} else if got := res["session"].(map[string]any)["session_id"]; got != s.SessionID {
		t.Fatalf("the API's session %v, the JWT's %s", got, s.SessionID)
	}

	browse(t, tab, "follow the sign-out link", chromedp.Click("#logout"))
	browse(t, tab, "wait for the sign-out button", chromedp.WaitEnabled("#logout-submit"))
	sdkShot(t, tab, shots, "4-sign-out")
	browse(t, tab, "sign out", chromedp.Click("#logout-submit"))
	browse(t, tab, "wait for the sign-in again", chromedp.WaitVisible("#email-input"))
	sdkShot(t, tab, shots, "5-signed-out")
	if loc := browseGet(t, tab, "location", chromedp.Location()); loc != originURL+"/sdk-login" {
		t.Errorf("signed out at %s, want %s/sdk-login", loc, originURL)
	}
	if token, jwt := sdkCookies(t, tab, originURL); token != "" || jwt != "" {
		t.Errorf("session cookies left after signing out: %q, %q", token, jwt)
	}
	if status, res, err := api.Do(t.Context(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": token}); err != nil || status != http.StatusNotFound {
		t.Errorf("after signing out the API answers the token %d %v %v, want 404", status, res, err)
	}
	// The revocation reaches the verifier through its feed; until then the
	// JWT's own few minutes may still be honoured.
	for deadline := time.Now().Add(browserStep); ; {
		resp, _ := fetch(t, "GET", originURL+"/", http.Header{"Cookie": {"stytch_session_jwt=" + jwt + "; stytch_session=" + token}})
		if resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), loginURL+"?return_to=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ with the revoked session's cookies: %d, Location %q; want 303 to sign in", resp.StatusCode, resp.Header.Get("Location"))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Without a session cookie the SDK can read, the session is the hosted
	// login page's: /sdk-logout hands it to that page's sign-out.
	browse(t, tab, "open the sign-out signed out", chromedp.Navigate(originURL+"/sdk-logout"))
	waitLocation(t, tab, loginURL+"/logout?return_to="+url.QueryEscape(originURL+"/"))

	for _, m := range console() {
		if strings.Contains(m, "Content Security Policy") {
			t.Errorf("the browser refused something under the pages' policy: %s", m)
		}
	}
	if t.Failed() {
		t.Logf("the pages' console:\n%s", strings.Join(console(), "\n"))
	}
}

// browserStep bounds each browser step; the machine may be busy.
const browserStep = 60 * time.Second

// waitLocation waits for the tab to be at want.
func waitLocation(t *testing.T, tab context.Context, want string) {
	t.Helper()
	for deadline := time.Now().Add(browserStep); ; {
		ctx, cancel := context.WithTimeout(tab, browserStep)
		// Read mid-navigation, the location can fail; it is read again.
		got, _ := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("at %s, want %s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailedCode is the one-time code in the first mail to to.
func mailedCode(t *testing.T, box *mailbox.Mailbox, to string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), browserStep)
	defer cancel()
	m, err := box.Wait(ctx, to, 0)
	if err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(m.Text)
	if code == "" {
		t.Fatalf("no code in the mail to %s: %q", to, m.Text)
	}
	return code
}

// sdkCookies checks that the SDK's session cookies on the origin, when
// there, were written by the SDK (readable by script) and returns their
// values.
func sdkCookies(t *testing.T, tab context.Context, originURL string) (token, jwt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStep)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{originURL + "/"}})
	if err != nil {
		t.Fatalf("cookies: %v", err)
	}
	for _, c := range res.Cookies {
		switch c.Name {
		case "stytch_session":
			token = c.Value
		case "stytch_session_jwt":
			jwt = c.Value
		default:
			continue
		}
		if c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
			t.Errorf("%s: httpOnly %v sameSite %q path %q; want the SDK's: readable, Lax, /", c.Name, c.HTTPOnly, c.SameSite, c.Path)
		}
	}
	return token, jwt
}

// requireSDKBrowser returns the SDK's browser build and the Chromium to
// run it in, skipping the test when either is missing — unless CI=true,
// where their absence is a failure.
func requireSDKBrowser(t *testing.T) (js []byte, chromium string) {
	t.Helper()
	missing := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	const iife = "node_modules/@stytch/vanilla-js/dist/iife/index.js"
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	js, err = os.ReadFile(filepath.Join(root, iife))
	if err != nil {
		missing("no Stytch SDK (" + iife + "); run `npm ci` in the repository: " + err.Error())
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return js, p
		}
	}
	missing("no Chromium on PATH (Debian: apt-get install chromium); the SDK browser test needs it")
	return nil, ""
}

// repoRoot is the directory of go.mod, found walking up from here.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// sdkArtifacts is where the screenshots go: $LATCH_ARTIFACTS/browser-example-sdk,
// or .artifacts/browser-example-sdk in the repository.
func sdkArtifacts(t *testing.T) string {
	t.Helper()
	base := os.Getenv("LATCH_ARTIFACTS")
	if base == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		base = filepath.Join(root, ".artifacts")
	}
	dir := filepath.Join(base, "browser-example-sdk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// sdkTab starts Chromium and opens a tab, both closed when t ends; console
// returns what the tab's pages have written to the console so far (the
// browser's own messages too, such as what a policy refused).
func sdkTab(t *testing.T, chromium string) (tab context.Context, console func() []string) {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(900, 1000))...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var (
		mu   sync.Mutex
		msgs []string
	)
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m.String()+" ("+m.URL+")")
			mu.Unlock()
		}
	}()
	return tab, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

// browse runs browser actions, failing t with what was being done.
func browse(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// browseGet runs one browser action that returns a value.
func browseGet[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// sdkShot saves a screenshot of the page as <test>-<name>.png in dir. A
// screenshot is for reading a run afterwards, not a check: one that
// cannot be taken (a page still being laid out on a busy machine) is
// logged, and the test goes on.
func sdkShot(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStep)
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
