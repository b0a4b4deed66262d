package conformance

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// What tests outside the suite (the login page's, the SDK's, the
// browser tests) need of the providers: the callback to register, the
// accounts to sign in as, and the provider's sign-in done by a Go client.

// The providers' names in Document.
const (
	// ProviderOIDC is the OpenID provider signing RS256.
	ProviderOIDC = providerRS
	// ProviderGitHub is the GitHub fake.
	ProviderGitHub = providerGitHub
)

// Account is one user of the providers.
type Account struct {
	// Login and Password are what the provider's sign-in form takes
	// (the GitHub fake asks for Login alone).
	Login, Password string
	// Email is the address the provider gives, and Verified whether it
	// says it verified it.
	Email    string
	Verified bool
}

// Account returns the providers' user login: one of the OpenID
// providers' ("alice" has a verified address, "bob" an unverified one) or
// a GitHub account ("octocat" verified, "hubot" not). ok is false for an
// unknown login.
func (p *Providers) Account(login string) (a Account, ok bool) {
	if s, ok := p.subjects[login]; ok {
		return Account{Login: login, Password: "pw-" + login, Email: s.email, Verified: s.verified}, true
	}
	if u := p.gh.account(login); u != nil {
		return Account{Login: login, Email: u.Email, Verified: u.Verified}, true
	}
	return Account{}, false
}

// AllowCallback registers a host's callback URL (its base URL +
// "/v1/oauth/callback") at every provider, which refuses any other.
func (p *Providers) AllowCallback(callback string) { p.allowCallback(callback) }

// SignInAt signs in as login at the provider that authURL (where a start
// URL sent the browser) belongs to, in the browser hc (its cookie jar;
// its CheckRedirect must stop at the first redirect), and returns where
// the provider sends the browser back: the host's callback, not yet
// followed.
func (p *Providers) SignInAt(hc *http.Client, authURL *url.URL, login string) (*url.URL, error) {
	page, err := fetch(hc, http.MethodGet, authURL.String(), nil)
	if err != nil {
		return nil, err
	}
	if page.status != http.StatusOK {
		return nil, fmt.Errorf("conformance: the provider's sign-in page answered %d", page.status)
	}
	var back hop
	if ghURL, _ := url.Parse(p.gh.URL()); ghURL != nil && authURL.Host == ghURL.Host {
		back, err = fetch(hc, http.MethodPost, authURL.String(), url.Values{"login": {login}})
	} else {
		form := url.Values{"uname": {login}, "psw": {"pw-" + login}}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(page.body), -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		back, err = fetch(hc, http.MethodPost, authURL.Scheme+"://"+authURL.Host+"/login", form)
	}
	if err != nil {
		return nil, err
	}
	if back.status != http.StatusFound || back.location == nil {
		return nil, fmt.Errorf("conformance: the provider's sign-in answered %d, not a redirect: %.200s", back.status, back.body)
	}
	return back.location, nil
}

// fetch makes one request in hc, its form posted when not nil.
func fetch(hc *http.Client, method, raw string, form url.Values) (hop, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, raw, body)
	if err != nil {
		return hop{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := hc.Do(req)
	if err != nil {
		return hop{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return hop{}, err
	}
	h := hop{status: res.StatusCode, body: data}
	if loc := res.Header.Get("Location"); loc != "" {
		if h.location, err = res.Request.URL.Parse(loc); err != nil {
			return hop{}, err
		}
	}
	return h, nil
}
