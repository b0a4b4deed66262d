package loginpage_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/apitest"
)

// The second step, for a user with an authenticator app: after the first
// factor the browser holds only an intermediate session token, which no
// session check accepts, and the app's code (or a recovery code) turns it
// into a session with both factors.

const mfaPassword = "correct horse battery staple 42"

// mfaUser is a user with a password and a verified authenticator app.
type mfaUser struct {
	email, secret string
	recovery      []string
	enrolledAt    int64 // the TOTP step the enrolment spent
}

func (f *fixture) mfaUser(email string) *mfaUser {
	f.t.Helper()
	ctx := context.Background()
	s, created, _ := f.api.Do(ctx, http.MethodPost, "/v1/passwords", map[string]any{"email": email, "password": mfaPassword, "session_duration_minutes": 5})
	if s != http.StatusOK {
		f.t.Fatalf("create %s: %d %v", email, s, created)
	}
	// The address is proven from the session that signed up, as an app's
	// "verify your email" step does: a first proof without it would end
	// the password and the app set before it.
	_, link, _ := f.api.Do(ctx, http.MethodPost, "/v1/magic_links", map[string]any{"user_id": created["user_id"], "delivery_method": "email"})
	if s, res, _ := f.api.Do(ctx, http.MethodPost, "/v1/magic_links/authenticate", map[string]any{"token": link["token"],
		"session_token": created["session_token"]}); s != http.StatusOK {
		f.t.Fatalf("verify %s: %d %v", email, s, res)
	}
	return f.enrol(email, created["user_id"])
}

// enrol gives the user an authenticator app, verified.
func (f *fixture) enrol(email string, userID any) *mfaUser {
	f.t.Helper()
	ctx := context.Background()
	_, totp, _ := f.api.Do(ctx, http.MethodPost, "/v1/totps", map[string]any{"user_id": userID})
	u := &mfaUser{email: email, enrolledAt: time.Now().Unix()}
	u.secret, _ = totp["secret"].(string)
	codes, _ := totp["recovery_codes"].([]any)
	for _, c := range codes {
		s, _ := c.(string)
		u.recovery = append(u.recovery, s)
	}
	if s, res, _ := f.api.Do(ctx, http.MethodPost, "/v1/totps/authenticate", map[string]any{"user_id": userID,
		"totp_code": apitest.TOTP(f.t, u.secret, u.enrolledAt)}); s != http.StatusOK || len(u.recovery) == 0 {
		f.t.Fatalf("enrol %s: %d %v, %d recovery codes", email, s, res, len(u.recovery))
	}
	return u
}

// nextCode is the app's code of the step after the enrolment's.
func (u *mfaUser) nextCode(t *testing.T) string { return apitest.TOTP(t, u.secret, u.enrolledAt+30) }

// firstFactors sign in a user by each first factor the page offers and
// return the last answer, with the factor type the session will list.
var firstFactors = []struct {
	name   string
	factor string
	run    func(f *fixture, u *mfaUser) answer
}{
	{name: "password", factor: "password", run: func(f *fixture, u *mfaUser) answer {
		page := f.get("")
		return f.post("/password", with(hidden(page.body), "email", u.email, "password", mfaPassword))
	}},
	{name: "email code", factor: "otp", run: func(f *fixture, u *mfaUser) answer {
		return f.signInByCode(u.email)
	}},
	{name: "sign-in link", factor: "magic_link", run: func(f *fixture, u *mfaUser) answer {
		page := f.get("")
		after := f.box.Last()
		f.post("/email", with(hidden(page.body), "email", u.email, "method", "link"))
		link, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/magic?") + `\S+`).FindString(f.mail(u.email, after).Text))
		confirm := f.get("/magic?" + link.RawQuery)
		return f.post("/magic", hidden(confirm.body))
	}},
	{name: "password reset", factor: "password", run: func(f *fixture, u *mfaUser) answer {
		start := f.get("/reset")
		after := f.box.Last()
		f.post("/reset/start", with(hidden(start.body), "email", u.email))
		link, _ := url.Parse(regexp.MustCompile(regexp.QuoteMeta(f.URL+"/reset?") + `\S+`).FindString(f.mail(u.email, after).Text))
		form := f.get("/reset?" + link.RawQuery)
		return f.post("/reset", with(hidden(form.body), "password", "purple elephant marching slowly 7"))
	}},
}

// atSecondStep checks that a is the second step and that nothing the
// browser now holds (its cookies, the form's fields) is accepted as a
// session, and returns the pending cookie.
func (f *fixture) atSecondStep(a answer) *http.Cookie {
	f.t.Helper()
	set := sessionCookies(a)
	if a.StatusCode != http.StatusOK || !strings.Contains(a.body, `id="totp"`) ||
		set["stytch_session"] != nil || set["stytch_session_jwt"] != nil {
		f.t.Fatalf("after the first factor: %d, cookies %v; want the second step and no session cookie: %s",
			a.StatusCode, a.Header["Set-Cookie"], a.body)
	}
	pending := set["latch_pending"]
	if pending == nil || pending.Value == "" || pending.Path != "/login" || !pending.HttpOnly || pending.Secure ||
		pending.SameSite != http.SameSiteStrictMode || time.Until(pending.Expires) > 10*time.Minute+time.Second ||
		time.Until(pending.Expires) < 9*time.Minute {
		f.t.Errorf("pending cookie %+v; want HttpOnly, Strict, Path=/login, 10 minutes", pending)
	}
	u, _ := url.Parse(f.URL + "/totp")
	var held []string
	for _, c := range f.jar.Cookies(u) {
		held = append(held, c.Value)
	}
	for _, vs := range hidden(a.body) {
		held = append(held, vs...)
	}
	for _, v := range held {
		for _, field := range []string{"session_token", "session_jwt"} {
			if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate",
				map[string]any{field: v}); s == http.StatusOK {
				sess, _ := res["session"].(map[string]any)
				f.t.Errorf("after the first factor alone, %q as %s authenticates: session %v", v, field, sess["session_id"])
			}
		}
	}
	return pending
}

// factorsOf returns the factor types of the session of token.
func (f *fixture) factorsOf(token string) (types []string, expires time.Time) {
	f.t.Helper()
	s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": token})
	if s != http.StatusOK {
		f.t.Fatalf("the session cookie does not authenticate: %d %v", s, res)
	}
	sess, _ := res["session"].(map[string]any)
	factors, _ := sess["authentication_factors"].([]any)
	for _, fa := range factors {
		m, _ := fa.(map[string]any)
		typ, _ := m["type"].(string)
		types = append(types, typ)
	}
	expires, _ = time.Parse(time.RFC3339, sess["expires_at"].(string))
	return types, expires
}

func TestSecondStep(t *testing.T) {
	for _, first := range firstFactors {
		for _, second := range []struct {
			name   string
			factor string
			code   func(t *testing.T, u *mfaUser) string
		}{
			{name: "app", factor: "totp", code: func(t *testing.T, u *mfaUser) string { return u.nextCode(t) }},
			{name: "recovery code", factor: "recovery_codes", code: func(_ *testing.T, u *mfaUser) string { return u.recovery[0] }},
		} {
			t.Run(first.name+" then "+second.name, func(t *testing.T) {
				f := newFixture(t, nil)
				u := f.mfaUser("mfa@example.com")
				firstAnswer := first.run(f, u)
				pending := f.atSecondStep(firstAnswer)
				// A wrong code leaves the sign-in waiting.
				code := second.code(t, u)
				wrongCode := string('0'+(code[0]-'0'+1)%10) + code[1:]
				if second.name != "app" {
					wrongCode = "not-a-recovery-code"
				}
				wrong := f.post("/totp", with(hidden(firstAnswer.body), "code", wrongCode))
				if wrong.StatusCode != http.StatusUnauthorized || alert(wrong.body) == "" || sessionCookies(wrong)["stytch_session"] != nil {
					t.Errorf("wrong code: %d %q", wrong.StatusCode, alert(wrong.body))
				}
				done := f.post("/totp", with(hidden(firstAnswer.body), "code", code))
				if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != app {
					t.Fatalf("right code: %d %q %s", done.StatusCode, alert(done.body), done.Header["Set-Cookie"])
				}
				set := sessionCookies(done)
				if set["stytch_session"] == nil || set["stytch_session"].Value == pending.Value ||
					set["latch_pending"] == nil || set["latch_pending"].MaxAge >= 0 {
					t.Errorf("cookies %v; want a new session token and the pending cookie cleared", done.Header["Set-Cookie"])
				}
				types, expires := f.factorsOf(set["stytch_session"].Value)
				if !slices.Equal(types, []string{first.factor, second.factor}) {
					t.Errorf("factors %q, want [%s %s]", types, first.factor, second.factor)
				}
				if time.Until(expires) < 6*24*time.Hour {
					t.Errorf("the session lasts only until %v, want the configured 7 days", expires)
				}
				// The intermediate session was spent.
				if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/totps/authenticate", map[string]any{
					"intermediate_session_token": pending.Value, "totp_code": u.nextCode(t)}); s != http.StatusNotFound {
					t.Errorf("the spent intermediate session answered %d %v, want 404", s, res["error_type"])
				}
			})
		}
	}
}

// TestSecondStepEnded: cancelling the second step, signing out, or
// another first factor ends the intermediate session the browser held.
func TestSecondStepEnded(t *testing.T) {
	cases := []struct {
		name    string
		do      func(f *fixture, u *mfaUser) answer
		cleared bool // the pending cookie is cleared (not replaced)
	}{
		{name: "cancel", cleared: true, do: func(f *fixture, _ *mfaUser) answer {
			return f.get("?return_to=" + url.QueryEscape(app))
		}},
		{name: "sign out", cleared: true, do: func(f *fixture, _ *mfaUser) answer {
			confirm := f.get("/logout")
			return f.post("/logout", hidden(confirm.body))
		}},
		{name: "another first factor", do: func(f *fixture, u *mfaUser) answer {
			page := f.get("")
			return f.post("/password", with(hidden(page.body), "email", u.email, "password", mfaPassword))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			u := f.mfaUser("cancel@example.com")
			first := firstFactors[0].run(f, u)
			pending := f.atSecondStep(first)
			a := tc.do(f, u)
			if c := sessionCookies(a)["latch_pending"]; tc.cleared && (c == nil || c.MaxAge >= 0 || c.Path != "/login") {
				t.Errorf("pending cookie after %s: %+v, want it cleared", tc.name, c)
			}
			if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/totps/authenticate", map[string]any{
				"intermediate_session_token": pending.Value, "totp_code": u.nextCode(t)}); s != http.StatusNotFound ||
				res["error_type"] != "intermediate_session_not_found" {
				t.Errorf("after %s, the intermediate session answered %d %v; want 404 intermediate_session_not_found", tc.name, s, res["error_type"])
			}
			if tc.cleared {
				again := f.post("/totp", with(hidden(first.body), "code", u.nextCode(t)))
				if again.StatusCode != http.StatusUnauthorized || !strings.Contains(alert(again.body), "Start again") {
					t.Errorf("the second step after %s: %d %q", tc.name, again.StatusCode, alert(again.body))
				}
			}
		})
	}
}
