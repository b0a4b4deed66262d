package loginpage_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"

	"github.com/latchauth/latch/wasm/loginpage"
)

// TestResetLinkBoundToBrowser: a reset link signs in, so it is bound to
// the browser that asked for it as sign-in links are. Forwarded to another
// browser — an attacker's link for their own account, which would sign the
// recipient in as the attacker — it is refused and stays unspent; the
// browser that asked can still use it. A reset link sent through the API
// without a challenge is refused too, unless InsecureUnboundLinks.
func TestResetLinkBoundToBrowser(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const email = "bound-reset@example.com"
	if s, res, _ := f.api.Do(ctx, http.MethodPost, "/v1/passwords", map[string]any{"email": email, "password": "correct horse battery staple 42"}); s != http.StatusOK {
		t.Fatalf("create password: %d %v", s, res)
	}
	start := f.get("/reset")
	after := f.box.Last()
	f.post("/reset/start", with(hidden(start.body), "email", email))
	link, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/reset?") + `\S+`).FindString(f.mail(email, after).Text))

	other, _ := cookiejar.New(nil)
	f.inBrowser(other, func() {
		form := f.get("/reset?" + link.RawQuery)
		done := f.post("/reset", with(hidden(form.body), "password", "purple elephant marching slowly 7"))
		if done.StatusCode != http.StatusBadRequest || sessionCookies(done)["stytch_session"] != nil {
			t.Fatalf("another browser: %d %q, want 400 and no session", done.StatusCode, alert(done.body))
		}
	})
	form := f.get("/reset?" + link.RawQuery)
	if done := f.post("/reset", with(hidden(form.body), "password", "purple elephant marching slowly 7")); done.StatusCode != http.StatusSeeOther {
		t.Fatalf("the browser that asked: %d %q", done.StatusCode, alert(done.body))
	}

	for _, unbound := range []bool{false, true} {
		g := newFixture(t, func(c *loginpage.Config) { c.InsecureUnboundLinks = unbound })
		const to = "api-reset@example.com"
		if s, res, _ := g.api.Do(ctx, http.MethodPost, "/v1/passwords", map[string]any{"email": to, "password": "correct horse battery staple 42"}); s != http.StatusOK {
			t.Fatalf("create password: %d %v", s, res)
		}
		after := g.box.Last()
		if s, res, _ := g.api.Do(ctx, http.MethodPost, "/v1/passwords/email/reset/start", map[string]any{
			"email": to, "reset_password_redirect_url": g.URL + "/reset"}); s != http.StatusOK {
			t.Fatalf("reset start through the API: %d %v", s, res)
		}
		l, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(g.URL+"/reset?") + `\S+`).FindString(g.mail(to, after).Text))
		form := g.get("/reset?" + l.RawQuery)
		done := g.post("/reset", with(hidden(form.body), "password", "purple elephant marching slowly 7"))
		if signedIn := done.StatusCode == http.StatusSeeOther; signedIn != unbound {
			t.Errorf("InsecureUnboundLinks %v: a reset link without a challenge answered %d %q", unbound, done.StatusCode, alert(done.body))
		}
	}
}
