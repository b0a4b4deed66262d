package loginpage

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Sign-in links are bound to the browser that asked for them, by PKCE as
// Stytch's SDKs do: the page keeps a random verifier in a cookie only it
// is sent (HttpOnly, SameSite=Strict, its own path) and sends the API the
// verifier's challenge with the link; spending the link takes the
// verifier, which only the confirm POST from that browser carries. A link
// opened anywhere else (a browser someone was sent it to, so as to sign it
// into the sender's account) spends nothing. See RATIONALE.md, "Why is a
// sign-in link bound to the browser that asked for it?".

const (
	// linkMinutes is the lifetime of a mailed sign-in link, and of the
	// verifier cookie that goes with it.
	linkMinutes = 60
	// verifierBytes is the size of a verifier's randomness: its text is
	// 43 characters, the shortest RFC 7636 allows.
	verifierBytes = 32
)

// sendLink mails a sign-in link to email, bound to this browser's
// verifier (the one it holds, else a new one), and on success sets the
// verifier cookie to live as long as the link.
func (p *page) sendLink(w http.ResponseWriter, r *http.Request, email, returnTo string) error {
	verifier, err := p.linkVerifier(r)
	if err != nil {
		return err
	}
	link := p.magicURL + "?return_to=" + url.QueryEscape(returnTo)
	err = p.call(r.Context(), http.MethodPost, "/v1/magic_links/email/login_or_create", map[string]any{
		"email": email, "login_magic_link_url": link, "signup_magic_link_url": link,
		"login_expiration_minutes": linkMinutes, "signup_expiration_minutes": linkMinutes,
		"code_challenge": challengeOf(verifier)}, nil)
	if err == nil {
		http.SetCookie(w, p.cookie(verifierCookie, verifier, p.Now().Add(linkMinutes*time.Minute)))
	}
	return err
}

// linkVerifier is the verifier a new link for this browser is bound to:
// the one it holds, else a new one (for the caller to set).
func (p *page) linkVerifier(r *http.Request) (string, error) {
	if v := p.heldVerifier(r); v != "" {
		return v, nil
	}
	return p.newVerifier()
}

func (p *page) newVerifier() (string, error) {
	b := make([]byte, verifierBytes)
	if _, err := io.ReadFull(p.Rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// spendVerifier is the code_verifier to spend a mailed link with in this
// browser: the one it holds. A browser holding none asked for no link, so
// a link is not one to spend here (it would sign this browser in as
// whoever asked for it): it gets a verifier that matches no challenge,
// with which the API still says whether the link was used or has
// expired, and spends nothing. With InsecureUnboundLinks it gets "", and
// a link sent without a challenge is spent. held says which.
func (p *page) spendVerifier(r *http.Request) (verifier string, held bool, err error) {
	if v := p.heldVerifier(r); v != "" {
		return v, true, nil
	}
	if p.InsecureUnboundLinks {
		return "", false, nil
	}
	v, err := p.newVerifier()
	return v, false, err
}

// heldVerifier is the verifier of r's cookie, or "" when it holds none of
// a verifier's form (unpadded base64url of verifierBytes).
func (p *page) heldVerifier(r *http.Request) string {
	return verifierIn(r, verifierCookie)
}

// verifierIn is the verifier of r's cookie name, or "" when it holds none
// of a verifier's form.
func verifierIn(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(verifierBytes) {
		return ""
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(c.Value); err != nil || len(b) != verifierBytes {
		return ""
	}
	return c.Value
}

// challengeOf is the S256 code_challenge of verifier: the unpadded
// base64url SHA-256 of its text.
func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
