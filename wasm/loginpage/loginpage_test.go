package loginpage_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/mail"
)

// The app the page returns browsers to.
const app = "http://127.0.0.1:3000/"

// fixture is a login page in front of a real engine (package native, over
// SQLite) whose mail is delivered by SMTP to a mailbox on loopback.
type fixture struct {
	t    *testing.T
	URL  string       // the page
	h    http.Handler // the page's handler, for requests made in process
	api  *apitest.Client
	box  *mailbox.Mailbox
	jar  http.CookieJar
	http *http.Client
	// engineURL is where the engine itself answers (the page passes it
	// every request outside its own paths).
	engineURL string
}

func newFixture(t *testing.T, change func(*loginpage.Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, native.Config{}, change)
}

// newFixtureOn is newFixture with the engine's settings (mail and
// redirect URLs are the fixture's).
func newFixtureOn(t *testing.T, ec native.Config, change func(*loginpage.Config)) *fixture {
	t.Helper()
	return newFixtureAt(t, "127.0.0.1", func(string) native.Config { return ec }, change)
}

// newFixtureAt is newFixtureOn with the page served as http://host:<port>
// (host a name of the loopback address the page listens on), and the
// engine's settings made from that origin.
func newFixtureAt(t *testing.T, host string, engineConfig func(origin string) native.Config, change func(*loginpage.Config)) *fixture {
	t.Helper()
	box := mailbox.New(0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailbox.ServeSMTP(l, box, mailbox.SMTPConfig{})
	t.Cleanup(func() { smtp.Close() })

	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	origin := "http://" + net.JoinHostPort(host, port)
	pageURL := origin + "/login"
	ec := engineConfig(origin)
	links, err := loginpage.LinkURLs(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	ec.Mailer, ec.MailFrom, ec.RedirectURLs = &mail.SMTP{Addr: smtp.Addr}, "login@example.com", links
	eng := native.Start(t, ec)
	target, _ := url.Parse(eng.URL)
	cfg := loginpage.Config{API: httputil.NewSingleHostReverseProxy(target), ProjectID: eng.ProjectID, Secret: eng.Secret,
		URL: pageURL, ReturnURLs: []string{app}, Name: "Acme", PublicToken: eng.PublicToken}
	if change != nil {
		change(&cfg)
	}
	h, err := loginpage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &fixture{t: t, URL: pageURL, h: h, box: box, jar: jar, engineURL: eng.URL,
		api: &apitest.Client{URL: eng.URL, ProjectID: eng.ProjectID, Secret: eng.Secret},
		http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is one response, its body read.
type answer struct {
	*http.Response
	body string
}

func (f *fixture) do(req *http.Request) answer {
	f.t.Helper()
	res, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res, string(b)}
}

func (f *fixture) get(path string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.URL+path, nil)
	return f.do(req)
}

// post submits a form as the page's own, with the csrf field of the last
// page read unless form sets one; headers are added.
func (f *fixture) post(path string, form url.Values, headers ...string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return f.do(req)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hidden returns the hidden fields of the first form in a page.
func hidden(body string) url.Values {
	v := url.Values{}
	form, _, _ := strings.Cut(body, "</form>")
	for _, m := range hiddenRE.FindAllStringSubmatch(form, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// with returns v plus the pairs.
func with(v url.Values, pairs ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		out.Set(pairs[i], pairs[i+1])
	}
	return out
}

// mail waits for the next message to to.
func (f *fixture) mail(to string, after int) *mailbox.Message {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := f.box.Wait(ctx, to, after)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

var codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)

// signInByCode runs the code flow for email and returns the final answer.
func (f *fixture) signInByCode(email string) answer {
	f.t.Helper()
	page := f.get("")
	after := f.box.Last()
	sent := f.post("/email", with(hidden(page.body), "email", email, "method", "code"))
	if sent.StatusCode != http.StatusOK || !strings.Contains(sent.body, `id="code"`) {
		f.t.Fatalf("send code: %d %s", sent.StatusCode, sent.body)
	}
	code := codeRE.FindString(f.mail(email, after).Text)
	return f.post("/code", with(hidden(sent.body), "code", code))
}

// sessionCookies returns the Set-Cookie headers of a by name.
func sessionCookies(a answer) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range a.Cookies() {
		out[c.Name] = c
	}
	return out
}

func TestCodeLogin(t *testing.T) {
	f := newFixture(t, nil)
	done := f.signInByCode("ada@example.com")
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != app {
		t.Fatalf("code login: %d to %q, want 303 to %s; %s", done.StatusCode, done.Header.Get("Location"), app, done.body)
	}
	jar := sessionCookies(done)
	for _, name := range []string{"stytch_session", "stytch_session_jwt"} {
		c := jar[name]
		if c == nil || c.Value == "" {
			t.Fatalf("no %s cookie: %v", name, done.Header["Set-Cookie"])
		}
		week := time.Now().Add(7 * 24 * time.Hour)
		if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" ||
			c.Expires.Before(week.Add(-time.Minute)) || c.Expires.After(week.Add(time.Minute)) {
			t.Errorf("%s: %+v, want HttpOnly, not Secure (loopback), Lax, Path=/, host-only, expiring in 7 days", name, c)
		}
	}
	// The cookies name one live session, lengthened to the full duration.
	status, res, err := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_token": jar["stytch_session"].Value})
	if err != nil || status != http.StatusOK {
		t.Fatalf("the session cookie does not authenticate: %d %v %v", status, res, err)
	}
	status, _, _ = f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate",
		map[string]any{"session_jwt": jar["stytch_session_jwt"].Value})
	if status != http.StatusOK {
		t.Errorf("the JWT cookie does not authenticate: %d", status)
	}
}

func TestSecureCookiesOffLoopback(t *testing.T) {
	// A page on https gets Secure cookies and the __Host- CSRF cookie. The
	// test server is plain HTTP, so only the answers are read.
	f := newFixture(t, func(c *loginpage.Config) { c.URL = "https://auth.example.com/login"; c.CookieDomain = "example.com" })
	page := f.get("")
	var csrf *http.Cookie
	for _, c := range page.Cookies() {
		csrf = c
	}
	if csrf == nil || csrf.Name != "__Host-latch_csrf" || !csrf.Secure || csrf.Path != "/" || csrf.Domain != "" {
		t.Errorf("CSRF cookie on an https page: %+v", csrf)
	}
	if hsts := page.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security on an https page")
	}
}

func TestHeaders(t *testing.T) {
	f := newFixture(t, func(c *loginpage.Config) { c.LogoURL = "https://cdn.example.com/logo.png" })
	for _, path := range []string{"", "/", "/logout", "/style.css"} {
		a := f.get(path)
		if a.StatusCode != http.StatusOK {
			t.Errorf("GET %q: %d", path, a.StatusCode)
		}
		want := map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' https://cdn.example.com; " +
				"form-action 'self' http://127.0.0.1:3000; frame-ancestors 'none'; base-uri 'none'",
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		}
		for k, v := range want {
			if got := a.Header.Get(k); got != v {
				t.Errorf("GET %q: %s = %q, want %q", path, k, got, v)
			}
		}
		if path != "/style.css" && a.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %q: Cache-Control %q", path, a.Header.Get("Cache-Control"))
		}
	}
	// Outside the page's own paths the API answers, as it would alone:
	// its 401 without credentials, its 404 for a path not in canonical
	// form (not a redirect), JSON either way.
	base := strings.TrimSuffix(f.URL, "/login")
	for path, want := range map[string]int{
		"/v1/users/user-test-00000000-0000-0000-0000-000000000000": http.StatusUnauthorized,
		"/login/../v1/users": http.StatusNotFound,
		"/login//email":      http.StatusNotFound,
		"/login/unknown":     http.StatusNotFound,
	} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.URL.Opaque = path // sent as written
		a := f.do(req)
		if a.StatusCode != want || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %q, want the API's %d", path, a.StatusCode, a.Header.Get("Content-Type"), want)
		}
	}
}

func TestAccessibleMarkup(t *testing.T) {
	f := newFixture(t, nil)
	page := f.get("")
	for _, want := range []string{`<html lang="en">`, `<label for="email">Email</label>`, `<label for="password">Password</label>`,
		`id="error" role="alert"`, `id="status" role="status"`, `autocomplete="current-password"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if n := strings.Count(page.body, "autofocus"); n != 1 {
		t.Errorf("%d autofocus attributes, want 1", n)
	}
	// An error is announced, and its field marked, described and focused.
	bad := f.post("/password", with(hidden(page.body), "email", "ada@example.com", "password", "wrong horse battery"))
	if !strings.Contains(bad.body, `<div id="error" role="alert"><p class="error">The email or password is not right. After several wrong tries`) ||
		!regexp.MustCompile(`id="password" [^>]*aria-invalid="true" autofocus aria-describedby="error"`).MatchString(bad.body) {
		t.Errorf("password error not announced on its field: %s", bad.body)
	}
	if strings.Contains(bad.body, "<script") {
		t.Error("the page has a script")
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, nil)
	page := f.get("")
	good := with(hidden(page.body), "email", "csrf@example.com", "method", "code")
	cases := []struct {
		name    string
		form    url.Values
		headers []string
		clear   bool // no CSRF cookie
	}{
		{name: "no token", form: with(good, "csrf", "")},
		{name: "wrong token", form: with(good, "csrf", strings.Repeat("A", 43))},
		{name: "cross-site", form: good, headers: []string{"Sec-Fetch-Site", "cross-site"}},
		{name: "same-site other origin", form: good, headers: []string{"Sec-Fetch-Site", "same-site"}},
		{name: "foreign Origin", form: good, headers: []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
		{name: "null Origin", form: good, headers: []string{"Sec-Fetch-Site", "", "Origin", "null"}},
		{name: "no cookie", form: good, clear: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.clear {
				u, _ := url.Parse(f.URL)
				saved := f.jar.Cookies(u)
				fresh, _ := cookiejar.New(nil)
				f.http.Jar = fresh
				defer func() { f.http.Jar = f.jar; f.jar.SetCookies(u, saved) }()
			}
			before := f.box.Last()
			a := f.post("/email", tc.form, tc.headers...)
			if a.StatusCode != http.StatusForbidden || !strings.Contains(a.body, "This form expired") {
				t.Errorf("answered %d, want 403 with the form again: %s", a.StatusCode, a.body)
			}
			// Mail is delivered before the API answers: a marker sent now
			// comes after any mail the refused form had caused.
			marker := "marker-" + strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/otps/email/login_or_create",
				map[string]any{"email": marker}); s != http.StatusOK {
				t.Fatalf("marker mail: %d %v", s, res)
			}
			f.mail(marker, before)
			for _, m := range f.box.Messages() {
				if m.ID > before && strings.Contains(m.To, "csrf@example.com") {
					t.Error("a refused form sent mail")
				}
			}
		})
	}
	// The form itself still works, and the answer to a refused one
	// carries a working form.
	if a := f.post("/email", good); a.StatusCode != http.StatusOK {
		t.Errorf("the right form answered %d", a.StatusCode)
	}
}

func TestReturnTo(t *testing.T) {
	f := newFixture(t, func(c *loginpage.Config) {
		c.ReturnURLs = []string{app, "https://app.example.com/dashboard"}
	})
	cases := []struct {
		returnTo string
		ok       bool
	}{
		{"", true},
		{app, true},
		{app + "deep/page?tab=2", true},
		{"http://127.0.0.1:3000", true},
		{"https://app.example.com/dashboard", true},
		{"https://app.example.com/dashboard?x=1", true},
		{"https://app.example.com/dashboard/more", false}, // no trailing slash: exact path
		{"https://app.example.com/", false},
		{"http://app.example.com/dashboard", false},
		{"http://127.0.0.1:3001/", false},
		{"http://127.0.0.1:3000@evil.example/", false},
		{"http://evil.example/?http://127.0.0.1:3000/", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		{"/relative", false},
		{"http://127.0.0.1:3000/a/../../evil", false},
		{"http://127.0.0.1:3000/%2e%2e/x", false},
		{"http://127.0.0.1:3000/#frag", false},
		{"javascript:alert(1)", false},
		{"http://127.0.0.1:3000/\r\nSet-Cookie:x=1", false},
	}
	for _, tc := range cases {
		a := f.get("?return_to=" + url.QueryEscape(tc.returnTo))
		got := hidden(a.body).Get("return_to")
		want := tc.returnTo
		if want == "" {
			want = app
		}
		switch {
		case tc.ok && (a.StatusCode != http.StatusOK || got != want && got != tc.returnTo):
			t.Errorf("return_to %q: %d, form returns to %q", tc.returnTo, a.StatusCode, got)
		case !tc.ok && (a.StatusCode != http.StatusBadRequest || strings.Contains(a.body, "evil") || got != ""):
			t.Errorf("return_to %q: %d, want 400 with no trace of it: %s", tc.returnTo, a.StatusCode, a.body)
		}
		// A POST is checked again: a changed field sends nowhere.
		if !tc.ok {
			p := f.get("")
			a := f.post("/logout", with(hidden(p.body), "return_to", tc.returnTo))
			if a.StatusCode != http.StatusBadRequest || a.Header.Get("Location") != "" {
				t.Errorf("POST logout with return_to %q: %d to %q", tc.returnTo, a.StatusCode, a.Header.Get("Location"))
			}
		}
	}
}

func TestPasswordNoEnumeration(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if s, res, _ := f.api.Do(ctx, http.MethodPost, "/v1/passwords", map[string]any{"email": "pw@example.com",
		"password": "correct horse battery staple 42"}); s != http.StatusOK {
		t.Fatalf("create password user: %d %v", s, res)
	}
	page := f.get("")
	unknown := f.post("/password", with(hidden(page.body), "email", "nobody@example.com", "password", "correct horse battery staple 42"))
	wrong := f.post("/password", with(hidden(page.body), "email", "pw@example.com", "password", "not the password at all"))
	if unknown.StatusCode != wrong.StatusCode || alert(unknown.body) != alert(wrong.body) || alert(wrong.body) == "" {
		t.Errorf("unknown email %d %q, wrong password %d %q: want the same answer", unknown.StatusCode, alert(unknown.body), wrong.StatusCode, alert(wrong.body))
	}
	ok := f.post("/password", with(hidden(page.body), "email", "pw@example.com", "password", "correct horse battery staple 42"))
	if ok.StatusCode != http.StatusSeeOther || sessionCookies(ok)["stytch_session"] == nil {
		t.Errorf("right password: %d %s", ok.StatusCode, ok.body)
	}
	// What was typed is shown again, escaped.
	xss := f.post("/password", with(hidden(page.body), "email", `"><script>alert(1)</script>`, "password", "x"))
	if strings.Contains(xss.body, "<script>") || !strings.Contains(xss.body, "&#34;&gt;&lt;script&gt;") {
		t.Errorf("typed email not escaped: %s", xss.body)
	}
}

var alertRE = regexp.MustCompile(`<div id="error" role="alert">(.*?)</div>`)

func alert(body string) string {
	m := alertRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestMagicLinkNeedsAClick(t *testing.T) {
	f := newFixture(t, nil)
	const email = "link@example.com"
	page := f.get("?return_to=" + url.QueryEscape(app+"after"))
	after := f.box.Last()
	sent := f.post("/email", with(hidden(page.body), "email", email, "method", "link"))
	if sent.StatusCode != http.StatusOK || !strings.Contains(sent.body, "Check your email") {
		t.Fatalf("send link: %d %s", sent.StatusCode, sent.body)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(f.URL+"/magic?") + `\S+`).FindString(f.mail(email, after).Text)
	if link == "" {
		t.Fatal("no link to the page in the mail")
	}
	u, _ := url.Parse(link)
	// Opening the link (a mail scanner would) spends nothing.
	for range 2 {
		if a := f.get("/magic?" + u.RawQuery); a.StatusCode != http.StatusOK || !strings.Contains(a.body, `id="magic-submit"`) {
			t.Fatalf("open link: %d %s", a.StatusCode, a.body)
		}
	}
	confirm := f.get("/magic?" + u.RawQuery)
	done := f.post("/magic", hidden(confirm.body))
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != app+"after" {
		t.Fatalf("confirm: %d to %q", done.StatusCode, done.Header.Get("Location"))
	}
	again := f.post("/magic", hidden(confirm.body))
	if again.StatusCode != http.StatusUnauthorized || !strings.Contains(again.body, "expired or was already used") {
		t.Errorf("the link spent twice: %d", again.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, nil)
	done := f.signInByCode("out@example.com")
	token := sessionCookies(done)["stytch_session"].Value
	confirm := f.get("/logout?return_to=" + url.QueryEscape(app))
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.body, `id="logout-submit"`) {
		t.Fatalf("logout page: %d", confirm.StatusCode)
	}
	// GET alone signs nobody out.
	if s, _, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token}); s != http.StatusOK {
		t.Fatalf("GET /logout ended the session: %d", s)
	}
	out := f.post("/logout", hidden(confirm.body))
	if out.StatusCode != http.StatusSeeOther || out.Header.Get("Location") != app {
		t.Fatalf("logout: %d to %q", out.StatusCode, out.Header.Get("Location"))
	}
	for _, name := range []string{"stytch_session", "stytch_session_jwt"} {
		if c := sessionCookies(out)[name]; c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("%s not cleared: %+v", name, c)
		}
	}
	if s, _, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token}); s != http.StatusNotFound {
		t.Errorf("after logout the session authenticates: %d", s)
	}
}

func TestNewLoginRevokesTheOldSession(t *testing.T) {
	f := newFixture(t, nil)
	first := sessionCookies(f.signInByCode("first@example.com"))["stytch_session"].Value
	second := sessionCookies(f.signInByCode("second@example.com"))["stytch_session"].Value
	if first == second {
		t.Fatal("the same token twice")
	}
	if s, _, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": first}); s != http.StatusNotFound {
		t.Errorf("the browser's earlier session still authenticates: %d", s)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, func(c *loginpage.Config) { c.Now = func() time.Time { return now } })
	page := f.get("")
	form := with(hidden(page.body), "email", "flood@example.com", "password", "not the password at all")
	var last answer
	for i := 0; i < 31; i++ {
		last = f.post("/password", form)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") != "61" {
		t.Errorf("31st post in a minute: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	now = now.Add(time.Minute)
	if a := f.post("/password", form); a.StatusCode == http.StatusTooManyRequests {
		t.Error("still limited in the next minute")
	}
}

func TestConfigChecked(t *testing.T) {
	ok := loginpage.Config{API: http.NotFoundHandler(), ProjectID: "project-test-x", Secret: "s",
		URL: "http://127.0.0.1:8787/login", ReturnURLs: []string{app}}
	cases := map[string]func(*loginpage.Config){
		"no API":                  func(c *loginpage.Config) { c.API = nil },
		"no secret":               func(c *loginpage.Config) { c.Secret = "" },
		"no return URLs":          func(c *loginpage.Config) { c.ReturnURLs = nil },
		"plain http off loopback": func(c *loginpage.Config) { c.URL = "http://auth.example.com/login" },
		"URL with query":          func(c *loginpage.Config) { c.URL = "https://auth.example.com/login?x=1" },
		"relative return URL":     func(c *loginpage.Config) { c.ReturnURLs = []string{"/home"} },
		"return URL user info":    func(c *loginpage.Config) { c.ReturnURLs = []string{"https://a@app.example.com/"} },
		"colour":                  func(c *loginpage.Config) { c.Colors.Accent = "red;}body{display:none" },
		"logo over http":          func(c *loginpage.Config) { c.LogoURL = "http://cdn.example.com/logo.png" },
		"cookie domain elsewhere": func(c *loginpage.Config) {
			c.URL, c.CookieDomain = "https://auth.example.com/login", "other.example"
		},
		"session minutes": func(c *loginpage.Config) { c.SessionDurationMinutes = -1 },
	}
	if _, err := loginpage.New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, change := range cases {
		c := ok
		change(&c)
		if _, err := loginpage.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPasswordReset(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const email, old, fresh = "reset@example.com", "correct horse battery staple 42", "purple elephant marching slowly 7"
	_, created, _ := f.api.Do(ctx, http.MethodPost, "/v1/passwords", map[string]any{"email": email, "password": old,
		"session_duration_minutes": 60})
	before, _ := created["session_token"].(string)

	signIn := f.get("")
	if !strings.Contains(signIn.body, `id="forgot" href="/login/reset?return_to=http%3A%2F%2F127.0.0.1%3A3000%2F"`) {
		t.Errorf("no reset link on the sign-in page: %s", signIn.body)
	}
	start := f.get("/reset")
	if start.StatusCode != http.StatusOK || !strings.Contains(start.body, `id="reset-email"`) {
		t.Fatalf("reset page: %d", start.StatusCode)
	}
	unknown := f.post("/reset/start", with(hidden(start.body), "email", "nobody@example.com"))
	after := f.box.Last()
	known := f.post("/reset/start", with(hidden(start.body), "email", email))
	if unknown.StatusCode != http.StatusOK || known.StatusCode != http.StatusOK || unknown.body != known.body {
		t.Errorf("unknown address %d, known %d: want the same answer", unknown.StatusCode, known.StatusCode)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(f.URL+"/reset?") + `\S+`).FindString(f.mail(email, after).Text)
	if link == "" {
		t.Fatal("no reset link to the page in the mail")
	}
	u, _ := url.Parse(link)
	form := f.get("/reset?" + u.RawQuery)
	if form.StatusCode != http.StatusOK || !strings.Contains(form.body, `autocomplete="new-password"`) {
		t.Fatalf("new password form: %d %s", form.StatusCode, form.body)
	}
	weak := f.post("/reset", with(hidden(form.body), "password", "password"))
	if weak.StatusCode != http.StatusBadRequest || !strings.Contains(alert(weak.body), "too easy to guess") ||
		!strings.Contains(weak.body, `id="new-password"`) {
		t.Errorf("weak password: %d %q", weak.StatusCode, alert(weak.body))
	}
	done := f.post("/reset", with(hidden(form.body), "password", fresh))
	if done.StatusCode != http.StatusSeeOther || sessionCookies(done)["stytch_session"] == nil {
		t.Fatalf("reset: %d %s", done.StatusCode, done.body)
	}
	if s, _, _ := f.api.Do(ctx, http.MethodPost, "/v1/passwords/authenticate", map[string]any{"email": email, "password": old}); s == http.StatusOK {
		t.Error("the old password still works")
	}
	if s, _, _ := f.api.Do(ctx, http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": before}); s != http.StatusNotFound {
		t.Errorf("the session from before the reset answered %d, want 404", s)
	}
	if again := f.post("/reset", with(hidden(form.body), "password", fresh+"x")); again.StatusCode == http.StatusSeeOther {
		t.Error("the reset link worked twice")
	}
}

func TestSharedRateLimit(t *testing.T) {
	var keys []string
	refuse := false
	var fail error
	f := newFixture(t, func(c *loginpage.Config) {
		c.Limit = func(_ context.Context, key string) (bool, error) {
			keys = append(keys, key)
			return !refuse, fail
		}
	})
	page := f.get("")
	form := with(hidden(page.body), "email", "shared@example.com", "password", "not the password at all")
	if a := f.post("/password", form); a.StatusCode != http.StatusUnauthorized {
		t.Errorf("allowed post: %d", a.StatusCode)
	}
	refuse = true
	if a := f.post("/password", form); a.StatusCode != http.StatusTooManyRequests || a.Header.Get("Retry-After") == "" {
		t.Errorf("refused by the shared limit: %d", a.StatusCode)
	}
	// An unavailable shared limit leaves the page's own count to decide.
	fail = errors.New("binding down")
	if a := f.post("/password", form); a.StatusCode != http.StatusUnauthorized {
		t.Errorf("shared limit failing: %d, want the post to go on", a.StatusCode)
	}
	if len(keys) != 3 || keys[0] != "127.0.0.1" {
		t.Errorf("keys asked: %q", keys)
	}
}

func TestAlreadySignedIn(t *testing.T) {
	f := newFixture(t, nil)
	if page := f.get(""); strings.Contains(page.body, `id="continue"`) {
		t.Fatal("offered to continue without a session")
	}
	f.signInByCode("back@example.com")
	page := f.get("?return_to=" + url.QueryEscape(app+"inbox"))
	if !strings.Contains(page.body, `You are signed in as back@example.com.`) ||
		!strings.Contains(page.body, `<a id="continue" href="http://127.0.0.1:3000/inbox">Continue as back@example.com</a>`) ||
		!strings.Contains(page.body, `id="email"`) {
		t.Errorf("signed-in sign-in page: %s", page.body)
	}
	// A session ended elsewhere is not offered.
	u, _ := url.Parse(f.URL)
	for _, c := range f.jar.Cookies(u) {
		if c.Name == "stytch_session" {
			f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/revoke", map[string]any{"session_token": c.Value})
		}
	}
	if page := f.get(""); strings.Contains(page.body, `id="continue"`) {
		t.Error("offered to continue a revoked session")
	}
}

// TestMailLimitSaid: the API's limit on mail to one address (one per
// 20 s) is said as such, with the address kept in the form.
func TestMailLimitSaid(t *testing.T) {
	f := newFixture(t, nil)
	page := f.get("")
	form := with(hidden(page.body), "email", "often@example.com", "method", "code")
	if a := f.post("/email", form); a.StatusCode != http.StatusOK {
		t.Fatalf("first code: %d", a.StatusCode)
	}
	again := f.post("/email", form)
	if again.StatusCode != http.StatusTooManyRequests || !strings.Contains(alert(again.body), "An email was sent a moment ago") ||
		!strings.Contains(again.body, `value="often@example.com"`) {
		t.Errorf("second code at once: %d %q", again.StatusCode, alert(again.body))
	}
}

// TestLogoutByJWT: a browser holding only the JWT cookie is signed out too.
func TestLogoutByJWT(t *testing.T) {
	f := newFixture(t, nil)
	jwt := sessionCookies(f.signInByCode("jwt@example.com"))["stytch_session_jwt"].Value
	u, _ := url.Parse(f.URL)
	only, _ := cookiejar.New(nil)
	for _, c := range f.jar.Cookies(u) {
		if c.Name != "stytch_session" {
			only.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
		}
	}
	f.http.Jar = only
	confirm := f.get("/logout")
	if out := f.post("/logout", hidden(confirm.body)); out.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", out.StatusCode)
	}
	if s, _, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_jwt": jwt}); s != http.StatusNotFound {
		t.Errorf("after logout by JWT the session authenticates: %d", s)
	}
}
