package loginpage_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/loginpage"
)

// Social login through the page, against the engine natively and the
// conformance suite's providers on loopback: an OpenID provider with a
// real login form (conformance.ProviderOIDC, "acme") and the GitHub fake.

// newOAuthFixture is a page offering both providers.
func newOAuthFixture(t *testing.T, change func(*loginpage.Config)) (*fixture, *conformance.Providers) {
	t.Helper()
	prov := conformance.StartProviders(t, nil)
	f := newFixtureOn(t, native.Config{OAuthProviders: []byte(prov.Document())}, func(c *loginpage.Config) {
		c.OAuthProviders = []loginpage.OAuthProvider{{Name: conformance.ProviderOIDC}, {Name: conformance.ProviderGitHub}}
		if change != nil {
			change(c)
		}
	})
	// The engine names its own address in its callback; cookies are not
	// told apart by port, so the binding cookie the start set through the
	// page reaches it.
	prov.AllowCallback(f.engineURL + "/v1/oauth/callback")
	return f, prov
}

// getURL follows one hop, absolute or relative to the page.
func (f *fixture) getURL(raw string) answer {
	f.t.Helper()
	base, _ := url.Parse(f.URL)
	u, err := base.Parse(raw)
	if err != nil {
		f.t.Fatalf("URL %q: %v", raw, err)
	}
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	return f.do(req)
}

var oauthLinkRE = regexp.MustCompile(`<a class="social" id="oauth-([a-z0-9_-]+)" href="([^"]*)">([^<]*)</a>`)

// toReturnStep signs in as login at provider, starting from the sign-in
// page with returnTo, and returns the page's return step as the engine's
// callback sent the browser there, not yet opened, and the answer of the
// page's start step.
func (f *fixture) toReturnStep(prov *conformance.Providers, provider, login, returnTo string) (*url.URL, answer) {
	f.t.Helper()
	page := f.get("?return_to=" + url.QueryEscape(returnTo))
	href := ""
	for _, m := range oauthLinkRE.FindAllStringSubmatch(page.body, -1) {
		if m[1] == provider {
			href = htmlUnescape(m[2])
		}
	}
	if href == "" {
		f.t.Fatalf("no Continue with %s on the sign-in page: %s", provider, page.body)
	}
	start := f.getURL(href)
	if start.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("the page's start step: %d %q", start.StatusCode, alert(start.body))
	}
	toProvider := f.getURL(start.Header.Get("Location"))
	if toProvider.StatusCode != http.StatusFound {
		f.t.Fatalf("the engine's start URL: %d %s", toProvider.StatusCode, toProvider.body)
	}
	authURL, _ := url.Parse(toProvider.Header.Get("Location"))
	callback, err := prov.SignInAt(f.http, authURL, login)
	if err != nil {
		f.t.Fatal(err)
	}
	back := f.getURL(callback.String())
	if back.StatusCode != http.StatusFound {
		f.t.Fatalf("the engine's callback: %d %s", back.StatusCode, back.body)
	}
	u, _ := url.Parse(back.Header.Get("Location"))
	if !strings.HasPrefix(u.String(), f.URL+"/oauth?") || u.Query().Get("stytch_token_type") != "oauth" {
		f.t.Fatalf("the callback sent the browser to %s, not the page's return step", u.Redacted())
	}
	return u, start
}

// TestOAuthSignUp: "Continue with …" signs a new user in through the
// provider and back to return_to, with the session cookies.
func TestOAuthSignUp(t *testing.T) {
	for _, tc := range []struct {
		provider, login, display string
	}{
		{provider: conformance.ProviderOIDC, login: "alice", display: "acme"},
		{provider: conformance.ProviderGitHub, login: "octocat", display: "GitHub"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			f, prov := newOAuthFixture(t, nil)
			page := f.get("")
			if !strings.Contains(page.body, `id="oauth-`+tc.provider+`"`) || !strings.Contains(page.body, ">Continue with "+tc.display+"</a>") {
				t.Fatalf("no Continue with %s: %s", tc.display, page.body)
			}
			returnTo := app + "after?tab=2"
			step, start := f.toReturnStep(prov, tc.provider, tc.login, returnTo)

			// The start step kept a verifier and sent its challenge, with
			// the return step (carrying return_to) as both redirect URLs.
			v := sessionCookies(start)["latch_oauth_verifier"]
			if v == nil || len(v.Value) != 43 || !v.HttpOnly || v.Secure || v.SameSite != http.SameSiteLaxMode ||
				v.Path != "/login" || v.Domain != "" || time.Until(v.Expires) > 20*time.Minute+time.Second || time.Until(v.Expires) < 19*time.Minute {
				t.Errorf("verifier cookie %+v; want 43 characters, HttpOnly, Lax, Path=/login, host-only, 20 minutes", v)
			}
			loc, _ := url.Parse(start.Header.Get("Location"))
			q := loc.Query()
			sum := sha256.Sum256([]byte(v.Value))
			back := f.URL + "/oauth?return_to=" + url.QueryEscape(returnTo)
			if loc.Path != "/v1/public/oauth/"+tc.provider+"/start" || q.Get("public_token") == "" ||
				q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) ||
				q.Get("login_redirect_url") != back || q.Get("signup_redirect_url") != back {
				t.Errorf("start step sent the browser to %s", loc)
			}
			if step.Query().Get("return_to") != returnTo {
				t.Errorf("return step %s lost return_to", step.Redacted())
			}

			done := f.getURL(step.String())
			if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != returnTo {
				t.Fatalf("return step: %d to %q, want 303 to %s: %q", done.StatusCode, done.Header.Get("Location"), returnTo, alert(done.body))
			}
			set := sessionCookies(done)
			if set["stytch_session"] == nil || set["stytch_session_jwt"] == nil {
				t.Fatalf("no session cookies: %v", done.Header["Set-Cookie"])
			}
			if c := set["latch_oauth_verifier"]; c == nil || c.MaxAge >= 0 {
				t.Errorf("verifier cookie after signing in: %+v, want it cleared", c)
			}
			types, _ := f.factorsOf(set["stytch_session"].Value)
			if !slices.Equal(types, []string{"oauth"}) {
				t.Errorf("factors %q, want [oauth]", types)
			}
			acct, _ := prov.Account(tc.login)
			if who := f.get(""); !strings.Contains(who.body, "Continue as "+acct.Email) {
				t.Errorf("the page does not know the browser as %s", acct.Email)
			}
			// The token is spent, and the verifier gone with it.
			if again := f.getURL(step.String()); again.StatusCode != http.StatusBadRequest || sessionCookies(again)["stytch_session"] != nil {
				t.Errorf("the return step twice: %d %q", again.StatusCode, alert(again.body))
			}
			if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/oauth/authenticate", map[string]any{
				"token": step.Query().Get("token"), "code_verifier": v.Value}); s != http.StatusUnauthorized {
				t.Errorf("the token redeemed again: %d %v", s, res["error_type"])
			}
		})
	}
}

// TestOAuthSecondStep: a user with an authenticator app who signs in
// through a provider gets the second step, not a session.
func TestOAuthSecondStep(t *testing.T) {
	f, prov := newOAuthFixture(t, nil)
	step, _ := f.toReturnStep(prov, conformance.ProviderOIDC, "alice", app)
	first := f.getURL(step.String())
	token := sessionCookies(first)["stytch_session"]
	if first.StatusCode != http.StatusSeeOther || token == nil {
		t.Fatalf("first sign-in: %d %q", first.StatusCode, alert(first.body))
	}
	s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token.Value})
	if s != http.StatusOK {
		t.Fatalf("first session: %d %v", s, res)
	}
	acct, _ := prov.Account("alice")
	user, _ := res["user"].(map[string]any)
	u := f.enrol(acct.Email, user["user_id"])

	// Another browser, with nothing of the first.
	jar, _ := cookiejar.New(nil)
	f.http.Jar, f.jar = jar, jar
	step, _ = f.toReturnStep(prov, conformance.ProviderOIDC, "alice", app)
	held := f.getURL(step.String())
	f.atSecondStep(held)
	done := f.post("/totp", with(hidden(held.body), "code", u.nextCode(t)))
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != app {
		t.Fatalf("second step: %d %q", done.StatusCode, alert(done.body))
	}
	types, _ := f.factorsOf(sessionCookies(done)["stytch_session"].Value)
	if !slices.Equal(types, []string{"oauth", "totp"}) {
		t.Errorf("factors %q, want [oauth totp]", types)
	}
}

// TestOAuthOtherBrowser: login CSRF. Someone signs in at the provider as
// themselves and sends the return step's URL to another browser, to sign
// it into their account: it is refused there and spends nothing; so is a
// token started without the page's challenge.
func TestOAuthOtherBrowser(t *testing.T) {
	f, prov := newOAuthFixture(t, nil)
	step, _ := f.toReturnStep(prov, conformance.ProviderOIDC, "bob", app)
	attacker := f.http.Jar

	fresh := func() http.CookieJar { j, _ := cookiejar.New(nil); return j }
	withOwnVerifier := func() http.CookieJar {
		j := fresh()
		f.inBrowser(j, func() {
			page := f.get("")
			href := htmlUnescape(oauthLinkRE.FindStringSubmatch(page.body)[2])
			f.getURL(href) // a sign-in of its own, started and left
		})
		return j
	}
	for _, victim := range []struct {
		name string
		jar  func() http.CookieJar
	}{
		{name: "no verifier", jar: fresh},
		{name: "a verifier of its own", jar: withOwnVerifier},
		{name: "a forged verifier", jar: func() http.CookieJar {
			j := fresh()
			u, _ := url.Parse(f.URL)
			j.SetCookies(u, []*http.Cookie{{Name: "latch_oauth_verifier", Value: strings.Repeat("A", 43), Path: "/login"}})
			return j
		}},
	} {
		t.Run(victim.name, func(t *testing.T) {
			f.inBrowser(victim.jar(), func() {
				a := f.getURL(step.String())
				if a.StatusCode != http.StatusBadRequest || sessionCookies(a)["stytch_session"] != nil ||
					!strings.Contains(alert(a.body), "started in another browser") || !strings.Contains(a.body, `id="start-over"`) {
					t.Errorf("another browser: %d %q %v", a.StatusCode, alert(a.body), a.Header["Set-Cookie"])
				}
			})
		})
	}

	// A token started at the engine directly, without a challenge, to
	// the page's return step: refused even in a browser holding a
	// verifier.
	t.Run("no challenge", func(t *testing.T) {
		victim := withOwnVerifier()
		f.inBrowser(fresh(), func() {
			start := f.engineURL + "/v1/public/oauth/" + conformance.ProviderOIDC + "/start?" + url.Values{
				"public_token": {f.publicToken(t)}, "login_redirect_url": {f.URL + "/oauth"}, "signup_redirect_url": {f.URL + "/oauth"}}.Encode()
			toProvider := f.getURL(start)
			authURL, _ := url.Parse(toProvider.Header.Get("Location"))
			callback, err := prov.SignInAt(f.http, authURL, "bob")
			if err != nil {
				t.Fatal(err)
			}
			forged := f.getURL(callback.String()).Header.Get("Location")
			f.inBrowser(victim, func() {
				a := f.getURL(forged)
				if a.StatusCode != http.StatusBadRequest || sessionCookies(a)["stytch_session"] != nil {
					t.Errorf("a token without a challenge: %d %q", a.StatusCode, alert(a.body))
				}
			})
		})
	})

	// Nothing was spent: the browser that started signs in.
	f.inBrowser(attacker, func() {
		if a := f.getURL(step.String()); a.StatusCode != http.StatusSeeOther || sessionCookies(a)["stytch_session"] == nil {
			t.Errorf("the browser that started: %d %q", a.StatusCode, alert(a.body))
		}
	})
}

// publicToken is the public token the page's start step sends.
func (f *fixture) publicToken(t *testing.T) string {
	t.Helper()
	page := f.get("")
	m := oauthLinkRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no Continue with … on the sign-in page")
	}
	start := f.getURL(htmlUnescape(m[2]))
	loc, _ := url.Parse(start.Header.Get("Location"))
	return loc.Query().Get("public_token")
}

// TestOAuthSteps: the start and return steps' refusals, and their rate
// limit, the page's count of posts.
func TestOAuthSteps(t *testing.T) {
	// A clock that stands still, near the real one: the verifier cookie
	// expires by it.
	now := time.Now().Truncate(time.Second)
	f, _ := newOAuthFixture(t, func(c *loginpage.Config) { c.Now = func() time.Time { return now } })
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{name: "unknown provider", path: "/oauth/start?provider=nope", status: http.StatusNotFound},
		{name: "return_to off the list", path: "/oauth/start?provider=acme&return_to=" + url.QueryEscape("https://evil.example/"), status: http.StatusBadRequest},
		{name: "return step without a token", path: "/oauth?stytch_token_type=oauth", status: http.StatusBadRequest},
		{name: "return step of another token type", path: "/oauth?stytch_token_type=magic_links&token=" + strings.Repeat("a", 44), status: http.StatusBadRequest},
		{name: "return step off the list", path: "/oauth?stytch_token_type=oauth&token=x&return_to=" + url.QueryEscape("https://evil.example/"), status: http.StatusBadRequest},
	} {
		if a := f.get(tc.path); a.StatusCode != tc.status || a.Header.Get("Location") != "" || strings.Contains(a.body, "evil") {
			t.Errorf("%s: %d to %q, want %d", tc.name, a.StatusCode, a.Header.Get("Location"), tc.status)
		}
	}
	// This browser holds a verifier now: an unknown token is a token
	// that expired.
	f.get("/oauth/start?provider=acme")
	if a := f.get("/oauth?stytch_token_type=oauth&token=" + strings.Repeat("a", 44)); a.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(alert(a.body), "expired or was already used") {
		t.Errorf("unknown token: %d %q", a.StatusCode, alert(a.body))
	}
	var last answer
	for range 30 {
		last = f.get("/oauth/start?provider=acme")
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") != "61" {
		t.Errorf("past 30 steps in a minute: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	if a := f.get("/oauth?stytch_token_type=oauth&token=x"); a.StatusCode != http.StatusTooManyRequests {
		t.Errorf("return step past the limit: %d", a.StatusCode)
	}
	now = now.Add(time.Minute)
	if a := f.get("/oauth/start?provider=acme"); a.StatusCode != http.StatusSeeOther {
		t.Errorf("the next minute: %d", a.StatusCode)
	}
}

// TestOAuthConfigChecked: providers need the public token and names the
// engine could have; without providers the page offers none and its
// social paths are the API's.
func TestOAuthConfigChecked(t *testing.T) {
	ok := loginpage.Config{API: http.NotFoundHandler(), ProjectID: "project-test-x", Secret: "s",
		URL: "http://127.0.0.1:8787/login", ReturnURLs: []string{app},
		PublicToken:    "public-token-test-00000000-0000-0000-0000-000000000000",
		OAuthProviders: []loginpage.OAuthProvider{{Name: "google"}, {Name: "corp-sso", DisplayName: "Corp"}}}
	if _, err := loginpage.New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, change := range map[string]func(*loginpage.Config){
		"no public token": func(c *loginpage.Config) { c.PublicToken = "" },
		"upper case name": func(c *loginpage.Config) { c.OAuthProviders = []loginpage.OAuthProvider{{Name: "Google"}} },
		"name with slash": func(c *loginpage.Config) { c.OAuthProviders = []loginpage.OAuthProvider{{Name: "a/b"}} },
		"empty name":      func(c *loginpage.Config) { c.OAuthProviders = []loginpage.OAuthProvider{{DisplayName: "X"}} },
		"twice":           func(c *loginpage.Config) { c.OAuthProviders = []loginpage.OAuthProvider{{Name: "x"}, {Name: "x"}} },
	} {
		c := ok
		change(&c)
		if _, err := loginpage.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	f := newFixture(t, nil)
	page := f.get("")
	if strings.Contains(page.body, `class="social"`) {
		t.Error("a page without providers offers one")
	}
	if a := f.get("/oauth/start?provider=acme"); a.StatusCode != http.StatusNotFound || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") {
		t.Errorf("/oauth/start without providers: %d %q, want the API's 404", a.StatusCode, a.Header.Get("Content-Type"))
	}
}
