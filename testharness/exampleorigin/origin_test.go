package exampleorigin_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness"
	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/exampleorigin"
	"github.com/latchauth/latch/verifier"
)

// origin is the example origin on loopback, with the engine behind it.
type origin struct {
	edge     *testharness.Server
	verifier *verifier.Verifier
	url      string // the origin's base URL
	login    string // the login page's URL
}

// startOrigin serves the example origin against edge, its verifier
// configured as the command configures it, with the edge's clock.
func startOrigin(t *testing.T, edge *testharness.Server, edit func(*verifier.Config)) *origin {
	t.Helper()
	return startOriginWith(t, edge, edit, nil)
}

// startOriginWith is startOrigin with the origin's Config edited too.
func startOriginWith(t *testing.T, edge *testharness.Server, edit func(*verifier.Config), editOrigin func(*exampleorigin.Config)) *origin {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	o := &origin{edge: edge, url: "http://" + ts.Listener.Addr().String(), login: edge.URL + "/login"}
	cfg := verifier.Config{
		ProjectID: edge.ProjectID, BaseURL: edge.URL, Secret: edge.Secret, Now: edge.Now,
		ErrorHandler: exampleorigin.ErrorHandler(o.login, o.url),
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := verifier.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	o.verifier = v
	oc := exampleorigin.Config{Verifier: v, LoginURL: o.login, URL: o.url}
	if editOrigin != nil {
		editOrigin(&oc)
	}
	h, err := exampleorigin.New(oc)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)
	return o
}

// get sends method path to the origin with cookies, following no
// redirect, and returns the answer and its body.
func (o *origin) get(t *testing.T, method, path string, cookies map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, o.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, val := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: val})
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// signInURL is the login page's URL with return_to escaped by hand, as
// the origin must send it.
func (o *origin) signInURL(path string) string {
	r := strings.NewReplacer(":", "%3A", "/", "%2F", "?", "%3F", "=", "%3D", "&", "%26")
	return o.login + "?return_to=" + r.Replace(o.url+path)
}

var emailSeq atomic.Int64

// session is a session minted by the engine.
type session struct {
	email, id, token, jwt string
}

// signIn creates a user with a password, then steps its session up with
// an embeddable magic link, so that the session has two factors.
func signIn(t *testing.T, edge *testharness.Server) session {
	t.Helper()
	c := apitest.Client{URL: edge.URL, ProjectID: edge.ProjectID, Secret: edge.Secret, HTTP: http.DefaultClient}
	email := fmt.Sprintf("origin-%d@example.com", emailSeq.Add(1))
	created := c.MustPost(t, "/v1/passwords", map[string]any{
		"email": email, "password": "Latch-example-origin-8d1f-pw", "session_duration_minutes": 60,
	})
	link := c.MustPost(t, "/v1/magic_links", map[string]any{"user_id": created["user_id"]})
	auth := c.MustPost(t, "/v1/magic_links/authenticate", map[string]any{
		"token": link["token"], "session_token": created["session_token"], "session_duration_minutes": 60,
	})
	return session{
		email: email,
		id:    auth["session"].(map[string]any)["session_id"].(string),
		token: auth["session_token"].(string),
		jwt:   auth["session_jwt"].(string),
	}
}

func revoke(t *testing.T, edge *testharness.Server, sessionID string) {
	t.Helper()
	c := apitest.Client{URL: edge.URL, ProjectID: edge.ProjectID, Secret: edge.Secret, HTTP: http.DefaultClient}
	c.MustPost(t, "/v1/sessions/revoke", map[string]any{"session_id": sessionID})
}

const (
	jwtCookie   = "stytch_session_jwt"
	tokenCookie = "stytch_session"
)

var (
	greetingRE = regexp.MustCompile(`<p id="greeting">([^<]*)</p>`)
	factorsRE  = regexp.MustCompile(`(?s)<ul id="factors">(.*?)</ul>`)
	itemRE     = regexp.MustCompile(`<li>([^<]*)</li>`)
	logoutRE   = regexp.MustCompile(`<a id="logout" href="([^"]*)"`)
	sessionRE  = regexp.MustCompile(`<dd id="session-id">([^<]*)</dd>`)
	expiresRE  = regexp.MustCompile(`<time datetime="([^"]*)"`)
)

// page is what the signed-in page shows.
type page struct {
	greeting  string
	factors   []string
	logout    string
	sessionID string
	expires   time.Time
}

func readPage(t *testing.T, body string) page {
	t.Helper()
	find := func(re *regexp.Regexp, s string) string {
		m := re.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no %v in %s", re, body)
		}
		return html.UnescapeString(m[1])
	}
	p := page{greeting: find(greetingRE, body), logout: find(logoutRE, body), sessionID: find(sessionRE, body)}
	for _, m := range itemRE.FindAllStringSubmatch(find(factorsRE, body), -1) {
		p.factors = append(p.factors, html.UnescapeString(m[1]))
	}
	exp, err := time.Parse(time.RFC3339, find(expiresRE, body))
	if err != nil {
		t.Fatal(err)
	}
	p.expires = exp
	return p
}

// checkStrictHeaders checks the headers every answer carries.
func checkStrictHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestOrigin(t *testing.T) {
	edge := testharness.Start(t)
	o := startOrigin(t, edge, nil)
	live := signIn(t, edge)
	ended := signIn(t, edge)
	revoke(t, edge, ended.id)
	tests := []struct {
		name       string
		method     string
		path       string
		cookies    map[string]string
		wantStatus int
		wantSignIn string // with 303: the path return_to names
		wantBody   string // in the body
		wantAllow  string
	}{
		{name: "no session", method: "GET", path: "/", wantStatus: 303, wantSignIn: "/"},
		{name: "no session, query kept", method: "GET", path: "/?tab=a&b=c", wantStatus: 303, wantSignIn: "/?tab=a&b=c"},
		{name: "no session, HEAD", method: "HEAD", path: "/", wantStatus: 303, wantSignIn: "/"},
		{name: "JWT cookie", method: "GET", path: "/", cookies: map[string]string{jwtCookie: live.jwt}, wantStatus: 200, wantBody: live.email},
		{name: "JWT cookie, HEAD", method: "HEAD", path: "/", cookies: map[string]string{jwtCookie: live.jwt}, wantStatus: 200},
		{name: "session token cookie", method: "GET", path: "/", cookies: map[string]string{tokenCookie: live.token}, wantStatus: 200, wantBody: live.email},
		{name: "revoked session", method: "GET", path: "/", cookies: map[string]string{tokenCookie: ended.token}, wantStatus: 303, wantSignIn: "/"},
		{name: "garbage JWT", method: "GET", path: "/", cookies: map[string]string{jwtCookie: "not.a.jwt"}, wantStatus: 303, wantSignIn: "/"},
		{name: "POST", method: "POST", path: "/", cookies: map[string]string{jwtCookie: live.jwt}, wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "POST without session", method: "POST", path: "/", wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "health", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok\n"},
		{name: "other path", method: "GET", path: "/account", cookies: map[string]string{jwtCookie: live.jwt}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := o.get(t, tt.method, tt.path, tt.cookies)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			checkStrictHeaders(t, resp.Header)
			loc := resp.Header.Get("Location")
			if want := ""; tt.wantSignIn != "" {
				want = o.signInURL(tt.wantSignIn)
				if loc != want {
					t.Fatalf("Location = %q, want %q", loc, want)
				}
			} else if loc != "" {
				t.Fatalf("Location = %q, want none", loc)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Fatalf("body %q does not have %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Fatalf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

// TestOriginPage checks what the signed-in page shows, and that the
// session in the JWT cookie is the one it shows.
func TestOriginPage(t *testing.T) {
	edge := testharness.Start(t)
	o := startOrigin(t, edge, nil)
	s := signIn(t, edge)
	resp, body := o.get(t, "GET", "/", map[string]string{jwtCookie: s.jwt})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q; body %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	p := readPage(t, body)
	want := []string{"password — knowledge", "magic_link — embedded"}
	wantLogout := o.login + "/logout?return_to=" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(o.url+"/")
	if p.greeting != "Signed in as "+s.email || !slices.Equal(p.factors, want) || p.logout != wantLogout ||
		p.sessionID != s.id || p.expires.Sub(edge.Now()) <= 59*time.Minute || p.expires.Sub(edge.Now()) > time.Hour {
		t.Fatalf("page = %+v; want greeting for %s, factors %q, logout %q, session %s expiring in an hour",
			p, s.email, want, wantLogout, s.id)
	}
	if !strings.Contains(body, "<title>Example app</title>") {
		t.Fatalf("no default title in %s", body)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("a fresh JWT needs no new cookie: %v", resp.Header.Values("Set-Cookie"))
	}
}

// TestOriginRefresh moves the clocks past the JWT's five minutes: the
// middleware gets a fresh JWT from the edge, sets it as the cookie and
// the page still greets the user.
func TestOriginRefresh(t *testing.T) {
	edge := testharness.Start(t)
	o := startOrigin(t, edge, nil)
	s := signIn(t, edge)
	edge.Advance(6 * time.Minute)
	if _, err := o.verifier.Verify(t.Context(), s.jwt); err == nil {
		t.Fatal("the old JWT still verifies")
	}
	resp, body := o.get(t, "GET", "/", map[string]string{jwtCookie: s.jwt, tokenCookie: s.token})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d; body %s", resp.StatusCode, body)
	}
	var fresh *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == jwtCookie {
			fresh = c
		}
	}
	if fresh == nil || fresh.Value == s.jwt || !fresh.HttpOnly {
		t.Fatalf("Set-Cookie = %q, want a fresh HttpOnly %s", resp.Header.Values("Set-Cookie"), jwtCookie)
	}
	got, err := o.verifier.Verify(t.Context(), fresh.Value)
	if err != nil || got.SessionID != s.id {
		t.Fatalf("fresh JWT: %+v, %v", got, err)
	}
	if p := readPage(t, body); p.greeting != "Signed in as "+s.email {
		t.Fatalf("greeting = %q", p.greeting)
	}
}

// TestOriginEdgeDown closes the engine: a verifier that never got the
// keys cannot decide, and the origin says sign-in is unavailable instead
// of sending the visitor to a login page that cannot help.
func TestOriginEdgeDown(t *testing.T) {
	edge := testharness.Start(t)
	s := signIn(t, edge)
	if err := edge.Close(); err != nil {
		t.Fatal(err)
	}
	o := startOrigin(t, edge, func(c *verifier.Config) { c.KeyWait = 100 * time.Millisecond })
	tests := []struct {
		name       string
		method     string
		cookies    map[string]string
		wantStatus int
		wantSignIn bool
	}{
		{name: "JWT cookie", method: "GET", cookies: map[string]string{jwtCookie: s.jwt}, wantStatus: 503},
		{name: "session token cookie", method: "GET", cookies: map[string]string{tokenCookie: s.token}, wantStatus: 503},
		{name: "POST", method: "POST", cookies: map[string]string{jwtCookie: s.jwt}, wantStatus: 405},
		{name: "no session still signs in", method: "GET", wantStatus: 303, wantSignIn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := o.get(t, tt.method, "/", tt.cookies)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			checkStrictHeaders(t, resp.Header)
			if loc := resp.Header.Get("Location"); (loc != "") != tt.wantSignIn {
				t.Fatalf("Location = %q, want one: %v", loc, tt.wantSignIn)
			}
			if tt.wantStatus == 503 && (!strings.Contains(body, "Sign-in is unavailable, try again") ||
				resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Retry-After") == "") {
				t.Fatalf("503 answer: headers %v, body %s", resp.Header, body)
			}
		})
	}
}

// TestErrorHandler checks the answers of ErrorHandler on its own, for
// each kind of error and method.
func TestErrorHandler(t *testing.T) {
	h := exampleorigin.ErrorHandler("https://auth.example.com/login", "https://app.example.com/")
	tests := []struct {
		name         string
		method       string
		target       string
		err          error
		wantStatus   int
		wantLocation string
	}{
		{name: "no token", method: "GET", target: "/", err: verifier.ErrNoToken, wantStatus: 303,
			wantLocation: "https://auth.example.com/login?return_to=https%3A%2F%2Fapp.example.com%2F"},
		{name: "session ended", method: "HEAD", target: "/a%20b?x=1", err: fmt.Errorf("wrapped: %w", verifier.ErrRevoked), wantStatus: 303,
			wantLocation: "https://auth.example.com/login?return_to=https%3A%2F%2Fapp.example.com%2Fa%2520b%3Fx%3D1"},
		{name: "expired", method: "GET", target: "/", err: verifier.ErrExpired, wantStatus: 303,
			wantLocation: "https://auth.example.com/login?return_to=https%3A%2F%2Fapp.example.com%2F"},
		{name: "rejected by the edge", method: "GET", target: "/", err: &verifier.RemoteError{StatusCode: 400, ErrorType: "invalid_session_token"}, wantStatus: 303,
			wantLocation: "https://auth.example.com/login?return_to=https%3A%2F%2Fapp.example.com%2F"},
		{name: "POST without session", method: "POST", target: "/", err: verifier.ErrNoToken, wantStatus: 401},
		{name: "edge unavailable", method: "GET", target: "/", err: verifier.ErrUnavailable, wantStatus: 503},
		{name: "edge busy", method: "GET", target: "/", err: verifier.ErrBusy, wantStatus: 503},
		{name: "edge answered 502", method: "GET", target: "/", err: &verifier.RemoteError{StatusCode: 502}, wantStatus: 503},
		{name: "no keys", method: "POST", target: "/", err: verifier.ErrKeysUnavailable, wantStatus: 503},
		{name: "no project secret", method: "GET", target: "/", err: verifier.ErrNoSecret, wantStatus: 500},
		{name: "project secret refused", method: "GET", target: "/", err: &verifier.RemoteError{StatusCode: 401, ErrorType: "unauthorized_credentials"}, wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest(tt.method, tt.target, nil), tt.err)
			if rec.Code != tt.wantStatus || rec.Header().Get("Location") != tt.wantLocation {
				t.Fatalf("= %d, Location %q; want %d, %q", rec.Code, rec.Header().Get("Location"), tt.wantStatus, tt.wantLocation)
			}
			checkStrictHeaders(t, rec.Header())
		})
	}
}

func TestNew(t *testing.T) {
	edge := testharness.Start(t)
	v, err := verifier.New(t.Context(), verifier.Config{ProjectID: edge.ProjectID, BaseURL: edge.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	good := exampleorigin.Config{Verifier: v, LoginURL: "http://127.0.0.1:8787/login", URL: "http://127.0.0.1:3000"}
	tests := []struct {
		name    string
		edit    func(c *exampleorigin.Config)
		wantErr string // empty: no error
	}{
		{name: "valid", edit: func(*exampleorigin.Config) {}},
		{name: "URL with a trailing slash", edit: func(c *exampleorigin.Config) { c.URL += "/" }},
		{name: "named", edit: func(c *exampleorigin.Config) { c.Name = "Shop" }},
		{name: "no verifier", edit: func(c *exampleorigin.Config) { c.Verifier = nil }, wantErr: "exampleorigin: Verifier is required"},
		{name: "no login URL", edit: func(c *exampleorigin.Config) { c.LoginURL = "" }, wantErr: "exampleorigin: LoginURL is required"},
		{name: "no URL", edit: func(c *exampleorigin.Config) { c.URL = "" }, wantErr: "exampleorigin: URL is required"},
		{name: "relative login URL", edit: func(c *exampleorigin.Config) { c.LoginURL = "/login" }, wantErr: `exampleorigin: LoginURL "/login" must be an http or https URL`},
		{name: "login URL with a query", edit: func(c *exampleorigin.Config) { c.LoginURL += "?a=b" }, wantErr: "must be an http or https URL with a host and no user, query or fragment"},
		{name: "login URL with a fragment", edit: func(c *exampleorigin.Config) { c.LoginURL += "#x" }, wantErr: "no user, query or fragment"},
		{name: "URL with user info", edit: func(c *exampleorigin.Config) { c.URL = "http://u:p@127.0.0.1:3000" }, wantErr: "exampleorigin: URL"},
		{name: "URL of another scheme", edit: func(c *exampleorigin.Config) { c.URL = "ftp://127.0.0.1" }, wantErr: `exampleorigin: URL "ftp://127.0.0.1" must be`},
		{name: "URL with a path", edit: func(c *exampleorigin.Config) { c.URL += "/app" }, wantErr: "exampleorigin: URL \"http://127.0.0.1:3000/app\" must have no path"},
		{name: "with the SDK", edit: func(c *exampleorigin.Config) { c.SDK = goodSDK() }},
		{name: "SDK without a public token", edit: func(c *exampleorigin.Config) { c.SDK = goodSDK(); c.SDK.PublicToken = "" },
			wantErr: "exampleorigin: SDK.PublicToken is required"},
		{name: "SDK without a Latch URL", edit: func(c *exampleorigin.Config) { c.SDK = goodSDK(); c.SDK.LatchURL = "" },
			wantErr: "exampleorigin: SDK.LatchURL is required"},
		{name: "SDK with a relative Latch URL", edit: func(c *exampleorigin.Config) { c.SDK = goodSDK(); c.SDK.LatchURL = "/latch" },
			wantErr: `exampleorigin: SDK.LatchURL "/latch" must be an http or https URL`},
		{name: "SDK without its script", edit: func(c *exampleorigin.Config) { c.SDK = goodSDK(); c.SDK.Script = nil },
			wantErr: "exampleorigin: SDK.Script is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			h, err := exampleorigin.New(cfg)
			switch {
			case tt.wantErr == "" && (err != nil || h == nil):
				t.Fatalf("New = %v, %v; want a handler", h, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error = %v, want one with %q", err, tt.wantErr)
			case tt.wantErr != "" && h != nil:
				t.Fatal("New returned a handler with its error")
			}
		})
	}
}
