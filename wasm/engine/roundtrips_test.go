package engine_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/oauth"
	"github.com/latchauth/latch/wasm/sdk"
)

// lastMail keeps the last message the engine sent.
type lastMail struct {
	mu sync.Mutex
	m  engine.Message
}

func (l *lastMail) Send(_ context.Context, m *engine.Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m = *m
	return nil
}

func (l *lastMail) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Text
}

// countingStore is a store that counts the statements executed or
// queried through it: each is one D1 round trip on the Worker (no
// statement there shares a trip).
func countingStore(t *testing.T) (*sql.DB, *atomic.Int64) {
	n := &atomic.Int64{}
	db, _ := hookedStore(t, func(at step) error {
		if at != atPrepare {
			n.Add(1)
		}
		return nil
	})
	return db, n
}

// checkStatements checks that the call name made want statements; a
// change that adds one adds a D1 round trip to the call on the Worker
// (BENCHMARKS.md, "D1 round trips per call").
func checkStatements(t *testing.T, name string, got, want int64) {
	t.Helper()
	t.Logf("%s: %d statements", name, got)
	if got != want {
		t.Errorf("%s: %d statements, want %d", name, got, want)
	}
}

// laterQueue is a host's Config.Later that holds the work until the test
// runs it, as the Worker runs it after the answer has gone out.
type laterQueue struct {
	mu   sync.Mutex
	work []func(context.Context)
	ctx  []context.Context
}

func (q *laterQueue) add(ctx context.Context, work func(context.Context)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.work, q.ctx = append(q.work, work), append(q.ctx, ctx)
}

// run runs the work held so far and returns how many there were.
func (q *laterQueue) run() int {
	q.mu.Lock()
	work, ctx := q.work, q.ctx
	q.work, q.ctx = nil, nil
	q.mu.Unlock()
	for i, w := range work {
		w(ctx[i])
	}
	return len(work)
}

// TestStatementsPerCall counts the statements of the calls a login and
// an origin make most, each a D1 round trip on the Worker, before each
// answer goes out.
func TestStatementsPerCall(t *testing.T) {
	db, n := countingStore(t)
	mailer := &lastMail{}
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	later := &laterQueue{}
	e, err := engine.New(engine.Config{ProjectID: "project-test-trips", Secret: "secret", DB: db, Signer: testSigner(t),
		Now: clk.Now, Mailer: mailer, MailFrom: "login@latch.test", RedirectURLs: []string{"http://localhost:3000/authenticate"},
		SecretBox: testSecretBox(t), WebAuthnOrigins: []string{conformance.WebAuthnOrigin}, Later: later.add})
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.Client{Handler: e, ProjectID: "project-test-trips", Secret: "secret"}
	// after is the number of statements the last counted call made after
	// its answer: only these two calls leave any.
	var after int64
	leaves := map[string]bool{"/v1/sessions/authenticate": true, "/v1/passwords/authenticate": true}
	count := func(path string, body any) (int64, map[string]any) {
		t.Helper()
		before := n.Load()
		out := c.MustPost(t, path, body)
		got := n.Load() - before
		later.run()
		if after = n.Load() - before - got; after != 0 && !leaves[path] {
			t.Errorf("%s: %d statements after the answer, want none", path, after)
		}
		return got, out
	}
	codeIn := regexp.MustCompile(`\b\d{6}\b`)
	got, out := count("/v1/otps/email/login_or_create", map[string]any{"email": "trips@example.com"})
	checkStatements(t, "otps/email/login_or_create, a new user", got, 3)
	got, out = count("/v1/otps/authenticate", map[string]any{"method_id": out["email_id"], "code": codeIn.FindString(mailer.text()), "session_duration_minutes": 60})
	checkStatements(t, "otps/authenticate, a new user's first session", got, 3)
	token, jwt := out["session_token"], out["session_jwt"]
	got, _ = count("/v1/sessions/authenticate", map[string]any{"session_token": token})
	checkStatements(t, "sessions/authenticate by token", got, 1)
	got, _ = count("/v1/sessions/authenticate", map[string]any{"session_jwt": jwt})
	checkStatements(t, "sessions/authenticate by JWT", got, 1)
	clk.Advance(2 * time.Minute)
	before := n.Load()
	out = c.MustPost(t, "/v1/sessions/authenticate", map[string]any{"session_token": token})
	checkStatements(t, "sessions/authenticate by token, last_accessed_at a minute old", n.Load()-before, 1)
	session := out["session"].(map[string]any)
	if want := clk.Now().UTC().Format(time.RFC3339); session["last_accessed_at"] != want {
		t.Errorf("answer's last_accessed_at %v, want %s", session["last_accessed_at"], want)
	}
	before = n.Load()
	if k := later.run(); k != 1 {
		t.Errorf("last_accessed_at a minute old: %d writes after the answer, want 1", k)
	}
	checkStatements(t, "sessions/authenticate by token, after the answer", n.Load()-before, 1)
	status, got2, err := c.Do(context.Background(), http.MethodGet, "/v1/sessions?user_id="+session["user_id"].(string), nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET /v1/sessions: %d %v %v", status, got2, err)
	}
	listed := got2["sessions"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["last_accessed_at"] != session["last_accessed_at"] {
		t.Errorf("after the write: sessions %v, want one last accessed at %v", listed, session["last_accessed_at"])
	}
	got, out = count("/v1/otps/email/login_or_create", map[string]any{"email": "trips@example.com"})
	checkStatements(t, "otps/email/login_or_create, a returning user", got, 2)
	got, _ = count("/v1/otps/authenticate", map[string]any{"method_id": out["email_id"], "code": codeIn.FindString(mailer.text()), "session_token": token})
	checkStatements(t, "otps/authenticate, a step-up", got, 3)
	clk.Advance(time.Minute) // past the mail limit's spacing
	_, out = count("/v1/otps/email/login_or_create", map[string]any{"email": "trips@example.com"})
	got, _ = count("/v1/otps/authenticate", map[string]any{"method_id": out["email_id"], "code": codeIn.FindString(mailer.text()), "session_duration_minutes": 60})
	checkStatements(t, "otps/authenticate, a returning user", got, 2)
	got, _ = count("/v1/passwords", map[string]any{"email": "pw-trips@example.com", "password": "correct horse battery staple 42", "session_duration_minutes": 60})
	checkStatements(t, "passwords (create)", got, 2)
	got, _ = count("/v1/passwords/authenticate", map[string]any{"email": "pw-trips@example.com", "password": "correct horse battery staple 42", "session_duration_minutes": 60})
	checkStatements(t, "passwords/authenticate", got, 2)
	checkStatements(t, "passwords/authenticate, after the answer", after, 1)
	got, _ = count("/v1/magic_links/email/login_or_create", map[string]any{"email": "ml-trips@example.com"})
	checkStatements(t, "magic_links/email/login_or_create, a new user", got, 3)
	link := regexp.MustCompile(`[?&]token=([^&\s"]+)`).FindStringSubmatch(mailer.text())
	if link == nil {
		t.Fatalf("no token in the mail %q", mailer.text())
	}
	mlToken, err := url.QueryUnescape(link[1])
	if err != nil {
		t.Fatal(err)
	}
	got, out = count("/v1/magic_links/authenticate", map[string]any{"token": mlToken, "session_duration_minutes": 60})
	checkStatements(t, "magic_links/authenticate, a new user's first session", got, 3)
	embedded := c.MustPost(t, "/v1/magic_links", map[string]any{"user_id": out["user_id"]})
	got, _ = count("/v1/magic_links/authenticate", map[string]any{"token": embedded["token"], "session_duration_minutes": 60})
	checkStatements(t, "magic_links/authenticate, a returning user", got, 2)
	const totpPassword = "correct horse battery staple 43"
	totpUser := c.MustPost(t, "/v1/passwords", map[string]any{"email": "totp-trips@example.com", "password": totpPassword})["user_id"]
	secret := c.MustPost(t, "/v1/totps", map[string]any{"user_id": totpUser})["secret"].(string)
	got, _ = count("/v1/totps/authenticate", map[string]any{"user_id": totpUser, "totp_code": apitest.TOTP(t, secret, clk.Now().Unix()), "session_duration_minutes": 60})
	checkStatements(t, "totps/authenticate, the enrolment's first code", got, 4)
	clk.Advance(time.Minute)
	got, _ = count("/v1/totps/authenticate", map[string]any{"user_id": totpUser, "totp_code": apitest.TOTP(t, secret, clk.Now().Unix()), "session_duration_minutes": 60})
	checkStatements(t, "totps/authenticate, a login", got, 4)
	got, held := count("/v1/passwords/authenticate", map[string]any{"email": "totp-trips@example.com", "password": totpPassword,
		"session_duration_minutes": 60, "require_mfa": true})
	checkStatements(t, "passwords/authenticate, held by require_mfa", got, 2)
	checkStatements(t, "passwords/authenticate, held by require_mfa, after the answer", after, 1)
	clk.Advance(time.Minute)
	got, _ = count("/v1/totps/authenticate", map[string]any{"intermediate_session_token": held["intermediate_session_token"],
		"totp_code": apitest.TOTP(t, secret, clk.Now().Unix())})
	checkStatements(t, "totps/authenticate, the second factor of a held login", got, 5)
	got, _ = count("/v1/sessions/revoke", map[string]any{"session_token": token})
	checkStatements(t, "sessions/revoke", got, 1)

	// A passkey: registered, then signing in for its user and as a
	// discoverable passkey.
	rp := virtualwebauthn.RelyingParty{Name: "Latch", ID: "localhost", Origin: conformance.WebAuthnOrigin}
	authr, cred := virtualwebauthn.NewAuthenticator(), apitest.WebAuthnCredential(t)
	passkeyUser := c.MustPost(t, "/v1/users", map[string]any{"email": "passkey-trips@example.com"})["user_id"]
	webauthnStart := map[string]any{"user_id": passkeyUser, "domain": "localhost", "use_base64_url_encoding": true,
		"return_passkey_credential_options": true}
	got, out = count("/v1/webauthn/register/start", webauthnStart)
	checkStatements(t, "webauthn/register/start", got, 2)
	creation, err := virtualwebauthn.ParseAttestationOptions(out["public_key_credential_creation_options"].(string))
	if err != nil {
		t.Fatal(err)
	}
	authr.Options.UserHandle = []byte(creation.UserID)
	got, _ = count("/v1/webauthn/register", map[string]any{"user_id": passkeyUser,
		"public_key_credential": virtualwebauthn.CreateAttestationResponse(rp, authr, cred, *creation)})
	checkStatements(t, "webauthn/register, no session", got, 4)
	for _, who := range []struct {
		name string
		user any
	}{{"for its user", passkeyUser}, {"discoverable", nil}} {
		start := map[string]any{"domain": "localhost", "use_base64_url_encoding": true}
		if who.user != nil {
			start["user_id"] = who.user
		}
		got, out = count("/v1/webauthn/authenticate/start", start)
		checkStatements(t, "webauthn/authenticate/start, "+who.name, got, map[bool]int64{true: 2, false: 1}[who.user != nil])
		request, err := virtualwebauthn.ParseAssertionOptions(out["public_key_credential_request_options"].(string))
		if err != nil {
			t.Fatal(err)
		}
		got, _ = count("/v1/webauthn/authenticate", map[string]any{"session_duration_minutes": 60,
			"public_key_credential": virtualwebauthn.CreateAssertionResponse(rp, authr, cred, *request)})
		checkStatements(t, "webauthn/authenticate, "+who.name, got, 4)
	}
}

// TestStatementsPerOAuthLogin counts the statements of a social login:
// the provider's callback, then oauth/authenticate, for a new user and
// for a returning one.
func TestStatementsPerOAuthLogin(t *testing.T) {
	db, n := countingStore(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	prov := conformance.StartProviders(t, clk.Now)
	providers, err := oauth.ParseProviders([]byte(prov.Document()))
	if err != nil {
		t.Fatal(err)
	}
	const redirect = "http://localhost:3000/authenticate"
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	publicToken := sdk.NewPublicToken("project-test-trips")
	e, err := engine.New(engine.Config{ProjectID: "project-test-trips", Secret: "secret", DB: db, Signer: testSigner(t),
		Now: clk.Now, RedirectURLs: []string{redirect}, SecretBox: testSecretBox(t),
		OAuthProviders: providers, Fetcher: oauth.NewHTTPFetcher(nil), PublicToken: publicToken, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	prov.AllowCallback(base + "/v1/oauth/callback")
	c := apitest.Client{Handler: e, ProjectID: "project-test-trips", Secret: "secret"}

	for _, login := range []struct {
		name                   string
		callback, authenticate int64
	}{{"a new user", 8, 3}, {"a returning user", 3, 3}} {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		redirectOf := func(u string) *url.URL {
			t.Helper()
			res, err := browser.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			to, err := res.Location()
			if res.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("GET %s: %d, want a redirect (%v)", u, res.StatusCode, err)
			}
			return to
		}
		before := n.Load()
		authURL := redirectOf(base + "/v1/public/oauth/" + conformance.ProviderOIDC + "/start?public_token=" + publicToken)
		checkStatements(t, "oauth start, "+login.name, n.Load()-before, 1)
		callback, err := prov.SignInAt(browser, authURL, "alice")
		if err != nil {
			t.Fatal(err)
		}
		before = n.Load()
		app := redirectOf(callback.String())
		checkStatements(t, "oauth callback, "+login.name, n.Load()-before, login.callback)
		before = n.Load()
		c.MustPost(t, "/v1/oauth/authenticate", map[string]any{"token": app.Query().Get("token"), "session_duration_minutes": 60})
		checkStatements(t, "oauth/authenticate, "+login.name, n.Load()-before, login.authenticate)
	}
}
