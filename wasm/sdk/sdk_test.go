package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
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
	"github.com/latchauth/latch/wasm/mail"
	"github.com/latchauth/latch/wasm/sdk"
)

// The app origin the fixture authorizes, and one it does not.
const (
	app   = "http://127.0.0.1:3000"
	other = "https://evil.example"
)

// fixture is the SDK surface in front of a real engine (package native,
// over SQLite) whose mail is delivered by SMTP to a mailbox on loopback.
type fixture struct {
	t     *testing.T
	URL   string
	token string // the public token
	api   *apitest.Client
	box   *mailbox.Mailbox
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

func newFixtureWith(t *testing.T, change func(*sdk.Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, native.Config{}, change)
}

// newFixtureOn is newFixtureWith with the engine's settings (mail, the
// redirect URLs and the public token are the fixture's).
func newFixtureOn(t *testing.T, ec native.Config, change func(*sdk.Config)) *fixture {
	t.Helper()
	box := mailbox.New(0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailbox.ServeSMTP(l, box, mailbox.SMTPConfig{})
	t.Cleanup(func() { smtp.Close() })
	// native makes a test project: a test project's public token.
	token := sdk.NewPublicToken("project-test-")
	ec.PublicToken = token
	ec.Mailer, ec.MailFrom, ec.RedirectURLs = &mail.SMTP{Addr: smtp.Addr}, "login@example.com", []string{app + "/authenticate"}
	eng := native.Start(t, ec)
	target, _ := url.Parse(eng.URL)
	cfg := sdk.Config{API: httputil.NewSingleHostReverseProxy(target), ProjectID: eng.ProjectID,
		Secret: eng.Secret, PublicToken: token, Origins: []string{app, "http://localhost:3000"}}
	if change != nil {
		change(&cfg)
	}
	h, err := sdk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{t: t, URL: srv.URL, token: token, box: box,
		api: &apitest.Client{URL: eng.URL, ProjectID: eng.ProjectID, Secret: eng.Secret}}
}

// reply is one answer of the surface.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

// data is the success envelope's data, or fails the test.
func (r reply) data(t *testing.T) map[string]any {
	t.Helper()
	d, ok := r.body["data"].(map[string]any)
	if r.status != http.StatusOK || !ok {
		t.Fatalf("answer %d %v, want 200 with data", r.status, r.body)
	}
	return d
}

// call makes an SDK call as the SDK does: from origin, with Basic
// public_token:(session or public_token).
func (f *fixture) call(origin, method, path, session string, body any) reply {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.URL+"/sdk/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("X-SDK-Parent-Host", origin)
	}
	if session == "" {
		session = f.token
	}
	req.SetBasicAuth(f.token, session)
	return f.do(req)
}

func (f *fixture) do(req *http.Request) reply {
	f.t.Helper()
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Fatalf("%s %s: %d, not JSON: %q", req.Method, req.URL.Path, res.StatusCode, raw)
		}
	}
	return reply{status: res.StatusCode, header: res.Header, body: body}
}

var codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)

// signIn runs the email OTP flow for addr and returns the login's data.
func (f *fixture) signIn(addr string) map[string]any {
	f.t.Helper()
	after := f.box.Last()
	sent := f.call(app, "POST", "/otps/email/login_or_create", "", map[string]any{"email": addr, "expiration_minutes": 5}).data(f.t)
	if sent["method_id"] == nil || sent["method_id"] != sent["email_id"] {
		f.t.Fatalf("login_or_create: method_id %v, email_id %v", sent["method_id"], sent["email_id"])
	}
	m := f.mail(addr, after)
	code := codeRE.FindString(m.Text)
	return f.call(app, "POST", "/otps/authenticate", "", map[string]any{
		"token": code, "method_id": sent["method_id"], "session_duration_minutes": 60}).data(f.t)
}

func (f *fixture) mail(to string, after int) *mailbox.Message {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := f.box.Wait(ctx, to, after)
	if err != nil {
		f.t.Fatalf("no mail to %s: %v", to, err)
	}
	return m
}

// TestCORS: a preflight from an authorized origin is answered with that
// exact origin and credentials allowed; one from another origin gets no
// CORS headers.
func TestCORS(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{app, true}, {"http://localhost:3000", true}, {other, false}, {"http://127.0.0.1:3001", false}, {"null", false}} {
		req, _ := http.NewRequest(http.MethodOptions, f.URL+"/sdk/v1/otps/email/login_or_create", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-sdk-client,x-sdk-parent-host")
		r := f.do(req)
		got := r.header.Get("Access-Control-Allow-Origin")
		switch {
		case tc.ok && (r.status != http.StatusNoContent || got != tc.origin || r.header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "X-SDK-Client")):
			t.Errorf("preflight from %s: %d %v", tc.origin, r.status, r.header)
		case !tc.ok && (r.status != http.StatusForbidden || got != ""):
			t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q; want 403 and none", tc.origin, r.status, got)
		}
	}
}

// TestOtherOriginMailsNothing: calls from an origin that is not authorized
// are refused by the server, not only by the browser, and send no mail;
// without Origin, the SDK's X-SDK-Parent-Host decides, and without either
// the call is refused.
func TestOtherOriginMailsNothing(t *testing.T) {
	f := newFixture(t)
	before := f.box.Last()
	for _, origin := range []string{other, ""} {
		r := f.call(origin, "POST", "/otps/email/login_or_create", "", map[string]any{"email": "victim@example.com"})
		if r.status != http.StatusForbidden || r.body["error_type"] != "invalid_origin" || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("from %q: %d %v", origin, r.status, r.body)
		}
	}
	req, _ := http.NewRequest("POST", f.URL+"/sdk/v1/magic_links/email/login_or_create", strings.NewReader(`{"email":"victim@example.com"}`))
	req.Header.Set("Origin", other)
	req.Header.Set("X-SDK-Parent-Host", app) // the Origin the browser set wins
	req.SetBasicAuth(f.token, f.token)
	if r := f.do(req); r.status != http.StatusForbidden {
		t.Errorf("Origin %s with X-SDK-Parent-Host %s: %d %v", other, app, r.status, r.body)
	}
	// A mail sent afterwards is the first since: nothing went to the victim.
	f.signIn("someone@example.com")
	for _, m := range f.box.Messages() {
		if m.ID > before && m.To != "someone@example.com" {
			t.Errorf("a refused call mailed %s", m.To)
		}
	}
	// Without Origin (a same-origin GET), the SDK's header names the page.
	req, _ = http.NewRequest("GET", f.URL+"/sdk/v1/projects/bootstrap/"+f.token, nil)
	req.Header.Set("X-SDK-Parent-Host", app)
	if r := f.do(req); r.status != http.StatusOK {
		t.Errorf("bootstrap with X-SDK-Parent-Host alone: %d %v", r.status, r.body)
	}
}

// TestPublicToken: every call but the telemetry needs the project's public
// token; the bootstrap answers the fields the SDK cannot do without.
func TestPublicToken(t *testing.T) {
	f := newFixture(t)
	boot := f.call(app, "GET", "/projects/bootstrap/"+f.token, "", nil).data(t)
	if cs, _ := boot["captcha_settings"].(map[string]any); cs["enabled"] != false {
		t.Errorf("captcha_settings %v", boot["captcha_settings"])
	}
	if v, ok := boot["password_config"]; !ok || v != nil {
		t.Errorf("password_config %v (present %v), want null", v, ok)
	}
	if boot["vertical"] != "CONSUMER" || boot["disable_sdk_watermark"] != true {
		t.Errorf("bootstrap %v", boot)
	}
	wrong := sdk.NewPublicToken("project-test-x")
	if r := f.call(app, "GET", "/projects/bootstrap/"+wrong, "", nil); r.status != http.StatusNotFound {
		t.Errorf("bootstrap of another token: %d %v", r.status, r.body)
	}
	req, _ := http.NewRequest("POST", f.URL+"/sdk/v1/otps/email/login_or_create", strings.NewReader(`{"email":"a@example.com"}`))
	req.Header.Set("Origin", app)
	req.SetBasicAuth(wrong, wrong)
	if r := f.do(req); r.status != http.StatusUnauthorized || r.body["error_type"] != "unauthorized_credentials" {
		t.Errorf("another project's token: %d %v", r.status, r.body)
	}
	// The telemetry takes no credentials, and answers JSON.
	req, _ = http.NewRequest("POST", f.URL+"/sdk/v1/events", strings.NewReader(`[{"event":{"event_name":"x"}}]`))
	req.Header.Set("Origin", app)
	if r := f.do(req); r.status != http.StatusOK || r.body["data"] == nil {
		t.Errorf("events: %d %v", r.status, r.body)
	}
	if r := f.call(app, "GET", "/nothing", "", nil); r.status != http.StatusNotFound || r.body["error_type"] != "not_found" {
		t.Errorf("an unknown SDK path: %d %v", r.status, r.body)
	}
}

// TestOwnSessionOnly: a login answers the session and the user (its
// trusted metadata kept back); users/me reads and writes only the caller's
// own user, only its name and untrusted metadata; a revoked session is
// refused with an error type the SDK drops its session on.
func TestOwnSessionOnly(t *testing.T) {
	f := newFixture(t)
	other := f.signIn("other@example.com")
	login := f.signIn("me@example.com")
	tok, _ := login["session_token"].(string)
	if tok == "" || login["session_jwt"] == "" || login["session"] == nil {
		t.Fatalf("login: %v", login)
	}
	uid := login["user_id"].(string)
	if _, _, err := f.api.Do(context.Background(), "PUT", "/v1/users/"+uid, map[string]any{"trusted_metadata": map[string]any{"role": "admin"}}); err != nil {
		t.Fatal(err)
	}
	me := f.call(app, "GET", "/users/me", tok, nil).data(t)
	if me["user_id"] != uid || fmt.Sprint(me["trusted_metadata"]) != "map[]" {
		t.Errorf("users/me: %v", me)
	}
	upd := f.call(app, "PUT", "/users/me", tok, map[string]any{
		"name": map[string]any{"first_name": "Ada"}, "untrusted_metadata": map[string]any{"k": "v"},
		"trusted_metadata": map[string]any{"role": "owner"}, "user_id": other["user_id"],
	}).data(t)
	if u, _ := upd["__user"].(map[string]any); u == nil || fmt.Sprint(u["name"]) != "map[first_name:Ada last_name: middle_name:]" {
		t.Errorf("users/me PUT: __user %v", upd["__user"])
	}
	_, back, err := f.api.Do(context.Background(), "GET", "/v1/users/"+uid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back["trusted_metadata"]) != "map[role:admin]" || fmt.Sprint(back["untrusted_metadata"]) != "map[k:v]" {
		t.Errorf("after users/me PUT the backend reads %v / %v", back["trusted_metadata"], back["untrusted_metadata"])
	}
	_, them, _ := f.api.Do(context.Background(), "GET", "/v1/users/"+other["user_id"].(string), nil)
	if n, _ := them["name"].(map[string]any); n["first_name"] != "" {
		t.Errorf("another user's name changed: %v", n)
	}
	// No session: refused.
	if r := f.call(app, "GET", "/users/me", "", nil); r.status != http.StatusUnauthorized || r.body["error_type"] != "unauthorized_credentials" {
		t.Errorf("users/me signed out: %d %v", r.status, r.body)
	}
	if a := f.call(app, "POST", "/sessions/authenticate", tok, map[string]any{}).data(t); a["session_token"] != tok {
		t.Errorf("sessions/authenticate: %v", a)
	}
	f.call(app, "POST", "/sessions/revoke", tok, nil).data(t)
	r := f.call(app, "POST", "/sessions/authenticate", tok, map[string]any{})
	if r.status != http.StatusNotFound || r.body["error_type"] != "session_not_found" {
		t.Errorf("a revoked session: %d %v", r.status, r.body)
	}
	if status, _, _ := f.api.Do(context.Background(), "POST", "/v1/sessions/authenticate", map[string]any{"session_token": tok}); status == http.StatusOK {
		t.Error("the backend still accepts the revoked session")
	}
}

// TestUserSearch tells the prebuilt UI a user's type and nothing more.
func TestUserSearch(t *testing.T) {
	f := newFixture(t)
	f.signIn("link@example.com")
	pw := f.call(app, "POST", "/passwords", "", map[string]any{"email": "pw@example.com", "password": "correct horse battery staple 9", "session_duration_minutes": 60}).data(t)
	if pw["session_token"] == "" {
		t.Fatalf("passwords: %v", pw)
	}
	for addr, want := range map[string]string{"nobody@example.com": "new", "link@example.com": "passwordless", "pw@example.com": "password"} {
		d := f.call(app, "POST", "/users/search", "", map[string]any{"email": addr}).data(t)
		if d["userType"] != want || len(d) != 3 {
			t.Errorf("users/search %s: %v, want userType %s alone", addr, d, want)
		}
	}
}

// TestErrorsRelayed: the engine's refusals reach the SDK in its error
// shape, outside any data envelope.
func TestErrorsRelayed(t *testing.T) {
	f := newFixture(t)
	r := f.call(app, "POST", "/passwords/authenticate", "", map[string]any{"email": "none@example.com", "password": "whatever it is 1", "session_duration_minutes": 60})
	if r.status < 400 || r.body["data"] != nil || r.body["error_type"] == nil || r.body["error_url"] == nil || r.body["request_id"] == nil {
		t.Errorf("a failed login: %d %v", r.status, r.body)
	}
	if r := f.call(app, "POST", "/otps/authenticate", "", "not an object"); r.status != http.StatusBadRequest {
		t.Errorf("a body that is not an object: %d %v", r.status, r.body)
	}
}

// TestMailLimit: one client asks for at most 10 mails in 10 minutes.
func TestMailLimit(t *testing.T) {
	f := newFixture(t)
	for i := range 11 {
		r := f.call(app, "POST", "/magic_links/email/login_or_create", "", map[string]any{"email": fmt.Sprintf("n%d@example.com", i)})
		if i < 10 && r.status != http.StatusOK {
			t.Fatalf("mail %d: %d %v", i+1, r.status, r.body)
		}
		if i == 10 && (r.status != http.StatusTooManyRequests || r.body["error_type"] != "too_many_requests") {
			t.Errorf("mail 11: %d %v, want 429", r.status, r.body)
		}
	}
}

// TestConfig refuses what would open the surface wider than meant.
func TestConfig(t *testing.T) {
	good := sdk.Config{API: http.NotFoundHandler(), ProjectID: "project-test-00000000-0000-0000-0000-000000000000", Secret: "s",
		PublicToken: sdk.NewPublicToken("project-test-x"), Origins: []string{app}}
	if _, err := sdk.New(good); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*sdk.Config){
		"no origins":         func(c *sdk.Config) { c.Origins = nil },
		"origin with a path": func(c *sdk.Config) { c.Origins = []string{app + "/x"} },
		"wildcard origin":    func(c *sdk.Config) { c.Origins = []string{"*"} },
		"live token on test": func(c *sdk.Config) { c.PublicToken = sdk.NewPublicToken("project-live-x") },
		"not a token":        func(c *sdk.Config) { c.PublicToken = "public-token-test-nope" },
		"no secret":          func(c *sdk.Config) { c.Secret = "" },
	} {
		c := good
		change(&c)
		if _, err := sdk.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTOTP: a signed-in caller enrols an authenticator app for its own
// user and adds the app's code to its session; its recovery codes are read
// only by a session that has passed the app.
func TestTOTP(t *testing.T) {
	f := newFixture(t)
	login := f.signIn("totp@example.com")
	tok := login["session_token"].(string)
	enrolled := f.call(app, "POST", "/totps", tok, map[string]any{"expiration_minutes": 5}).data(t)
	secret, _ := enrolled["secret"].(string)
	if secret == "" || enrolled["__user"] == nil || enrolled["user_id"] != login["user_id"] {
		t.Fatalf("totps: %v", enrolled)
	}
	r := f.call(app, "POST", "/totps/recovery_codes", tok, nil)
	if r.status != http.StatusForbidden || r.body["error_type"] != "unauthorized_action" {
		t.Errorf("recovery codes to a one-factor session: %d %v", r.status, r.body)
	}
	stepped := f.call(app, "POST", "/totps/authenticate", tok, map[string]any{
		"totp_code": apitest.TOTP(t, secret, time.Now().Unix()), "session_duration_minutes": 60}).data(t)
	if stepped["session_token"] != tok {
		t.Errorf("totps/authenticate did not add to the caller's session: %v", stepped["session_token"])
	}
	codes := f.call(app, "POST", "/totps/recovery_codes", tok, nil).data(t)
	if codes["user_id"] != login["user_id"] || codes["totps"] == nil {
		t.Errorf("recovery codes: %v", codes)
	}
	// Signed out, none of it.
	for _, path := range []string{"/totps", "/totps/authenticate", "/totps/recover", "/totps/recovery_codes"} {
		if r := f.call(app, "POST", path, "", map[string]any{}); r.status != http.StatusUnauthorized {
			t.Errorf("%s signed out: %d %v", path, r.status, r.body)
		}
	}
}

// TestHTTPOnlyCookies: in the HttpOnly mode a login sets the session
// cookies HttpOnly and answers no token a script could read; the cookie is
// the caller's session; a revoke clears it and ends the session.
func TestHTTPOnlyCookies(t *testing.T) {
	f := newFixtureWith(t, func(c *sdk.Config) { c.HTTPOnlyCookies = true })
	after := f.box.Last()
	sent := f.call(app, "POST", "/otps/email/login_or_create", "", map[string]any{"email": "jar@example.com"}).data(t)
	code := codeRE.FindString(f.mail("jar@example.com", after).Text)
	req, _ := http.NewRequest("POST", f.URL+"/sdk/v1/otps/authenticate",
		strings.NewReader(fmt.Sprintf(`{"token":%q,"method_id":%q,"session_duration_minutes":60}`, code, sent["method_id"])))
	req.Header.Set("Origin", app)
	req.SetBasicAuth(f.token, f.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data map[string]any `json:"data"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if body.Data["session_token"] != "" || body.Data["session_jwt"] != "" || body.Data["session"] == nil {
		t.Errorf("the answer carries tokens: %v", body.Data)
	}
	cookies := map[string]*http.Cookie{}
	for _, ck := range res.Cookies() {
		cookies[ck.Name] = ck
	}
	tok, jwt := cookies["stytch_session"], cookies["stytch_session_jwt"]
	if tok == nil || jwt == nil || !tok.HttpOnly || !jwt.HttpOnly || tok.SameSite != http.SameSiteLaxMode || tok.Path != "/" || tok.Value == "" {
		t.Fatalf("cookies: %v", res.Cookies())
	}
	withCookie := func(method, path string) reply {
		req, _ := http.NewRequest(method, f.URL+"/sdk/v1"+path, strings.NewReader("{}"))
		req.Header.Set("Origin", app)
		req.SetBasicAuth(f.token, f.token)
		req.AddCookie(&http.Cookie{Name: tok.Name, Value: tok.Value})
		return f.do(req)
	}
	if me := withCookie("GET", "/users/me").data(t); me["user_id"] == nil {
		t.Errorf("users/me by cookie: %v", me)
	}
	if r := f.call(app, "GET", "/users/me", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("users/me with neither cookie nor token: %d", r.status)
	}
	r := withCookie("POST", "/sessions/revoke")
	if r.status != http.StatusOK || !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), "stytch_session=;") {
		t.Errorf("revoke: %d, Set-Cookie %q", r.status, r.header.Values("Set-Cookie"))
	}
	if status, _, _ := f.api.Do(context.Background(), "POST", "/v1/sessions/authenticate", map[string]any{"session_token": tok.Value}); status == http.StatusOK {
		t.Error("the backend still accepts the revoked session")
	}
}

// TestFrame: the SDK's helper iframe is served by Latch, framed only by
// the authorized origins, its one script allowed by hash.
func TestFrame(t *testing.T) {
	f := newFixture(t)
	res, err := http.Get(f.URL + "/sdk/clientside-services/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != http.StatusOK || !strings.Contains(csp, "frame-ancestors "+app+" http://localhost:3000") ||
		!strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(string(body), "postMessage") {
		t.Errorf("frame: %d %q %q", res.StatusCode, csp, body)
	}
}
