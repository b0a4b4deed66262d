package loginpage_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/wasm/loginpage"
)

// TestNoEnumeration: whatever the API answers for an address with an
// account, the page reads exactly as it does for one without (status and
// body, the typed address aside), also once the API's limits for that
// account set in.
func TestNoEnumeration(t *testing.T) {
	const known, unknown, password = "known@example.com", "unknown@example.com", "correct horse battery staple 42"
	cases := []struct {
		name string
		// ask makes the requests for one address and returns the last
		// answer, the one compared.
		ask func(f *fixture, email string) answer
	}{
		{name: "reset link asked for once", ask: func(f *fixture, email string) answer {
			start := f.get("/reset")
			return f.post("/reset/start", with(hidden(start.body), "email", email))
		}},
		{name: "reset link asked for twice at once", ask: func(f *fixture, email string) answer {
			start := f.get("/reset")
			f.post("/reset/start", with(hidden(start.body), "email", email))
			return f.post("/reset/start", with(hidden(start.body), "email", email))
		}},
		{name: "wrong password", ask: func(f *fixture, email string) answer {
			page := f.get("")
			return f.post("/password", with(hidden(page.body), "email", email, "password", "not the password at all"))
		}},
		{name: "wrong passwords until the lockout", ask: func(f *fixture, email string) answer {
			page := f.get("")
			var last answer
			for range 11 {
				last = f.post("/password", with(hidden(page.body), "email", email, "password", "not the password at all"))
			}
			return last
		}},
		{name: "the right password during the lockout", ask: func(f *fixture, email string) answer {
			page := f.get("")
			for range 10 {
				f.post("/password", with(hidden(page.body), "email", email, "password", "not the password at all"))
			}
			return f.post("/password", with(hidden(page.body), "email", email, "password", password))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/passwords",
				map[string]any{"email": known, "password": password}); s != http.StatusOK {
				t.Fatalf("create the account: %d %v", s, res)
			}
			k, u := tc.ask(f, known), tc.ask(f, unknown)
			kb, ub := strings.ReplaceAll(k.body, known, "EMAIL"), strings.ReplaceAll(u.body, unknown, "EMAIL")
			if k.StatusCode != u.StatusCode || kb != ub {
				t.Errorf("known address: %d %q; unknown: %d %q; want the same answer", k.StatusCode, alert(k.body), u.StatusCode, alert(u.body))
			}
			if kc, uc := cookieNames(k), cookieNames(u); kc != uc {
				t.Errorf("known address sets cookies %q; unknown %q; want the same", kc, uc)
			}
		})
	}
}

// cookieNames lists the names of the cookies an answer sets, in order.
func cookieNames(a answer) string {
	var names []string
	for _, c := range a.Cookies() {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}

// TestLockoutSaid: the answer to a wrong password, the same for everyone,
// tells a locked-out user what still works.
func TestLockoutSaid(t *testing.T) {
	f := newFixture(t, nil)
	page := f.get("")
	a := f.post("/password", with(hidden(page.body), "email", "nobody@example.com", "password", "not the password at all"))
	if a.StatusCode != http.StatusUnauthorized || !strings.Contains(alert(a.body), "email code or link") {
		t.Errorf("wrong password: %d %q, want 401 naming the email code or link", a.StatusCode, alert(a.body))
	}
}

// TestMailLimitPerClient: a client may ask the page for 10 mails (codes,
// sign-in links, reset links) in 10 minutes, whatever the addresses; the
// refusal is the same for every address, and another client is not
// refused.
func TestMailLimitPerClient(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, func(c *loginpage.Config) { c.Now = func() time.Time { return now } })
	if s, res, _ := f.api.Do(context.Background(), http.MethodPost, "/v1/passwords",
		map[string]any{"email": "known@example.com", "password": "correct horse battery staple 42"}); s != http.StatusOK {
		t.Fatalf("create the account: %d %v", s, res)
	}
	page := f.get("")
	start := f.get("/reset")
	ask := []struct {
		path string
		form url.Values
	}{
		{path: "/email", form: with(hidden(page.body), "method", "code")},
		{path: "/email", form: with(hidden(page.body), "method", "link")},
		{path: "/reset/start", form: hidden(start.body)},
	}
	for i := range 10 {
		a := ask[i%len(ask)]
		if got := f.post(a.path, with(a.form, "email", "mail"+string(rune('a'+i))+"@example.com")); got.StatusCode != http.StatusOK {
			t.Fatalf("mail %d (%s): %d %q", i+1, a.path, got.StatusCode, alert(got.body))
		}
	}
	var refused []answer
	for _, a := range ask {
		for _, email := range []string{"known@example.com", "fresh@example.com"} {
			got := f.post(a.path, with(a.form, "email", email))
			if got.StatusCode != http.StatusTooManyRequests || got.Header.Get("Retry-After") != "601" ||
				!strings.Contains(alert(got.body), "Too many emails") {
				t.Errorf("mail 11 (%s to %s): %d, Retry-After %q, %q; want 429 after 600 s", a.path, email,
					got.StatusCode, got.Header.Get("Retry-After"), alert(got.body))
			}
			refused = append(refused, got)
		}
	}
	for i := 0; i+1 < len(refused); i += 2 {
		if k, u := strings.ReplaceAll(refused[i].body, "known@", "X@"), strings.ReplaceAll(refused[i+1].body, "fresh@", "X@"); k != u {
			t.Errorf("refusals differ by address: %q and %q", alert(refused[i].body), alert(refused[i+1].body))
		}
	}
	// Another client has its own count.
	other := f.postFrom("192.0.2.44:5000", "/email", with(ask[0].form, "email", "other@example.com"))
	if other.Code != http.StatusOK {
		t.Errorf("another client's first mail: %d", other.Code)
	}
	now = now.Add(10 * time.Minute)
	if got := f.post("/email", with(ask[0].form, "email", "later@example.com")); got.StatusCode != http.StatusOK {
		t.Errorf("after 10 minutes: %d %q", got.StatusCode, alert(got.body))
	}
}
