package sdk_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/testharness/native"
	"github.com/latchauth/latch/wasm/sdk"
)

// Social login through the SDK, against the engine natively and the
// conformance suite's providers on loopback.

func newOAuthFixture(t *testing.T, change func(*sdk.Config)) (*fixture, *conformance.Providers) {
	t.Helper()
	prov := conformance.StartProviders(t, nil)
	f := newFixtureOn(t, native.Config{OAuthProviders: []byte(prov.Document())}, change)
	prov.AllowCallback(f.api.URL + "/v1/oauth/callback")
	return f, prov
}

// oauthToken goes where the SDK's oauth.{provider}.start sends the
// browser, the engine's public start URL behind the surface, with extra
// query members, signs in as login at the provider, and returns the token
// of the app URL the engine's callback sends the browser to.
func (f *fixture) oauthToken(prov *conformance.Providers, provider, login string, extra url.Values) string {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"public_token": {f.token}, "login_redirect_url": {app + "/authenticate"}}
	for k, vs := range extra {
		q[k] = vs
	}
	hop := func(raw string) *url.URL {
		f.t.Helper()
		res, err := hc.Get(raw)
		if err != nil {
			f.t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if res.StatusCode != http.StatusFound || err != nil {
			f.t.Fatalf("GET %s: %d, no redirect", strings.SplitN(raw, "?", 2)[0], res.StatusCode)
		}
		return loc
	}
	authURL := hop(f.URL + "/v1/public/oauth/" + provider + "/start?" + q.Encode())
	callback, err := prov.SignInAt(hc, authURL, login)
	if err != nil {
		f.t.Fatal(err)
	}
	back := hop(callback.String())
	if !strings.HasPrefix(back.String(), app+"/authenticate?") || back.Query().Get("stytch_token_type") != "oauth" {
		f.t.Fatalf("the callback sent the browser to %s", back.Redacted())
	}
	return back.Query().Get("token")
}

// TestOAuthAuthenticate: the token from the callback signs in through the
// SDK, once, with the user's trusted metadata kept back.
func TestOAuthAuthenticate(t *testing.T) {
	f, prov := newOAuthFixture(t, nil)
	token := f.oauthToken(prov, conformance.ProviderOIDC, "alice", nil)
	d := f.call(app, "POST", "/oauth/authenticate", "", map[string]any{"token": token, "session_duration_minutes": 30}).data(t)
	acct, _ := prov.Account("alice")
	u, _ := d["__user"].(map[string]any)
	emails, _ := u["emails"].([]any)
	if d["session_token"] == "" || d["session_jwt"] == "" || d["provider_type"] != conformance.ProviderOIDC ||
		len(emails) != 1 || fmt.Sprint(emails[0].(map[string]any)["email"]) != acct.Email {
		t.Fatalf("oauth/authenticate: %v", d)
	}
	sess, _ := d["session"].(map[string]any)
	expires, _ := time.Parse(time.RFC3339, fmt.Sprint(sess["expires_at"]))
	if until := time.Until(expires); until < 29*time.Minute || until > 31*time.Minute {
		t.Errorf("session expires in %v, want 30 minutes", until)
	}
	// Trusted metadata set by the backend stays there.
	uid := fmt.Sprint(d["user_id"])
	if s, _, _ := f.api.Do(context.Background(), "PUT", "/v1/users/"+uid, map[string]any{"trusted_metadata": map[string]any{"role": "admin"}}); s != http.StatusOK {
		t.Fatalf("set trusted metadata: %d", s)
	}
	again := f.call(app, "POST", "/oauth/authenticate", "", map[string]any{"token": f.oauthToken(prov, conformance.ProviderOIDC, "alice", nil)}).data(t)
	for _, member := range []string{"user", "__user"} {
		if u, _ := again[member].(map[string]any); u == nil || fmt.Sprint(u["trusted_metadata"]) != "map[]" {
			t.Errorf("%s: trusted_metadata %v", member, u["trusted_metadata"])
		}
	}
	// The token works once.
	if r := f.call(app, "POST", "/oauth/authenticate", "", map[string]any{"token": token}); r.status != http.StatusUnauthorized ||
		r.body["error_type"] != "unable_to_auth_oauth_token" {
		t.Errorf("the token twice: %d %v", r.status, r.body)
	}
	// Not from another origin.
	if r := f.call(other, "POST", "/oauth/authenticate", "", map[string]any{"token": token}); r.status != http.StatusForbidden {
		t.Errorf("from another origin: %d %v", r.status, r.body)
	}
}

// TestOAuthPKCE: a flow the SDK started with a challenge needs its
// verifier, and a wrong one spends nothing.
func TestOAuthPKCE(t *testing.T) {
	f, prov := newOAuthFixture(t, nil)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	token := f.oauthToken(prov, conformance.ProviderGitHub, "octocat", url.Values{"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}})
	for _, wrong := range []map[string]any{{"token": token}, {"token": token, "code_verifier": strings.Repeat("w", 43)}} {
		if r := f.call(app, "POST", "/oauth/authenticate", "", wrong); r.status != http.StatusBadRequest || r.body["error_type"] != "pkce_mismatch" {
			t.Errorf("%v: %d %v", wrong, r.status, r.body)
		}
	}
	d := f.call(app, "POST", "/oauth/authenticate", "", map[string]any{"token": token, "code_verifier": verifier, "session_duration_minutes": 30}).data(t)
	if d["provider_type"] != "Github" || d["session_token"] == "" {
		t.Errorf("with the verifier: %v", d)
	}
}

// TestOAuthAttach: a signed-in caller attaches a provider to its own
// user; signed out, or for a provider not configured, it cannot.
func TestOAuthAttach(t *testing.T) {
	f, prov := newOAuthFixture(t, nil)
	login := f.signIn("attach@example.com")
	tok := login["session_token"].(string)
	attach := f.call(app, "POST", "/oauth/attach", tok, map[string]any{"provider": conformance.ProviderGitHub}).data(t)
	at, _ := attach["oauth_attach_token"].(string)
	if at == "" {
		t.Fatalf("oauth/attach: %v", attach)
	}
	token := f.oauthToken(prov, conformance.ProviderGitHub, "octocat", url.Values{"oauth_attach_token": {at}})
	d := f.call(app, "POST", "/oauth/authenticate", tok, map[string]any{"token": token}).data(t)
	if d["user_id"] != login["user_id"] || d["session_token"] != tok {
		t.Errorf("after attach: user %v session %v, want the caller's %v and its session", d["user_id"], d["session_token"], login["user_id"])
	}
	if r := f.call(app, "POST", "/oauth/attach", "", map[string]any{"provider": conformance.ProviderGitHub}); r.status != http.StatusUnauthorized {
		t.Errorf("signed out: %d %v", r.status, r.body)
	}
	if r := f.call(app, "POST", "/oauth/attach", tok, map[string]any{"provider": "nope"}); r.status != http.StatusNotFound ||
		r.body["error_type"] != "oauth_provider_not_found" {
		t.Errorf("unknown provider: %d %v", r.status, r.body)
	}
}

// TestOAuthHTTPOnly: in the HttpOnly mode the OAuth login sets the
// session cookies and answers no token.
func TestOAuthHTTPOnly(t *testing.T) {
	f, prov := newOAuthFixture(t, func(c *sdk.Config) { c.HTTPOnlyCookies = true })
	r := f.call(app, "POST", "/oauth/authenticate", "", map[string]any{"token": f.oauthToken(prov, conformance.ProviderOIDC, "alice", nil),
		"session_duration_minutes": 30})
	d := r.data(t)
	if d["session_token"] != "" || d["session_jwt"] != "" || d["session"] == nil {
		t.Errorf("the answer carries tokens: %v", d)
	}
	set := strings.Join(r.header.Values("Set-Cookie"), "\n")
	if !strings.Contains(set, "stytch_session=") || !strings.Contains(set, "HttpOnly") {
		t.Errorf("Set-Cookie %q", set)
	}
}
