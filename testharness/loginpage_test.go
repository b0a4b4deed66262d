package testharness

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchauth/latch/testharness/mailbox"
	"github.com/latchauth/latch/wasm/loginpage"
	"github.com/latchauth/latch/wasm/mail"
)

// TestLoginPage serves the hosted login page from the wazero host, as
// latch-local does: at the server's URL + /login, mailed links back to it,
// and the API beside it. A code login through the page starts a session
// the API knows.
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
	if m := waitMail(t, box, "link@example.com", 0); !strings.Contains(m.Text, s.URL+"/login/magic?") {
		t.Errorf("the link does not lead to the page: %s", m.Text)
	}
}
