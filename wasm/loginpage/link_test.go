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

// TestLinkWithoutChallenge: a link to the page that the app sent through
// the API, with no challenge, still signs in, also in a browser holding
// a verifier from a link of its own.
func TestLinkWithoutChallenge(t *testing.T) {
	f := newFixture(t, nil)
	f.sendLink("mine@example.com") // this browser now holds a verifier
	const email = "app@example.com"
	after := f.box.Last()
	if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/magic_links/email/login_or_create", map[string]any{
		"email": email, "login_magic_link_url": f.URL + "/magic", "signup_magic_link_url": f.URL + "/magic"}); s != http.StatusOK {
		t.Fatalf("send a link through the API: %d %v", s, res)
	}
	link, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/magic?") + `\S+`).FindString(f.mail(email, after).Text))
	confirm := f.get("/magic?" + link.RawQuery)
	if done := f.post("/magic", hidden(confirm.body)); done.StatusCode != http.StatusSeeOther {
		t.Errorf("a link without a challenge: %d %q", done.StatusCode, alert(done.body))
	}
}
