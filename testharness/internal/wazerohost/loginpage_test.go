package wazerohost

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/mail"
)

// TestLoginPage serves the hosted login page from the wazero host, as
// latch-local does: at the server's URL + /login, mailed links back to it,
// and the API beside it. A code login through the page starts a session
// the API knows; a sign-in link works only in the browser that asked for
// it; a user with an authenticator app holds no session until its code.
func TestLoginPage(t *testing.T) {
	box, addr := smtpMailbox(t, mailbox.SMTPConfig{})
	s := startWith(t, Config{Mailer: &mail.SMTP{Addr: addr}, MailFrom: "Latch <login@latch.test>",
		LoginPage: &loginpage.Config{ReturnURLs: []string{"http://127.0.0.1:3000/"}}})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	read := func(res *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	fields := regexp.MustCompile(`name="(csrf|method_id|return_to)" value="([^"]*)"`)
	form := func(page string, kv ...string) url.Values {
		v := url.Values{}
		for _, m := range fields.FindAllStringSubmatch(page, -1) {
			v.Set(m[1], strings.ReplaceAll(m[2], "&amp;", "&"))
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	if s.LoginURL != s.URL+"/login" {
		t.Errorf("LoginURL %q, want %s/login", s.LoginURL, s.URL)
	}
	res, page := read(c.Get(s.URL + "/login"))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `action="/login/email"`) {
		t.Fatalf("GET /login: %d %s", res.StatusCode, page)
	}
	res, page = read(c.PostForm(s.URL+"/login/email", form(page, "email", "page@example.com", "method", "code")))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="code"`) {
		t.Fatalf("POST /login/email: %d %s", res.StatusCode, page)
	}
	code := codeRE.FindString(waitMail(t, box, "page@example.com", 0).Text)
	res, _ = read(c.PostForm(s.URL+"/login/code", form(page, "code", code)))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://127.0.0.1:3000/" {
		t.Fatalf("POST /login/code: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var token string
	for _, ck := range res.Cookies() {
		if ck.Name == "stytch_session" {
			token = ck.Value
		}
	}
	if status, body := call(t, s, http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token}); status != http.StatusOK {
		t.Errorf("the page's session does not authenticate: %d %v", status, body)
	}
	// A mailed link leads back to the page: its address is on the
	// engine's allow-list.
	_, page = read(c.Get(s.URL + "/login"))
	res, _ = read(c.PostForm(s.URL+"/login/email", form(page, "email", "link@example.com", "method", "link")))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("send link: %d", res.StatusCode)
	}
	m := waitMail(t, box, "link@example.com", 0)
	link := regexp.MustCompile(regexp.QuoteMeta(s.URL+"/login/magic?") + `\S+`).FindString(m.Text)
	if link == "" {
		t.Fatalf("the link does not lead to the page: %s", m.Text)
	}
	// It is bound to this browser: in another, it spends nothing.
	otherJar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: otherJar, CheckRedirect: c.CheckRedirect}
	_, page = read(other.Get(link))
	if res, body := read(other.PostForm(s.URL+"/login/magic", form(page, "token", tokenOf(t, link)))); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "Open this link in the browser where you asked for it") {
		t.Errorf("the link in another browser: %d", res.StatusCode)
	}
	_, page = read(c.Get(link))
	if res, _ := read(c.PostForm(s.URL+"/login/magic", form(page, "token", tokenOf(t, link)))); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the link in the browser that asked: %d", res.StatusCode)
	}

	// A user with an authenticator app: after the password the browser
	// holds no session, and the app's code finishes the sign-in.
	const email, password = "mfa@example.com", "correct horse battery staple 42"
	_, created := call(t, s, http.MethodPost, "/v1/passwords", map[string]any{"email": email, "password": password})
	_, totp := call(t, s, http.MethodPost, "/v1/totps", map[string]any{"user_id": created["user_id"]})
	secret, _ := totp["secret"].(string)
	now := time.Now().Unix()
	if status, body := call(t, s, http.MethodPost, "/v1/totps/authenticate", map[string]any{"user_id": created["user_id"],
		"totp_code": apitest.TOTP(t, secret, now)}); status != http.StatusOK {
		t.Fatalf("enrol: %d %v", status, body)
	}
	_, page = read(c.Get(s.URL + "/login"))
	res, page = read(c.PostForm(s.URL+"/login/password", form(page, "email", email, "password", password)))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="totp"`) {
		t.Fatalf("after the password: %d", res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if status, _ := call(t, s, http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": ck.Value}); status == http.StatusOK {
			t.Errorf("after the password alone, cookie %s is a session", ck.Name)
		}
	}
	res, _ = read(c.PostForm(s.URL+"/login/totp", form(page, "code", apitest.TOTP(t, secret, now+30))))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login/totp: %d", res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "stytch_session" {
			_, body := call(t, s, http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": ck.Value})
			sess, _ := body["session"].(map[string]any)
			if factors, _ := sess["authentication_factors"].([]any); len(factors) != 2 {
				t.Errorf("factors %v, want the password and the app", factors)
			}
		}
	}
}

// tokenOf is the token of a mailed link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// TestLoginPageOffersProviders: with OAuthProviders the page offers each
// provider, and its start step leads through the engine's start URL,
// with the server's public token and the page's return step on the
// engine's allow-list, to the provider.
func TestLoginPageOffersProviders(t *testing.T) {
	doc := []byte(`[{"provider":"github","client_id":"Iv1.c","client_secret":"s"}]`)
	s := startWith(t, Config{OAuthProviders: doc, LoginPage: &loginpage.Config{ReturnURLs: []string{"http://127.0.0.1:3000/"}}})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(raw string) (*http.Response, string) {
		t.Helper()
		res, err := c.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if _, page := get(s.URL + "/login"); !strings.Contains(page, `id="oauth-github" href="/login/oauth/start?provider=github&amp;return_to=`) ||
		!strings.Contains(page, ">Continue with GitHub</a>") {
		t.Fatalf("the page offers no GitHub: %s", page)
	}
	res, _ := get(s.URL + "/login/oauth/start?provider=github")
	start, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || start.Path != "/v1/public/oauth/github/start" || start.Query().Get("public_token") != s.PublicToken ||
		start.Query().Get("login_redirect_url") != s.URL+"/login/oauth?return_to="+url.QueryEscape("http://127.0.0.1:3000/") {
		t.Fatalf("start step: %d to %s", res.StatusCode, start)
	}
	res, body := get(s.URL + start.String())
	if to := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(to, "https://github.com/login/oauth/authorize?") {
		t.Errorf("the engine's start URL: %d to %q: %s", res.StatusCode, to, body)
	}
}
