package loginpage_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchauth/latch/testharness/apitest"

	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/loginpage"
)

// Sign in with a passkey: the page served as http://localhost:<port>/login
// (localhost is the relying party ID), its engine allowing that origin,
// and a virtual authenticator in place of the browser's.

// badPasskey is the page's alert for a passkey that did not sign in.
const badPasskey = `<p class="error">That passkey could not sign you in. Try again, or sign in another way.</p>`

// newPasskeyFixture is a page offering passkeys.
func newPasskeyFixture(t *testing.T, change func(*loginpage.Config)) *fixture {
	t.Helper()
	var origins []string
	f := newFixtureAt(t, "localhost", func(origin string) native.Config {
		origins = []string{origin}
		return native.Config{WebAuthnOrigins: origins}
	}, func(c *loginpage.Config) {
		c.WebAuthnOrigins = origins
		if change != nil {
			change(c)
		}
	})
	return f
}

// passkey is a user's passkey in a virtual authenticator, which verifies
// its user (the UV flag) unless told otherwise.
type passkey struct {
	rp     virtualwebauthn.RelyingParty
	auth   virtualwebauthn.Authenticator
	cred   virtualwebauthn.Credential
	userID string
	regID  string
}

// newPasskey creates a user with email and registers a passkey for them
// through the API.
func (f *fixture) newPasskey(email string) *passkey {
	f.t.Helper()
	user := f.api.MustPost(f.t, "/v1/users", map[string]any{"email": email})
	k := &passkey{rp: virtualwebauthn.RelyingParty{Name: "Acme", ID: "localhost", Origin: strings.TrimSuffix(f.URL, "/login")},
		auth: virtualwebauthn.NewAuthenticator(), cred: apitest.WebAuthnCredential(f.t), userID: user["user_id"].(string)}
	start := f.api.MustPost(f.t, "/v1/webauthn/register/start", map[string]any{"user_id": k.userID, "domain": "localhost",
		"return_passkey_credential_options": true, "use_base64_url_encoding": true})
	o, err := virtualwebauthn.ParseAttestationOptions(start["public_key_credential_creation_options"].(string))
	if err != nil {
		f.t.Fatal(err)
	}
	k.auth.Options.UserHandle = []byte(o.UserID)
	reg := f.api.MustPost(f.t, "/v1/webauthn/register", map[string]any{"user_id": k.userID,
		"public_key_credential": virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *o)})
	k.regID = reg["webauthn_registration_id"].(string)
	return k
}

// signIn does what the page's script does: the start step's options,
// signed by the passkey, posted in the passkey form. It returns the
// answer to the post.
func (f *fixture) signInWithPasskey(k *passkey) answer {
	f.t.Helper()
	page := f.get("")
	form := hidden(page.body) // the passkey form is the page's first
	start := f.post("/passkey/start", url.Values{"csrf": form["csrf"], "return_to": form["return_to"]})
	if start.StatusCode != http.StatusOK || start.Header.Get("Content-Type") != "application/json" {
		f.t.Fatalf("passkey start: %d %q %s", start.StatusCode, start.Header.Get("Content-Type"), start.body)
	}
	o, err := virtualwebauthn.ParseAssertionOptions(start.body)
	if err != nil {
		f.t.Fatalf("passkey start answered %s: %v", start.body, err)
	}
	if o.RelyingPartyID != "localhost" || len(o.AllowCredentials) != 0 {
		f.t.Errorf("options for %q allowing %v; want localhost and a discoverable passkey", o.RelyingPartyID, o.AllowCredentials)
	}
	return f.post("/passkey", with(form, "credential", virtualwebauthn.CreateAssertionResponse(k.rp, k.auth, k.cred, *o)))
}

func TestPasskeySignIn(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	k := f.newPasskey("pia@example.com")
	done := f.signInWithPasskey(k)
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != app {
		t.Fatalf("passkey sign-in: %d to %q, want 303 to %s; %s", done.StatusCode, done.Header.Get("Location"), app, done.body)
	}
	jar := sessionCookies(done)
	if jar["stytch_session"] == nil || jar["stytch_session_jwt"] == nil {
		t.Fatalf("cookies %v, want the session's", done.Header["Set-Cookie"])
	}
	if types, _ := f.factorsOf(jar["stytch_session"].Value); !slices.Equal(types, []string{"webauthn"}) {
		t.Errorf("factors %v, want webauthn", types)
	}
}

// TestPasskeyIsTwoFactors: a user with an authenticator app whose passkey
// verified them (a PIN, a biometric) is signed in without the second step;
// a passkey that did not verify its user signs no one in, since a sign-in
// that names no user requires it.
func TestPasskeyIsTwoFactors(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	k := f.newPasskey("tess@example.com")
	f.enrol("tess@example.com", k.userID)
	done := f.signInWithPasskey(k)
	if done.StatusCode != http.StatusSeeOther || sessionCookies(done)["stytch_session"] == nil {
		t.Fatalf("a verified passkey of a user with an app: %d %v, want 303 with the session", done.StatusCode, done.Header["Set-Cookie"])
	}
	k.auth.Options.UserNotVerified = true
	refused := f.signInWithPasskey(k)
	if refused.StatusCode != http.StatusUnauthorized || alert(refused.body) != badPasskey || sessionCookies(refused)["latch_pending"] != nil {
		t.Errorf("an unverified passkey: %d %q, cookies %v; want 401 %q and nothing held", refused.StatusCode, alert(refused.body),
			refused.Header["Set-Cookie"], badPasskey)
	}
}

// TestPasskeyRefused: what the API refuses reads as the page's one
// message, with the sign-in forms, and starts no session.
func TestPasskeyRefused(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	k := f.newPasskey("gone@example.com")
	if s, res, _ := f.api.Do(context.Background(), http.MethodDelete, "/v1/users/webauthn_registrations/"+k.regID, nil); s != http.StatusOK {
		t.Fatalf("delete the registration: %d %v", s, res)
	}
	cases := []struct {
		name   string
		post   func() answer
		status int
	}{
		{name: "deleted registration", post: func() answer { return f.signInWithPasskey(k) }, status: http.StatusUnauthorized},
		{name: "not a credential", post: func() answer {
			return f.post("/passkey", with(hidden(f.get("").body), "credential", `{"id":"x"}`))
		}, status: http.StatusUnauthorized},
		{name: "no credential", post: func() answer {
			return f.post("/passkey", hidden(f.get("").body))
		}, status: http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.post()
			if a.StatusCode != tc.status || alert(a.body) != badPasskey || !strings.Contains(a.body, `id="passkey-submit"`) {
				t.Errorf("%d %q, want %d %q with the forms again", a.StatusCode, alert(a.body), tc.status, badPasskey)
			}
			if jar := sessionCookies(a); jar["stytch_session"] != nil || jar["latch_pending"] != nil {
				t.Errorf("cookies %v", a.Header["Set-Cookie"])
			}
		})
	}
}

// TestPasskeyScript: the page's one script is served from the page and
// pinned by its hash, which the CSP names; the passkey form is hidden
// until it runs, and nothing else on the page is script.
func TestPasskeyScript(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	page := f.get("")
	m := regexp.MustCompile(`<script src="(/login/passkey\.js\?v=[0-9a-f]+)" integrity="(sha256-[A-Za-z0-9+/=]+)"></script>`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no pinned script on the page: %s", page.body)
	}
	src, hash := htmlUnescape(m[1]), m[2]
	csp := page.Header.Get("Content-Security-Policy")
	if want := "default-src 'none'; style-src 'self'; img-src 'self'; script-src '" + hash +
		"'; connect-src 'self'; form-action 'self' http://127.0.0.1:3000; frame-ancestors 'none'; base-uri 'none'"; csp != want {
		t.Errorf("CSP %q, want %q", csp, want)
	}
	if n := strings.Count(page.body, "<script"); n != 1 || regexp.MustCompile(`\son[a-z]+=`).MatchString(page.body) {
		t.Errorf("%d script elements or an inline handler: %s", n, page.body)
	}
	if !regexp.MustCompile(`<div id="passkey" hidden data-start="/login/passkey/start" data-error="[^"]+"><form method="post" action="/login/passkey">`).MatchString(page.body) ||
		!strings.Contains(page.body, `<button type="submit" id="passkey-submit">Sign in with a passkey</button>`) {
		t.Errorf("no hidden passkey form: %s", page.body)
	}

	js := f.get(strings.TrimPrefix(src, "/login"))
	sum := sha256.Sum256([]byte(js.body))
	switch {
	case js.StatusCode != http.StatusOK || js.Header.Get("Content-Type") != "text/javascript; charset=utf-8":
		t.Errorf("GET %s: %d %q", src, js.StatusCode, js.Header.Get("Content-Type"))
	case "sha256-"+base64.StdEncoding.EncodeToString(sum[:]) != hash:
		t.Errorf("the served script's hash is not the pinned one %s", hash)
	case js.Header.Get("Cache-Control") != "public, max-age=300" || js.Header.Get("X-Content-Type-Options") != "nosniff":
		t.Errorf("GET %s: Cache-Control %q, X-Content-Type-Options %q", src, js.Header.Get("Cache-Control"), js.Header.Get("X-Content-Type-Options"))
	case !strings.Contains(js.body, "parseRequestOptionsFromJSON") || strings.Contains(js.body, "innerHTML"):
		t.Errorf("the served script is not the passkey script")
	}
	// Every answer of the page carries the same policy.
	if got := f.get("/logout").Header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("sign-out page CSP %q", got)
	}
}

// TestPasskeyCSRF: both steps are the page's posts: without the form's
// token, its cookie or from another origin they are refused, and the
// start step answers no options.
func TestPasskeyCSRF(t *testing.T) {
	f := newPasskeyFixture(t, nil)
	k := f.newPasskey("csrf@example.com")
	form := hidden(f.get("").body)
	for _, path := range []string{"/passkey/start", "/passkey"} {
		cases := []struct {
			name    string
			form    url.Values
			headers []string
		}{
			{name: "no token", form: with(form, "csrf", "")},
			{name: "wrong token", form: with(form, "csrf", strings.Repeat("A", 43))},
			{name: "another origin", form: form, headers: []string{"Sec-Fetch-Site", "cross-site"}},
			{name: "another origin by Origin", form: form, headers: []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
		}
		for _, tc := range cases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				a := f.post(path, with(tc.form, "credential", `{"id":"x"}`), tc.headers...)
				if a.StatusCode != http.StatusForbidden || alert(a.body) != `<p class="error">This form expired. Try again.</p>` ||
					strings.Contains(a.Header.Get("Content-Type"), "json") {
					t.Errorf("%d %q %q, want 403 and the forms again", a.StatusCode, a.Header.Get("Content-Type"), alert(a.body))
				}
			})
		}
	}
	// Without the cookie (another browser).
	other := *f
	other.jar = nil
	other.http = &http.Client{CheckRedirect: f.http.CheckRedirect}
	if a := other.post("/passkey/start", form); a.StatusCode != http.StatusForbidden {
		t.Errorf("start without the CSRF cookie: %d", a.StatusCode)
	}
	// The page's own post still works.
	if a := f.signInWithPasskey(k); a.StatusCode != http.StatusSeeOther {
		t.Errorf("with the token: %d %s", a.StatusCode, a.body)
	}
}

// TestPasskeyLimited: the start step counts in the page's post limit.
func TestPasskeyLimited(t *testing.T) {
	now := time.Now()
	f := newPasskeyFixture(t, func(c *loginpage.Config) { c.Now = func() time.Time { return now } })
	form := hidden(f.get("").body)
	var last answer
	for i := 0; i < 31; i++ {
		last = f.post("/passkey/start", form)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("post 31: %d %q, want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
}

// TestNoPasskeys: a page whose origin the engine does not allow for
// passkeys shows no passkey form and no script, serves none, and keeps its
// scriptless policy; the passkey paths are the API's.
func TestNoPasskeys(t *testing.T) {
	cases := map[string][]string{
		"none":         nil,
		"other origin": {"http://localhost:3000"},
	}
	for name, origins := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(c *loginpage.Config) { c.WebAuthnOrigins = origins })
			page := f.get("")
			if strings.Contains(page.body, "passkey") || strings.Contains(page.body, "<script") ||
				strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src") {
				t.Errorf("passkeys offered: CSP %q, %s", page.Header.Get("Content-Security-Policy"), page.body)
			}
			for _, req := range []struct{ method, path string }{{"GET", "/passkey.js"}, {"POST", "/passkey/start"}, {"POST", "/passkey"}} {
				var a answer
				if req.method == "GET" {
					a = f.get(req.path)
				} else {
					a = f.post(req.path, hidden(page.body))
				}
				if !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") || a.StatusCode == http.StatusOK {
					t.Errorf("%s %s: %d %q, want the API's answer", req.method, req.path, a.StatusCode, a.Header.Get("Content-Type"))
				}
			}
		})
	}
}

// TestPasskeyConfig: with passkeys, the page's host is the relying party
// ID, which an IP address is not.
func TestPasskeyConfig(t *testing.T) {
	cases := []struct {
		name, url string
		origins   []string
		ok        bool
	}{
		{name: "domain", url: "https://auth.example.com/login", origins: []string{"https://app.example.com", "https://auth.example.com"}, ok: true},
		{name: "localhost", url: "http://localhost:8787/login", origins: []string{"http://localhost:8787"}, ok: true},
		{name: "upper case", url: "https://Auth.Example.com/login", origins: []string{"https://auth.example.com"}, ok: true},
		{name: "IPv4", url: "http://127.0.0.1:8787/login", origins: []string{"http://127.0.0.1:8787"}},
		{name: "IPv6", url: "http://[::1]:8787/login", origins: []string{"http://[::1]:8787"}},
		{name: "IP, not listed", url: "http://127.0.0.1:8787/login", origins: []string{"http://localhost:8787"}, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loginpage.New(loginpage.Config{API: http.NotFoundHandler(), ProjectID: "project-test-x", Secret: "s",
				URL: tc.url, ReturnURLs: []string{app}, WebAuthnOrigins: tc.origins})
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && !errors.Is(err, loginpage.ErrConfig):
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}
