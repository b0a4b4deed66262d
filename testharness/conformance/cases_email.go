package conformance

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mail returns the next message the host delivered to to, or skips a
// host without mail.
func (c *client) mail(to string) Mail {
	c.t.Helper()
	return c.tg.ReadMail(c.t, to)
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// mailedToken finds the link of tokenType in m, checks it leads to the
// host's redirect URL, and returns its token.
func (c *client) mailedToken(m Mail, tokenType string) string {
	c.t.Helper()
	for _, raw := range linkPattern.FindAllString(m.Text, -1) {
		u, err := url.Parse(raw)
		if err != nil || u.Query().Get("stytch_token_type") != tokenType {
			continue
		}
		base := *u
		base.RawQuery = ""
		if want, _ := url.Parse(c.tg.RedirectURL); base.String() != want.String() {
			c.t.Fatalf("mailed link %s does not lead to %s", raw, c.tg.RedirectURL)
		}
		if tok := u.Query().Get("token"); tok != "" {
			if !htmlLinksTo(m.HTML, tok) {
				c.t.Errorf("the HTML part has no link with the text part's token")
			}
			return tok
		}
	}
	c.t.Fatalf("no %s link in the mail %q: %q", tokenType, m.Subject, m.Text)
	return ""
}

var hrefPattern = regexp.MustCompile(`href="([^"]+)"`)

// htmlLinksTo reports whether an href of page carries token.
func htmlLinksTo(page, token string) bool {
	for _, m := range hrefPattern.FindAllStringSubmatch(page, -1) {
		if u, err := url.Parse(html.UnescapeString(m[1])); err == nil && u.Query().Get("token") == token {
			return true
		}
	}
	return false
}

var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// mailedCode returns the six-digit code of m.
func (c *client) mailedCode(m Mail) string {
	c.t.Helper()
	code := codePattern.FindString(m.Text)
	if code == "" || !strings.Contains(m.HTML, code) {
		c.t.Fatalf("no code in both parts of the mail %q: %q", m.Subject, m.Text)
	}
	return code
}

// withMail makes each case skip on a host without mail.
func withMail(cases []testCase) []testCase {
	for i := range cases {
		run := cases[i].run
		cases[i].run = func(t *testing.T, c *client) {
			if c.tg.ReadMail == nil {
				t.Skip("host delivers no mail")
			}
			run(t, c)
		}
	}
	return cases
}

// checkMailNames checks what every mail says: the project, and for how long.
func checkMailNames(t *testing.T, m Mail, minutes string) {
	t.Helper()
	if m.Subject == "" || !strings.Contains(m.Text, minutes+" minutes") {
		t.Errorf("mail %q does not say it works for %s minutes: %q", m.Subject, minutes, m.Text)
	}
}

// emailCases need a host that delivers mail; on others they report
// themselves skipped (withMail).
var emailCases = withMail([]testCase{
	{name: "email/magic link login_or_create signs up then logs in", run: func(t *testing.T, c *client) {
		email := uniqueEmail("emlink")
		first := c.ok(c.post("/v1/magic_links/email/login_or_create", obj{"email": email, "create_user_as_pending": true,
			"signup_expiration_minutes": 15}))
		if first["user_created"] != true || field(first, "user_id") == nil || field(first, "email_id") == nil {
			t.Fatalf("first login_or_create: %v", first)
		}
		userID := str(t, first, "user_id")
		if got := field(c.ok(c.get("/v1/users/"+userID)), "status"); got != "pending" {
			t.Errorf("status %v, want pending", got)
		}
		m := c.mail(email)
		checkMailNames(t, m, "15")
		token := c.mailedToken(m, "magic_links")
		login := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": token, "session_duration_minutes": 60}))
		if login["method_id"] != first["email_id"] {
			t.Errorf("method_id %v, want the email id %v", login["method_id"], first["email_id"])
		}
		factors := field(login, "session", "authentication_factors").([]any)
		if len(factors) != 1 || field(factors[0].(obj), "type") != "magic_link" || field(factors[0].(obj), "delivery_method") != "email" ||
			field(factors[0].(obj), "email_factor", "email_address") != email {
			t.Fatalf("factors %v", factors)
		}
		user := login["user"].(obj)
		if user["status"] != "active" || field(user["emails"].([]any)[0].(obj), "verified") != true {
			t.Errorf("after the first login: status %v, emails %v", user["status"], user["emails"])
		}
		c.fails(c.post("/v1/magic_links/authenticate", obj{"token": token}), http.StatusUnauthorized, "unable_to_auth_magic_link")
		// The user exists now: a login link, not a signup one.
		c.maybeAdvance(21 * time.Second)
		again := c.post("/v1/magic_links/email/login_or_create", obj{"email": email})
		if again.status == http.StatusTooManyRequests {
			t.Skip("host runs on real time; the rest needs the send gap to pass")
		}
		if c.ok(again)["user_created"] != false {
			t.Errorf("second login_or_create created a user: %v", again.body)
		}
		c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.mailedToken(c.mail(email), "magic_links")}))
	}},
	{name: "email/magic link send", run: func(t *testing.T, c *client) {
		c.fails(c.post("/v1/magic_links/email/send", obj{"email": uniqueEmail("nobody")}), http.StatusNotFound, "email_not_found")
		userID, email := c.newUser("emsend")
		sent := c.ok(c.post("/v1/magic_links/email/send", obj{"email": email, "login_expiration_minutes": 5}))
		if sent["user_id"] != userID {
			t.Fatalf("send: %v", sent)
		}
		m := c.mail(email)
		checkMailNames(t, m, "5")
		got := c.ok(c.post("/v1/magic_links/authenticate", obj{"token": c.mailedToken(m, "magic_links"), "session_duration_minutes": 30}))
		if got["user_id"] != userID {
			t.Errorf("authenticated %v", got["user_id"])
		}
		// A session of another user cannot be given with the send.
		_, other := c.login("emsendother", 30)
		c.fails(c.post("/v1/magic_links/email/send", obj{"email": email, "session_token": str(t, other, "session_token")}),
			http.StatusBadRequest, "session_user_mismatch")
	}},
	{name: "email/otp login, reuse, expiry", run: func(t *testing.T, c *client) {
		email := uniqueEmail("otp")
		sent := c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": email, "expiration_minutes": 3}))
		methodID := str(t, sent, "email_id")
		m := c.mail(email)
		checkMailNames(t, m, "3")
		code := c.mailedCode(m)
		login := c.ok(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": code, "session_duration_minutes": 60}))
		factors := field(login, "session", "authentication_factors").([]any)
		if login["method_id"] != methodID || len(factors) != 1 || field(factors[0].(obj), "type") != "otp" ||
			field(factors[0].(obj), "delivery_method") != "email" || field(factors[0].(obj), "email_factor", "email_id") != methodID {
			t.Fatalf("otp login: %v", login)
		}
		checkSessionJWT(t, c.verifyJWT(str(t, login, "session_jwt")), login["session"].(obj))
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": code}), http.StatusNotFound, "otp_code_not_found")
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": "email-test-00000000-0000-4000-8000-000000000000", "code": "123456"}),
			http.StatusNotFound, "otp_code_not_found")
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": "not-an-email-id", "code": "123456"}), http.StatusBadRequest, "invalid_method_id")
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": "12345"}), http.StatusBadRequest, "invalid_code")
		if c.tg.Advance == nil {
			return
		}
		c.advance(21 * time.Second)
		c.ok(c.post("/v1/otps/email/send", obj{"email": email, "expiration_minutes": 1}))
		late := c.mailedCode(c.mail(email))
		c.advance(61 * time.Second)
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": late}), http.StatusNotFound, "otp_code_not_found")
	}},
	{name: "email/otp dies after five wrong codes", run: func(t *testing.T, c *client) {
		email := uniqueEmail("otpwrong")
		methodID := str(t, c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": email})), "email_id")
		code := c.mailedCode(c.mail(email))
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		for range 5 {
			c.fails(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": wrong}), http.StatusUnauthorized, "unable_to_auth_otp_code")
		}
		c.fails(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": code}), http.StatusUnauthorized, "unable_to_auth_otp_code")
	}},
	{name: "email/otp works once under concurrent use", run: func(t *testing.T, c *client) {
		email := uniqueEmail("otprace")
		methodID := str(t, c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": email})), "email_id")
		code := c.mailedCode(c.mail(email))
		statuses := c.concurrently(8, "/v1/otps/authenticate", obj{"method_id": methodID, "code": code, "session_duration_minutes": 30})
		ok := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized, http.StatusNotFound:
			default:
				t.Errorf("status %d", s)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 8 concurrent uses of one code succeeded (statuses %v), want exactly 1", ok, statuses)
		}
	}},
	{name: "email/otp steps up a password session", run: func(t *testing.T, c *client) {
		_, email, pw := c.passwordUser("otpstep")
		first := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		methodID := str(t, c.ok(c.post("/v1/otps/email/send", obj{"email": email, "session_token": str(t, first, "session_token")})), "email_id")
		step := c.ok(c.post("/v1/otps/authenticate", obj{"method_id": methodID, "code": c.mailedCode(c.mail(email)),
			"session_token": str(t, first, "session_token")}))
		if field(step, "session", "session_id") != field(first, "session", "session_id") || step["session_token"] != first["session_token"] {
			t.Fatalf("step-up made another session: %v", step["session"])
		}
		types := map[any]bool{}
		for _, f := range field(step, "session", "authentication_factors").([]any) {
			types[field(f.(obj), "type")] = true
		}
		if len(types) != 2 || !types["password"] || !types["otp"] {
			t.Fatalf("factors after step-up: %v", field(step, "session", "authentication_factors"))
		}
		checkSessionJWT(t, c.verifyJWT(str(t, step, "session_jwt")), step["session"].(obj))
	}},
	{name: "email/password reset by email", run: func(t *testing.T, c *client) {
		userID, email, pw := c.passwordUser("reset")
		old := c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw, "session_duration_minutes": 60}))
		started := c.ok(c.post("/v1/passwords/email/reset/start", obj{"email": email, "reset_password_expiration_minutes": 20}))
		if started["user_id"] != userID {
			t.Fatalf("reset/start: %v", started)
		}
		m := c.mail(email)
		checkMailNames(t, m, "20")
		token := c.mailedToken(m, "reset_password")
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": token, "password": "password"}), http.StatusBadRequest, "weak_password")
		newPW := strongPassword()
		reset := c.ok(c.post("/v1/passwords/email/reset", obj{"token": token, "password": newPW, "session_duration_minutes": 60}))
		if reset["user_id"] != userID || field(reset, "session", "session_id") == field(old, "session", "session_id") {
			t.Fatalf("reset: %v", reset)
		}
		// Every other session ended; the old password no longer works.
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, old, "session_token")}), http.StatusNotFound, "session_not_found")
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_token": str(t, reset, "session_token")}))
		c.fails(c.post("/v1/passwords/authenticate", obj{"email": email, "password": pw}), http.StatusUnauthorized, "unauthorized_credentials")
		c.ok(c.post("/v1/passwords/authenticate", obj{"email": email, "password": newPW}))
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": token, "password": strongPassword()}), http.StatusUnauthorized, "unable_to_reset_password")
		c.fails(c.post("/v1/passwords/email/reset", obj{"token": strings.Repeat("A", 43) + "=", "password": strongPassword()}),
			http.StatusNotFound, "reset_token_not_found")
		c.fails(c.post("/v1/passwords/email/reset/start", obj{"email": uniqueEmail("resetnobody")}), http.StatusNotFound, "email_not_found")
	}},
	{name: "email/refused before anything is sent", run: func(t *testing.T, c *client) {
		_, email := c.newUser("emrefuse")
		for _, tc := range []struct {
			name, path string
			body       obj
			status     int
			errorType  string
		}{
			{name: "redirect elsewhere", path: "/v1/magic_links/email/send", body: obj{"email": email, "login_magic_link_url": "https://evil.example/steal"}, status: 400, errorType: "invalid_redirect_url"},
			{name: "redirect to another path", path: "/v1/magic_links/email/login_or_create", body: obj{"email": email, "signup_magic_link_url": strings.TrimSuffix(c.tg.RedirectURL, "/") + "/../admin"}, status: 400, errorType: "invalid_redirect_url"},
			{name: "reset redirect elsewhere", path: "/v1/passwords/email/reset/start", body: obj{"email": email, "reset_password_redirect_url": "javascript:alert(1)"}, status: 400, errorType: "invalid_redirect_url"},
			{name: "bad email", path: "/v1/otps/email/login_or_create", body: obj{"email": "not an email"}, status: 400, errorType: "invalid_email"},
			{name: "otp expiry too long", path: "/v1/otps/email/send", body: obj{"email": email, "expiration_minutes": 11}, status: 400, errorType: "invalid_expiration_minutes"},
			{name: "link expiry too short", path: "/v1/magic_links/email/send", body: obj{"email": email, "login_expiration_minutes": 4}, status: 400, errorType: "invalid_expiration_minutes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := newClient(t, c.tg)
				c.fails(c.post(tc.path, tc.body), tc.status, tc.errorType)
			})
		}
		// Nothing was sent by the refused calls: the next mail is this one.
		c.ok(c.post("/v1/otps/email/send", obj{"email": email}))
		if m := c.mail(email); !strings.Contains(m.Subject, "code") {
			t.Fatalf("the first mail to %s is %q, not the code sent last", email, m.Subject)
		}
	}},
	{name: "email/sending is rate limited per address", run: func(t *testing.T, c *client) {
		email := uniqueEmail("emrate")
		c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": email}))
		c.fails(c.post("/v1/otps/email/login_or_create", obj{"email": email}), http.StatusTooManyRequests, "too_many_requests")
		c.fails(c.post("/v1/magic_links/email/send", obj{"email": email}), http.StatusTooManyRequests, "too_many_requests")
		c.mail(email)
		// Another address is not held back.
		c.ok(c.post("/v1/otps/email/login_or_create", obj{"email": uniqueEmail("emrate2")}))
		if c.tg.Advance == nil {
			return
		}
		for range 9 {
			c.advance(21 * time.Second)
			c.ok(c.post("/v1/otps/email/send", obj{"email": email}))
		}
		c.advance(21 * time.Second)
		c.fails(c.post("/v1/otps/email/send", obj{"email": email}), http.StatusTooManyRequests, "too_many_requests")
		c.advance(time.Hour)
		c.ok(c.post("/v1/otps/email/send", obj{"email": email}))
	}},
})
