package loginpage_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/loginpage"
)

// sendLink asks the page for a sign-in link to email in the fixture's
// browser and returns the query of the mailed link and the answer.
func (f *fixture) sendLink(email string) (string, answer) {
	f.t.Helper()
	page := f.get("")
	after := f.box.Last()
	sent := f.post("/email", with(hidden(page.body), "email", email, "method", "link"))
	if sent.StatusCode != http.StatusOK {
		f.t.Fatalf("send link: %d %q", sent.StatusCode, alert(sent.body))
	}
	link, err := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/magic?") + `\S+`).FindString(f.mail(email, after).Text))
	if err != nil || link.RawQuery == "" {
		f.t.Fatalf("no link to the page in the mail: %v", err)
	}
	return link.RawQuery, sent
}

// inBrowser runs fn with the fixture in another browser: cookies of its
// own, none of the first one's.
func (f *fixture) inBrowser(jar http.CookieJar, fn func()) {
	saved := f.http.Jar
	f.http.Jar = jar
	defer func() { f.http.Jar = saved }()
	fn()
}

// TestLinkBoundToBrowser: a sign-in link the page sent works only in the
// browser that asked for it; opened in another it says so and spends
// nothing.
func TestLinkBoundToBrowser(t *testing.T) {
	f := newFixture(t, nil)
	const email = "bound@example.com"
	query, sent := f.sendLink(email)
	v := sessionCookies(sent)["latch_link_verifier"]
	hour := time.Now().Add(time.Hour)
	if v == nil || len(v.Value) != 43 || !v.HttpOnly || v.Secure || v.SameSite != http.SameSiteStrictMode ||
		v.Path != "/login" || v.Domain != "" || v.Expires.Before(hour.Add(-time.Minute)) || v.Expires.After(hour.Add(time.Minute)) {
		t.Errorf("verifier cookie %+v; want 43 characters, HttpOnly, Strict, Path=/login, host-only, for the link's hour", v)
	}
	// Another link from the same browser keeps its verifier: the first
	// link still works.
	_, again := f.sendLink("bound2@example.com")
	if w := sessionCookies(again)["latch_link_verifier"]; w == nil || v == nil || w.Value != v.Value {
		t.Errorf("a second link changed the verifier: %+v", w)
	}

	for _, other := range []struct {
		name string
		jar  func() http.CookieJar
	}{
		{name: "another browser", jar: func() http.CookieJar { j, _ := cookiejar.New(nil); return j }},
		{name: "this browser without its verifier", jar: func() http.CookieJar {
			j, _ := cookiejar.New(nil)
			u, _ := url.Parse(f.URL + "/magic")
			for _, c := range f.jar.Cookies(u) {
				if c.Name != "latch_link_verifier" {
					j.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
				}
			}
			return j
		}},
		{name: "another browser's verifier", jar: func() http.CookieJar {
			j, _ := cookiejar.New(nil)
			u, _ := url.Parse(f.URL + "/magic")
			j.SetCookies(u, []*http.Cookie{{Name: "latch_link_verifier", Value: strings.Repeat("A", 43), Path: "/login"}})
			return j
		}},
	} {
		t.Run(other.name, func(t *testing.T) {
			f.inBrowser(other.jar(), func() {
				confirm := f.get("/magic?" + query)
				done := f.post("/magic", hidden(confirm.body))
				if done.StatusCode != http.StatusBadRequest || sessionCookies(done)["stytch_session"] != nil ||
					!strings.Contains(alert(done.body), "Open this link in the browser where you asked for it") ||
					!strings.Contains(done.body, `id="start-over"`) {
					t.Errorf("link opened elsewhere: %d %q %v", done.StatusCode, alert(done.body), done.Header["Set-Cookie"])
				}
			})
		})
	}
	// Nothing was spent: the browser that asked signs in, and its
	// verifier, used, is cleared.
	confirm := f.get("/magic?" + query)
	done := f.post("/magic", hidden(confirm.body))
	if done.StatusCode != http.StatusSeeOther || sessionCookies(done)["stytch_session"] == nil {
		t.Fatalf("the browser that asked: %d %q", done.StatusCode, alert(done.body))
	}
	if c := sessionCookies(done)["latch_link_verifier"]; c == nil || c.MaxAge >= 0 {
		t.Errorf("verifier cookie after signing in: %+v, want it cleared", c)
	}
}

// TestLinkWithoutChallenge: a link to the page sent without a challenge
// — by the app through the API, or by anyone through the SDK surface, to
// their own inbox, then forwarded — would sign in whichever browser opens
// it as its sender (login CSRF). The page refuses it unspent, in a browser
// without a verifier and in one holding its own; with
// InsecureUnboundLinks it signs in, in both.
func TestLinkWithoutChallenge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		unbound bool
	}{
		{name: "refused by default"},
		{name: "spent with InsecureUnboundLinks", unbound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *loginpage.Config) { c.InsecureUnboundLinks = tc.unbound })
			sendUnbound := func(email string) url.Values {
				after := f.box.Last()
				if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/magic_links/email/login_or_create", map[string]any{
					"email": email, "login_magic_link_url": f.URL + "/magic", "signup_magic_link_url": f.URL + "/magic"}); s != http.StatusOK {
					t.Fatalf("send a link through the API: %d %v", s, res)
				}
				link, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/magic?") + `\S+`).FindString(f.mail(email, after).Text))
				return link.Query()
			}
			// A browser holding no verifier (the one a forwarded link reaches).
			q := sendUnbound("app@example.com")
			confirm := f.get("/magic?" + q.Encode())
			done := f.post("/magic", hidden(confirm.body))
			signedIn := done.StatusCode == http.StatusSeeOther && sessionCookies(done)["stytch_session"] != nil
			if signedIn != tc.unbound {
				t.Fatalf("no verifier held: %d %q, signed in %v", done.StatusCode, alert(done.body), signedIn)
			}
			if !tc.unbound {
				// Refused unspent: the API still takes the token.
				if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/magic_links/authenticate",
					map[string]any{"token": q.Get("token")}); s != http.StatusOK {
					t.Fatalf("the refused link was spent: %d %v", s, res)
				}
			}
			// A browser holding a verifier of its own.
			f.sendLink("mine@example.com")
			q = sendUnbound("app2@example.com")
			confirm = f.get("/magic?" + q.Encode())
			done = f.post("/magic", hidden(confirm.body))
			signedIn = done.StatusCode == http.StatusSeeOther && sessionCookies(done)["stytch_session"] != nil
			if signedIn != tc.unbound {
				t.Fatalf("a verifier held: %d %q, signed in %v", done.StatusCode, alert(done.body), signedIn)
			}
		})
	}
}
