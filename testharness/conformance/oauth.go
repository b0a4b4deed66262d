package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/cap/oidc"
)

// Providers are the identity providers a conformance run signs in
// through, running in the test process: two OpenID providers from
// hashicorp/cap's test provider (one signing RS256, one ES256), each with
// a real login form and a code per login, and a GitHub on httptest with
// GitHub's answer shapes (github.go). Start them before the host, give
// the host Document as its providers configuration, and the Target the
// Providers.
type Providers struct {
	rs, es *oidc.TestProvider
	gh     *GitHub
	// subjects are the OpenID providers' users, by login.
	subjects map[string]subject
}

// subject is one user of the OpenID providers.
type subject struct {
	sub, email string
	verified   bool
}

// The OpenID providers' users. Each case signs in as its own, so cases
// do not share users.
const (
	subAlice    = "alice"    // verified address
	subBob      = "bob"      // unverified address
	subCarol    = "carol"    // verified address of a user made through the API
	subDave     = "dave"     // attached to a signed-in user
	subErin     = "erin"     // PKCE from the app
	subFrank    = "frank"    // credentials change after the callback
	subGrace    = "grace"    // token reuse and code replay
	subMallory  = "mallory"  // an ID token with another login's nonce
	subEve      = "eve"      // an ID token issued to another client
	subOld      = "old"      // an expired ID token
	subIvan     = "ivan"     // ES256
	subUnverify = "unverify" // unverified address someone else holds
	subSquat    = "squat"    // attached by whoever signed up with carol's address first
)

// Provider names in Document.
const (
	providerRS     = "acme"
	providerES     = "acme-es"
	providerGitHub = "github"
	oidcClientID   = "latch-conformance"
)

// StartProviders starts the providers for a run; now is the host's clock
// (time.Now for hosts on real time), which the OpenID providers issue
// their tokens by.
func StartProviders(t *testing.T, now func() time.Time) *Providers {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	p := &Providers{subjects: map[string]subject{}}
	for _, login := range []string{subAlice, subBob, subCarol, subDave, subErin, subFrank, subGrace, subMallory, subEve, subOld, subIvan, subUnverify, subSquat} {
		p.subjects[login] = subject{sub: "sub-" + login + "-" + randomHex(6), email: uniqueEmail(login), verified: login != subBob && login != subUnverify}
	}
	p.rs = p.startOIDC(t, now, oidc.RS256)
	p.es = p.startOIDC(t, now, oidc.ES256)
	p.gh = StartGitHub(t)
	return p
}

// startOIDC starts one OpenID provider with every subject and a login form.
func (p *Providers) startOIDC(t *testing.T, now func() time.Time, alg oidc.Alg) *oidc.TestProvider {
	t.Helper()
	key := &oidc.TestSigningKey{Alg: alg}
	switch alg {
	case oidc.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key.PrivKey, key.PubKey = k, &k.PublicKey
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key.PrivKey, key.PubKey = k, &k.PublicKey
	}
	info := map[string]*oidc.TestSubject{}
	for login, s := range p.subjects {
		claims := map[string]any{"sub": s.sub, "email": s.email, "email_verified": s.verified, "given_name": "Test", "family_name": login}
		switch login {
		case subMallory:
			claims["nonce"] = "not-this-login"
		case subEve:
			claims["aud"], claims["azp"] = []string{"another-client"}, "another-client"
		case subOld:
			claims["iat"], claims["exp"] = float64(time.Now().Add(-2*time.Hour).Unix()), float64(time.Now().Add(-time.Hour).Unix())
		}
		info[login] = &oidc.TestSubject{Password: "pw-" + login, CustomClaims: claims}
	}
	secret := "secret-" + randomHex(8)
	id := oidcClientID
	return oidc.StartTestProvider(t, oidc.WithNoTLS(), oidc.WithTestDefaults(&oidc.TestProviderDefaults{
		SigningKey: key, SubjectInfo: info, ClientID: &id, ClientSecret: &secret, NowFunc: now,
		SupportedScopes: []string{"openid", "email", "profile"},
	}))
}

// Document is the providers configuration for the host (the Worker's
// LATCH_OAUTH_PROVIDERS, latch-local's -oauth-providers file).
func (p *Providers) Document() string {
	rsID, rsSecret := p.rs.ClientCreds()
	esID, esSecret := p.es.ClientCreds()
	doc := []map[string]any{
		{"provider": "oidc", "name": providerRS, "client_id": rsID, "client_secret": rsSecret, "issuer": p.rs.Addr()},
		{"provider": "oidc", "name": providerES, "client_id": esID, "client_secret": esSecret, "issuer": p.es.Addr()},
		p.gh.ProviderConfig(providerGitHub),
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// allowCallback registers the host's callback at every provider.
func (p *Providers) allowCallback(callback string) {
	p.rs.SetAllowedRedirectURIs([]string{callback})
	p.es.SetAllowedRedirectURIs([]string{callback})
	p.gh.AllowRedirect(callback)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// browser is one user agent: its own cookies, and redirects seen one at a
// time, as the flow's hops are checked one by one.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// hop is one answer the browser got.
type hop struct {
	status   int
	location *url.URL
	body     []byte
}

// errorType is the error_type of a JSON error answer.
func (h hop) errorType() string {
	var b struct {
		ErrorType string `json:"error_type"`
	}
	_ = json.Unmarshal(h.body, &b)
	return b.ErrorType
}

func (b *browser) do(method, raw string, form url.Values) hop {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, raw, body)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, raw, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, raw, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("%s %s: read: %v", method, raw, err)
	}
	h := hop{status: res.StatusCode, body: data}
	if loc := res.Header.Get("Location"); loc != "" {
		if h.location, err = res.Request.URL.Parse(loc); err != nil {
			b.t.Fatalf("%s %s: Location %q: %v", method, raw, loc, err)
		}
	}
	return h
}

func (b *browser) get(raw string) hop { b.t.Helper(); return b.do(http.MethodGet, raw, nil) }

// redirect asserts a 302 and returns where it leads.
func (h hop) redirect(t *testing.T, what string) *url.URL {
	t.Helper()
	if h.status != http.StatusFound || h.location == nil {
		t.Fatalf("%s: want a 302, got %d: %.300s", what, h.status, h.body)
	}
	return h.location
}

// startURL is the host's start URL for provider with query q (the public
// token added).
func (c *client) startURL(provider string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	if q.Get("public_token") == "" {
		q.Set("public_token", c.tg.PublicToken)
	}
	return c.tg.URL + "/v1/public/oauth/" + provider + "/start?" + q.Encode()
}

var hiddenInput = regexp.MustCompile(`<input name="(state|code|redirect_uri)" type="hidden" value="([^"]*)" />`)

// toCallback goes from the start URL to the provider and signs in as
// login there, and returns the provider's redirect to Latch's callback,
// not yet followed.
func (c *client) toCallback(b *browser, provider, login string, q url.Values) *url.URL {
	c.t.Helper()
	authURL := b.get(c.startURL(provider, q)).redirect(c.t, "start")
	if provider == providerGitHub {
		return c.tg.OAuth.gh.signIn(c.t, b, authURL, login)
	}
	page := b.get(authURL.String())
	if page.status != http.StatusOK {
		c.t.Fatalf("provider's login page: %d %.300s", page.status, page.body)
	}
	form := url.Values{"uname": {login}, "psw": {"pw-" + login}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page.body), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	login_ := b.do(http.MethodPost, authURL.Scheme+"://"+authURL.Host+"/login", form)
	return login_.redirect(c.t, "provider's login")
}

// oauthToken runs the whole chain as login and returns the app's URL
// Latch sent the browser to, with the token in it.
func (c *client) oauthToken(provider, login string, q url.Values) (*url.URL, string) {
	c.t.Helper()
	b := newBrowser(c.t)
	cb := c.toCallback(b, provider, login, q)
	app := b.get(cb.String()).redirect(c.t, "callback")
	if app.Query().Get("stytch_token_type") != "oauth" || app.Query().Get("token") == "" {
		c.t.Fatalf("callback sent the browser to %s, without stytch_token_type=oauth and a token", app.Redacted())
	}
	return app, app.Query().Get("token")
}

// requireOAuth skips a case on a host without providers.
func (c *client) requireOAuth() *Providers {
	c.t.Helper()
	if c.tg.OAuth == nil {
		c.t.Skip("host has no OAuth providers configured")
	}
	return c.tg.OAuth
}

func (p *Providers) subject(login string) subject { return p.subjects[login] }

// String keeps secrets out of test output.
func (p *Providers) String() string {
	return fmt.Sprintf("providers %s (RS256), %s (ES256), github at %s", p.rs.Addr(), p.es.Addr(), p.gh.URL())
}
