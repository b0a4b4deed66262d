package conformance

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// oauthLogin signs in through provider as login, redeems the token for a
// 30-minute session and returns the answer and whether Latch sent the
// browser to the signup URL.
func (c *client) oauthLogin(provider, login string, q url.Values) (obj, bool) {
	c.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("login_redirect_url", c.tg.RedirectURL+"?via=login")
	q.Set("signup_redirect_url", c.tg.RedirectURL+"?via=signup")
	app, token := c.oauthToken(provider, login, q)
	got := c.ok(c.post("/v1/oauth/authenticate", obj{"token": token, "session_duration_minutes": 30}))
	return got, app.Query().Get("via") == "signup"
}

// userEmails returns the addresses of the answer's user.
func userEmails(body obj) []any {
	list, _ := field(body, "user", "emails").([]any)
	return list
}

var oauthCases = []testCase{
	{name: "oauth/an OpenID provider signs a new user up, then in", run: func(t *testing.T, c *client) {
		p := c.requireOAuth()
		alice := p.subject(subAlice)
		got, signup := c.oauthLogin(providerRS, subAlice, nil)
		if !signup {
			t.Error("a first sign-in went to the login URL, not the signup URL")
		}
		for k, want := range map[string]any{"provider_type": providerRS, "provider_subject": alice.sub, "reset_sessions": false} {
			if got[k] != want {
				t.Errorf("%s = %#v, want %#v", k, got[k], want)
			}
		}
		for _, k := range []string{"access_token", "id_token"} {
			if s, _ := field(got, "provider_values", k).(string); s == "" {
				t.Errorf("provider_values.%s is empty", k)
			}
		}
		if emails := userEmails(got); len(emails) != 1 || field(emails[0].(obj), "email") != alice.email || field(emails[0].(obj), "verified") != true {
			t.Errorf("user emails %v, want %s verified", emails, alice.email)
		}
		providers, _ := field(got, "user", "providers").([]any)
		if len(providers) != 1 || providers[0].(obj)["provider_subject"] != alice.sub || providers[0].(obj)["oauth_user_registration_id"] != got["oauth_user_registration_id"] {
			t.Errorf("user providers %v", providers)
		}
		factors, _ := field(got, "session", "authentication_factors").([]any)
		if len(factors) != 1 || factors[0].(obj)["type"] != "oauth" || factors[0].(obj)["delivery_method"] != "oauth_"+providerRS {
			t.Errorf("session factors %v", factors)
		}
		c.ok(c.post("/v1/sessions/authenticate", obj{"session_jwt": str(t, got, "session_jwt")}))
		again, signup := c.oauthLogin(providerRS, subAlice, nil)
		if signup || again["user_id"] != got["user_id"] || again["oauth_user_registration_id"] != got["oauth_user_registration_id"] {
			t.Errorf("second sign-in: user %v (signup %v), want %v through the login URL", again["user_id"], signup, got["user_id"])
		}
	}},
	{name: "oauth/an ES256 provider signs in", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		got, _ := c.oauthLogin(providerES, subIvan, nil)
		if got["provider_type"] != providerES || str(t, got, "session_token") == "" {
			t.Errorf("answer %v", got)
		}
	}},
	{name: "oauth/GitHub signs in by its user API", run: func(t *testing.T, c *client) {
		p := c.requireOAuth()
		octo := p.gh.account(ghOctocat)
		got, _ := c.oauthLogin(providerGitHub, ghOctocat, nil)
		if got["provider_type"] != "Github" || got["provider_subject"] != strconv.FormatInt(octo.ID, 10) {
			t.Errorf("provider %v %v, want Github %d", got["provider_type"], got["provider_subject"], octo.ID)
		}
		if emails := userEmails(got); len(emails) != 1 || emails[0].(obj)["email"] != octo.Email {
			t.Errorf("user emails %v, want %s", emails, octo.Email)
		}
		if scopes, _ := field(got, "provider_values", "scopes").([]any); len(scopes) != 2 {
			t.Errorf("provider_values.scopes %v, want GitHub's two", scopes)
		}
		hubot, _ := c.oauthLogin(providerGitHub, ghHubot, nil)
		if emails := userEmails(hubot); len(emails) != 0 {
			t.Errorf("an address GitHub did not verify reached the user: %v", emails)
		}
	}},
	{name: "oauth/an address the provider did not verify is not given to the user", run: func(t *testing.T, c *client) {
		p := c.requireOAuth()
		got, _ := c.oauthLogin(providerRS, subBob, nil)
		if emails := userEmails(got); len(emails) != 0 {
			t.Errorf("user emails %v, want none", emails)
		}
		// Someone else holds the address: the identity gets its own user.
		holder := c.ok(c.post("/v1/users", obj{"email": p.subject(subUnverify).email}))
		other, _ := c.oauthLogin(providerRS, subUnverify, nil)
		if other["user_id"] == holder["user_id"] {
			t.Fatal("an unverified address signed in as the user who holds it")
		}
	}},
	{name: "oauth/a verified address joins its user and ends what an unproven one started", run: func(t *testing.T, c *client) {
		p := c.requireOAuth()
		carol := p.subject(subCarol)
		squat := c.ok(c.post("/v1/passwords", obj{"email": carol.email, "password": strongPassword(), "session_duration_minutes": 60}))
		// Whoever signed up with the address links an identity of their
		// own to its user, and takes another attach token for later.
		attach := func() string {
			return str(t, c.ok(c.post("/v1/oauth/attach", obj{"provider": providerRS, "session_token": squat["session_token"]})), "oauth_attach_token")
		}
		if linked, _ := c.oauthLogin(providerRS, subSquat, url.Values{"oauth_attach_token": {attach()}}); linked["user_id"] != squat["user_id"] {
			t.Fatalf("attached to %v, want %v", linked["user_id"], squat["user_id"])
		}
		later := attach()
		got, signup := c.oauthLogin(providerRS, subCarol, nil)
		if signup || got["user_id"] != squat["user_id"] {
			t.Fatalf("user %v (signup %v), want %v", got["user_id"], signup, squat["user_id"])
		}
		if field(got, "user", "password") != nil {
			t.Error("the password set before the address was proven survived")
		}
		c.fails(c.post("/v1/sessions/authenticate", obj{"session_token": squat["session_token"]}), http.StatusNotFound, "session_not_found")
		// The identity linked before the proof went with it, and the
		// attach token taken before it is spent.
		providers, _ := field(got, "user", "providers").([]any)
		if len(providers) != 1 || providers[0].(obj)["provider_subject"] != carol.sub {
			t.Errorf("providers after the proof %v, want carol's alone", providers)
		}
		if again, signup := c.oauthLogin(providerRS, subSquat, nil); again["user_id"] == squat["user_id"] || !signup {
			t.Errorf("the identity linked before the proof signed in to %v (signup %v)", again["user_id"], signup)
		}
		if h := newBrowser(t).get(c.startURL(providerRS, url.Values{"oauth_attach_token": {later}})); h.status != http.StatusBadRequest || h.errorType() != "invalid_oauth_attach_token" {
			t.Errorf("an attach token taken before the proof: %d %s", h.status, h.body)
		}
	}},
	{name: "oauth/attach adds a provider to a signed-in user", run: func(t *testing.T, c *client) {
		p := c.requireOAuth()
		userID, sess := c.login("attach", 30)
		c.fails(c.post("/v1/oauth/attach", obj{"provider": providerRS, "user_id": userID, "session_token": sess["session_token"]}), http.StatusBadRequest, "bad_request")
		c.fails(c.post("/v1/oauth/attach", obj{"provider": "nope", "user_id": userID}), http.StatusNotFound, "oauth_provider_not_found")
		attach := str(t, c.ok(c.post("/v1/oauth/attach", obj{"provider": providerRS, "session_token": sess["session_token"]})), "oauth_attach_token")
		// For another provider it is refused, and not spent.
		b := newBrowser(t)
		if h := b.get(c.startURL(providerES, url.Values{"oauth_attach_token": {attach}})); h.status != http.StatusBadRequest || h.errorType() != "invalid_oauth_attach_token" {
			t.Fatalf("attach token at another provider: %d %s", h.status, h.body)
		}
		// Nor by a start refused for its parameters.
		if h := b.get(c.startURL(providerRS, url.Values{"oauth_attach_token": {attach}, "provider_scope": {"x"}})); h.status != http.StatusBadRequest || h.errorType() != "bad_request" {
			t.Fatalf("attach token with a reserved provider parameter: %d %s", h.status, h.body)
		}
		got, _ := c.oauthLogin(providerRS, subDave, url.Values{"oauth_attach_token": {attach}})
		if got["user_id"] != userID || got["provider_subject"] != p.subject(subDave).sub {
			t.Fatalf("attached to %v, want %v", got["user_id"], userID)
		}
		if h := b.get(c.startURL(providerRS, url.Values{"oauth_attach_token": {attach}})); h.errorType() != "invalid_oauth_attach_token" {
			t.Errorf("attach token used twice: %d %s", h.status, h.body)
		}
		// The identity now belongs to that user; attaching it elsewhere fails.
		otherID, _ := c.newUser("attach-other")
		again := str(t, c.ok(c.post("/v1/oauth/attach", obj{"provider": providerRS, "user_id": otherID})), "oauth_attach_token")
		cb := c.toCallback(b, providerRS, subDave, url.Values{"oauth_attach_token": {again}})
		if h := b.get(cb.String()); h.status != http.StatusConflict || h.errorType() != "oauth_user_registration_exists" {
			t.Errorf("attaching a linked identity to another user: %d %s", h.status, h.body)
		}
	}},
	{name: "oauth/a flow started with a PKCE challenge needs its verifier", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		verifier, challenge := pkcePair()
		_, token := c.oauthToken(providerRS, subErin, url.Values{"code_challenge": {challenge}})
		other, _ := pkcePair()
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": token}), http.StatusBadRequest, "pkce_mismatch")
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": token, "code_verifier": other}), http.StatusBadRequest, "pkce_mismatch")
		c.ok(c.post("/v1/oauth/authenticate", obj{"token": token, "code_verifier": verifier, "session_duration_minutes": 30}))
	}},
}

var oauthRefusalCases = []testCase{
	{name: "oauth/the token works once", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		_, token := c.oauthToken(providerRS, subGrace, nil)
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": strings.Repeat("A", 44)}), http.StatusNotFound, "oauth_token_not_found")
		c.ok(c.post("/v1/oauth/authenticate", obj{"token": token, "session_duration_minutes": 30}))
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": token, "session_duration_minutes": 30}), http.StatusUnauthorized, "unable_to_auth_oauth_token")
	}},
	{name: "oauth/a callback works once, in the browser that started it", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		b := newBrowser(t)
		cb := c.toCallback(b, providerRS, subGrace, nil)
		if h := newBrowser(t).get(cb.String()); h.status != http.StatusBadRequest || h.errorType() != "oauth_invalid_state" {
			t.Errorf("callback in another browser: %d %s", h.status, h.body)
		}
		tampered := *cb
		q := tampered.Query()
		q.Set("state", strings.Repeat("x", 43))
		tampered.RawQuery = q.Encode()
		if h := b.get(tampered.String()); h.status != http.StatusBadRequest || h.errorType() != "oauth_invalid_state" {
			t.Errorf("callback with another state: %d %s", h.status, h.body)
		}
		b.get(cb.String()).redirect(t, "callback")
		if h := b.get(cb.String()); h.status != http.StatusBadRequest || h.errorType() != "oauth_invalid_state" {
			t.Errorf("callback replayed: %d %s", h.status, h.body)
		}
	}},
	{name: "oauth/a code used once is refused by the provider", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		for _, provider := range []string{providerRS, providerGitHub} {
			login := subGrace
			if provider == providerGitHub {
				login = ghOctocat
			}
			b := newBrowser(t)
			cb := c.toCallback(b, provider, login, nil)
			b.get(cb.String()).redirect(t, "callback")
			auth := b.get(c.startURL(provider, nil)).redirect(t, "start")
			replay := *cb
			q := replay.Query()
			q.Set("state", auth.Query().Get("state"))
			replay.RawQuery = q.Encode()
			if h := b.get(replay.String()); h.status != http.StatusUnauthorized || h.errorType() != "oauth_token_exchange_failed" {
				t.Errorf("%s: a used code: %d %s", provider, h.status, h.body)
			}
		}
	}},
	{name: "oauth/ID tokens that fail a check are refused", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		for _, login := range []string{subMallory, subEve, subOld} {
			b := newBrowser(t)
			cb := c.toCallback(b, providerRS, login, nil)
			if h := b.get(cb.String()); h.status != http.StatusUnauthorized || h.errorType() != "oauth_invalid_id_token" {
				t.Errorf("%s: %d %s", login, h.status, h.body)
			}
		}
	}},
	{name: "oauth/the provider's refusal is an error", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		b := newBrowser(t)
		cb := c.toCallback(b, providerGitHub, "nobody", nil)
		if h := b.get(cb.String()); h.status != http.StatusUnauthorized || h.errorType() != "oauth_provider_refused" {
			t.Errorf("access_denied: %d %s", h.status, h.body)
		}
	}},
	{name: "oauth/start refuses what it must not pass on", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		b := newBrowser(t)
		for _, tc := range []struct {
			name, provider string
			q              url.Values
			status         int
			errorType      string
		}{
			{name: "off-list login URL", provider: providerRS, q: url.Values{"login_redirect_url": {"https://evil.example.com/cb"}}, status: http.StatusBadRequest, errorType: "invalid_redirect_url"},
			{name: "off-list signup URL", provider: providerRS, q: url.Values{"signup_redirect_url": {"https://evil.example.com/cb"}}, status: http.StatusBadRequest, errorType: "invalid_redirect_url"},
			{name: "wrong public token", provider: providerRS, q: url.Values{"public_token": {"public-token-test-00000000-0000-4000-8000-000000000000"}}, status: http.StatusUnauthorized, errorType: "invalid_public_token"},
			{name: "unknown provider", provider: "nope", status: http.StatusNotFound, errorType: "oauth_provider_not_found"},
			{name: "a parameter Latch sets", provider: providerRS, q: url.Values{"provider_redirect_uri": {"https://evil.example.com/"}}, status: http.StatusBadRequest, errorType: "bad_request"},
			{name: "short code challenge", provider: providerRS, q: url.Values{"code_challenge": {"short"}}, status: http.StatusBadRequest, errorType: "bad_request"},
		} {
			if h := b.get(c.startURL(tc.provider, tc.q)); h.status != tc.status || h.errorType() != tc.errorType {
				t.Errorf("%s: %d %s, want %d %s", tc.name, h.status, h.body, tc.status, tc.errorType)
			}
		}
	}},
	{name: "oauth/deleting an identity ends its unredeemed tokens", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		got, _ := c.oauthLogin(providerES, subFrank, nil)
		_, token := c.oauthToken(providerES, subFrank, nil)
		reg := str(t, got, "oauth_user_registration_id")
		c.fails(c.do(http.MethodDelete, "/v1/users/oauth/not-an-id", nil, withAuth), http.StatusBadRequest, "invalid_oauth_user_registration_id")
		left := c.ok(c.do(http.MethodDelete, "/v1/users/oauth/"+reg, nil, withAuth))
		if providers, _ := field(left, "user", "providers").([]any); len(providers) != 0 || left["user_id"] != got["user_id"] {
			t.Errorf("after the delete: %v", left)
		}
		c.fails(c.do(http.MethodDelete, "/v1/users/oauth/"+reg, nil, withAuth), http.StatusNotFound, "oauth_user_registration_not_found")
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": token}), http.StatusNotFound, "oauth_token_not_found")
	}},
	{name: "oauth/a token dies with its user", run: func(t *testing.T, c *client) {
		c.requireOAuth()
		_, token := c.oauthToken(providerRS, subFrank, nil)
		// The user was made at the callback; find it through a second login.
		got, _ := c.oauthLogin(providerRS, subFrank, nil)
		c.ok(c.do(http.MethodDelete, "/v1/users/"+str(t, got, "user_id"), nil, withAuth))
		c.fails(c.post("/v1/oauth/authenticate", obj{"token": token}), http.StatusNotFound, "oauth_token_not_found")
	}},
}
