package conformance

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// GitHub is a GitHub OAuth app's view of github.com and api.github.com on
// httptest: the authorize page, the token endpoint and the user API, with
// the answer shapes GitHub documents (errors of the token endpoint come
// with status 200; scopes are comma-separated; the user id is a number).
// It checks what GitHub checks: the client's secret, the redirect URI, a
// code used once, and the PKCE verifier of an S256 challenge.
type GitHub struct {
	srv          *httptest.Server
	clientID     string
	clientSecret string

	mu        sync.Mutex
	redirects map[string]bool
	codes     map[string]*ghGrant
	tokens    map[string]*ghUser
	users     map[string]*ghUser
}

type ghGrant struct {
	user                *ghUser
	redirect, challenge string
	used                bool
}

// ghUser is one GitHub account.
type ghUser struct {
	Login    string
	ID       int64
	Name     string
	Email    string // the public address, may be empty
	Verified bool
}

// The GitHub accounts: octocat has a verified primary address, hubot an
// unverified one.
const (
	ghOctocat = "octocat"
	ghHubot   = "hubot"
)

// StartGitHub starts the fake for t.
func StartGitHub(t *testing.T) *GitHub {
	g := &GitHub{
		clientID: "Iv1." + randomHex(8), clientSecret: randomHex(20),
		redirects: map[string]bool{}, codes: map[string]*ghGrant{}, tokens: map[string]*ghUser{},
		users: map[string]*ghUser{
			ghOctocat: {Login: ghOctocat, ID: 583231 + int64(len(randomHex(1))), Name: "The Octocat", Email: uniqueEmail("octocat"), Verified: true},
			ghHubot:   {Login: ghHubot, ID: 7234901, Name: "Hubot", Email: uniqueEmail("hubot"), Verified: false},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.accessToken)
	mux.HandleFunc("GET /user", g.user)
	mux.HandleFunc("GET /user/emails", g.emails)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// URL is the fake's base URL.
func (g *GitHub) URL() string { return g.srv.URL }

// ProviderConfig is the fake as a github provider of the providers
// configuration, its endpoints in place of GitHub's.
func (g *GitHub) ProviderConfig(name string) map[string]any {
	return map[string]any{
		"provider": "github", "name": name, "client_id": g.clientID, "client_secret": g.clientSecret,
		"authorization_url": g.srv.URL + "/login/oauth/authorize", "token_url": g.srv.URL + "/login/oauth/access_token",
		"userinfo_url": g.srv.URL + "/user", "emails_url": g.srv.URL + "/user/emails",
	}
}

// AllowRedirect registers a callback URL with the OAuth app.
func (g *GitHub) AllowRedirect(u string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.redirects[u] = true
}

var ghAuthorizePage = template.Must(template.New("authorize").Parse(`<!doctype html>
<title>Authorize application</title>
<form method="post">
<label>Sign in to GitHub <input name="login" autocomplete="off" required></label>
<button type="submit">Authorize</button>
</form>`))

// authorize shows a sign-in form (GET) and, signed in (POST, with the
// query of the GET), sends the browser back with a code.
func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	g.mu.Lock()
	defer g.mu.Unlock()
	if q.Get("client_id") != g.clientID || !g.redirects[q.Get("redirect_uri")] {
		http.Error(w, "The redirect_uri is not associated with this application.", http.StatusBadRequest)
		return
	}
	if ch, m := q.Get("code_challenge"), q.Get("code_challenge_method"); ch != "" && m != "S256" {
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = ghAuthorizePage.Execute(w, nil)
		return
	}
	u := g.users[r.PostFormValue("login")]
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	if u == nil {
		bq.Set("error", "access_denied")
	} else {
		code := randomHex(10)
		g.codes[code] = &ghGrant{user: u, redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		bq.Set("code", code)
	}
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// accessToken is POST /login/oauth/access_token.
func (g *GitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	g.mu.Lock()
	defer g.mu.Unlock()
	fail := func(code, desc string) {
		writeGitHubJSON(w, map[string]string{"error": code, "error_description": desc,
			"error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(code, "_", "-")})
	}
	if f.Get("client_id") != g.clientID || subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(g.clientSecret)) != 1 {
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	grant := g.codes[f.Get("code")]
	if grant == nil || grant.used {
		fail("bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	grant.used = true
	if f.Get("redirect_uri") != grant.redirect {
		fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
		return
	}
	if grant.challenge != "" {
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge {
			fail("bad_verification_code", "The code_verifier does not match the code_challenge.")
			return
		}
	}
	token := "gho_" + randomHex(18)
	g.tokens[token] = grant.user
	writeGitHubJSON(w, map[string]string{"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})
}

// bearer finds the account of the request's access token.
func (g *GitHub) bearer(w http.ResponseWriter, r *http.Request) *ghUser {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	}
	g.mu.Lock()
	u := g.tokens[tok]
	g.mu.Unlock()
	if u == nil || r.Header.Get("User-Agent") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`))
	}
	return u
}

// user is GET /user.
func (g *GitHub) user(w http.ResponseWriter, r *http.Request) {
	u := g.bearer(w, r)
	if u == nil {
		return
	}
	var email any
	if u.Email != "" {
		email = u.Email
	}
	writeGitHubJSON(w, map[string]any{
		"login": u.Login, "id": u.ID, "node_id": fmt.Sprintf("MDQ6VXNlcj%d", u.ID),
		"avatar_url":  fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.ID),
		"gravatar_id": "", "url": "https://api.github.com/users/" + u.Login,
		"html_url": "https://github.com/" + u.Login, "type": "User", "site_admin": false,
		"name": u.Name, "company": nil, "blog": "", "location": nil, "email": email,
		"hireable": nil, "bio": nil, "twitter_username": nil, "public_repos": 8, "public_gists": 8,
		"followers": 0, "following": 0, "created_at": "2011-01-25T18:44:36Z", "updated_at": "2024-01-22T12:00:00Z",
		"two_factor_authentication": true,
	})
}

// emails is GET /user/emails.
func (g *GitHub) emails(w http.ResponseWriter, r *http.Request) {
	u := g.bearer(w, r)
	if u == nil {
		return
	}
	writeGitHubJSON(w, []map[string]any{
		{"email": u.Email, "verified": u.Verified, "primary": true, "visibility": "public"},
		{"email": fmt.Sprintf("%d+%s@users.noreply.github.com", u.ID, u.Login), "verified": true, "primary": false, "visibility": nil},
	})
}

func writeGitHubJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// signIn follows the authorize URL and signs in as login, and returns
// the redirect to Latch's callback, not yet followed.
func (g *GitHub) signIn(t *testing.T, b *browser, authURL *url.URL, login string) *url.URL {
	t.Helper()
	if page := b.get(authURL.String()); page.status != http.StatusOK {
		t.Fatalf("GitHub's authorize page: %d %.300s", page.status, page.body)
	}
	return b.do(http.MethodPost, authURL.String(), url.Values{"login": {login}}).redirect(t, "GitHub's authorize")
}

// account returns a GitHub account.
func (g *GitHub) account(login string) *ghUser { return g.users[login] }
