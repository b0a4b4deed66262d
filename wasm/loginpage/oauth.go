package loginpage

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchauth/latch/wasm/internal/ratelimit"
)

// Social login: "Continue with …" is a link (no form: the page's CSP
// lets forms lead only to the page and the app, and this one leads on to
// the provider) to the page's start step, which keeps a PKCE verifier in
// a cookie of its own and sends the browser to the engine's start URL
// with the verifier's challenge. The engine sends it to the provider, and
// from its callback back to the page's return step with a token, which
// the page redeems with oauth/authenticate and the verifier, as a first
// factor like any other: a user with an authenticator app goes on to the
// second step. A token started in another browser (to sign this one into
// someone else's account) does not match this browser's verifier and
// spends nothing. See RATIONALE.md, "How does the page sign in through a
// provider?".

const (
	// oauthMinutes is the life of the OAuth verifier cookie: the hop
	// through the provider and the token's redemption, ten minutes each
	// at the engine.
	oauthMinutes = 20
	// maxDisplayName bounds a provider's display name.
	maxDisplayName = 64
)

const (
	msgOAuthOtherBrowser = "This sign-in was started in another browser, or too long ago. Start again here."
	msgBadOAuth          = "This sign-in has expired or was already used. Start again."
)

// checkProviders checks the configured providers and fills in their
// display names.
func checkProviders(ps []OAuthProvider, publicToken string) ([]OAuthProvider, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	if !strings.HasPrefix(publicToken, "public-token-") || len(publicToken) > 128 {
		return nil, fmt.Errorf("%w: OAuthProviders need the project's PublicToken (public-token-…)", ErrConfig)
	}
	out := make([]OAuthProvider, 0, len(ps))
	for _, p := range ps {
		if !providerName(p.Name) {
			return nil, fmt.Errorf("%w: OAuth provider name %q is not 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit", ErrConfig, p.Name)
		}
		if slices.ContainsFunc(out, func(q OAuthProvider) bool { return q.Name == p.Name }) {
			return nil, fmt.Errorf("%w: OAuth provider %q is named twice", ErrConfig, p.Name)
		}
		if p.DisplayName = strings.TrimSpace(clean(p.DisplayName, maxDisplayName)); p.DisplayName == "" {
			p.DisplayName = defaultDisplayName(p.Name)
		}
		out = append(out, p)
	}
	return out, nil
}

// providerName reports whether name is a provider name as the engine's
// configuration takes them, safe as a path segment.
func providerName(name string) bool {
	if len(name) == 0 || len(name) > 32 || name[0] == '_' || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func defaultDisplayName(name string) string {
	switch name {
	case "google":
		return "Google"
	case "github":
		return "GitHub"
	}
	return name
}

// oauthLinks renders the "Continue with …" links for the sign-in page.
func (p *page) oauthLinks(returnTo string) string {
	var b strings.Builder
	for _, pr := range p.OAuthProviders {
		href := p.path + pathOAuthStart + "?" + url.Values{"provider": {pr.Name}, "return_to": {returnTo}}.Encode()
		b.WriteString(`<p><a class="social" id="oauth-` + esc(pr.Name) + `" href="` + esc(href) + `">Continue with ` +
			esc(pr.DisplayName) + `</a></p>`)
	}
	return b.String()
}

// overLimit counts one step of r's client in the page's rate limit and,
// when the client is over it, answers 429 and returns true.
func (p *page) overLimit(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := p.allow(r.Context(), ratelimit.ClientKey(p.ClientIP(r)))
	if ok {
		return false
	}
	w.Header().Set("Retry-After", retryAfter(wait))
	p.write(w, http.StatusTooManyRequests, view{title: "Sign in", alert: msgTooMany,
		body: []string{link("start-over", p.loginURL(""), "Start over")}})
	return true
}

// GET oauth/start?provider=&return_to=: keeps this browser's verifier
// (the one it holds, else a new one) and sends it to the engine's start
// URL, which leads to the provider and back to the return step.
func (p *page) startOAuth(w http.ResponseWriter, r *http.Request) {
	if p.overLimit(w, r) {
		return
	}
	returnTo, ok := p.returnTo(r.URL.Query().Get("return_to"))
	if !ok {
		p.badReturn(w)
		return
	}
	name := r.URL.Query().Get("provider")
	if !slices.ContainsFunc(p.OAuthProviders, func(pr OAuthProvider) bool { return pr.Name == name }) {
		p.write(w, http.StatusNotFound, view{title: "Sign in", alert: msgBadForm,
			body: []string{link("start-over", p.loginURL(returnTo), "Start over")}})
		return
	}
	verifier := verifierIn(r, oauthVerifierCookie)
	if verifier == "" {
		b := make([]byte, verifierBytes)
		if _, err := io.ReadFull(p.Rand, b); err != nil {
			p.unavailable(w, err)
			return
		}
		verifier = base64.RawURLEncoding.EncodeToString(b)
	}
	back := p.oauthURL + "?return_to=" + url.QueryEscape(returnTo)
	q := url.Values{"public_token": {p.PublicToken}, "login_redirect_url": {back}, "signup_redirect_url": {back},
		"code_challenge": {challengeOf(verifier)}}
	http.SetCookie(w, p.cookie(oauthVerifierCookie, verifier, p.Now().Add(oauthMinutes*time.Minute)))
	p.headers(w)
	w.Header().Set("Location", "/v1/public/oauth/"+url.PathEscape(name)+"/start?"+q.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// GET oauth?token=&stytch_token_type=oauth&return_to=: where the engine's
// callback sends the browser. The token is redeemed at once (it is
// useless without this browser's verifier, which a cookie the page alone
// reads holds), with require_mfa like every first factor.
func (p *page) finishOAuth(w http.ResponseWriter, r *http.Request) {
	if p.overLimit(w, r) {
		return
	}
	csrf, returnTo, ok := p.begin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	token := q.Get("token")
	if token == "" || len(token) > maxToken || q.Get("stytch_token_type") != "oauth" {
		p.linkFailed(w, http.StatusBadRequest, returnTo, msgBadOAuth)
		return
	}
	// Never without a verifier: a token started without a challenge would
	// then be redeemed, in whichever browser it was sent to.
	verifier := verifierIn(r, oauthVerifierCookie)
	if verifier == "" {
		p.linkFailed(w, http.StatusBadRequest, returnTo, msgOAuthOtherBrowser)
		return
	}
	var l login
	err := p.call(r.Context(), http.MethodPost, "/v1/oauth/authenticate",
		p.firstFactor(r, map[string]any{"token": token, "code_verifier": verifier}), &l)
	if isAPIError(err, "pkce_mismatch") {
		p.linkFailed(w, http.StatusBadRequest, returnTo, msgOAuthOtherBrowser)
		return
	}
	if err != nil {
		msg, status, down := failure(err, msgBadOAuth)
		if down {
			p.unavailable(w, err)
			return
		}
		p.linkFailed(w, status, returnTo, msg)
		return
	}
	http.SetCookie(w, p.cookie(oauthVerifierCookie, "", time.Time{}))
	p.signedIn(w, r, csrf, returnTo, &l)
}
