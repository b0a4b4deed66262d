package loginpage

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/http"
)

// CSRF: every form carries a token that is an HMAC, under a key from the
// project secret, of a random secret in a cookie only the page's own
// origin sends (SameSite=Strict, HttpOnly, __Host- when served over
// HTTPS). A POST must carry the cookie and the token matching it, and, when
// the browser names where the request comes from (Sec-Fetch-Site, Origin),
// come from the page's own origin. See RATIONALE.md, "How does the login
// page stop cross-site requests?".

// csrfSecretBytes is the size of the cookie's secret.
const csrfSecretBytes = 32

// csrfToken returns the form token for the request's CSRF cookie, setting
// a fresh cookie on w when the request has none (or a malformed one).
func (p *page) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(p.csrfName); err == nil {
		if secret, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(secret) == csrfSecretBytes {
			return p.csrfFor(secret), nil
		}
	}
	secret := make([]byte, csrfSecretBytes)
	if _, err := io.ReadFull(p.Rand, secret); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: p.csrfName, Value: base64.RawURLEncoding.EncodeToString(secret),
		Path: "/", HttpOnly: true, Secure: !p.insecure, SameSite: http.SameSiteStrictMode,
	})
	return p.csrfFor(secret), nil
}

func (p *page) csrfFor(secret []byte) string {
	m := hmac.New(sha256.New, p.csrfKey[:])
	m.Write(secret)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameOrigin reports whether the browser says r comes from the page's own
// origin, or says nothing either way. Sec-Fetch-Site, where sent, decides;
// else Origin, which a browser sends with every POST it can name the
// origin of (the page's Referrer-Policy, same-origin, keeps it from being
// "null").
func (p *page) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	o := r.Header.Get("Origin")
	return o == "" || o == p.origin
}

// csrfOK checks a POST's origin, cookie and form token (r's form parsed).
func (p *page) csrfOK(r *http.Request) bool {
	if !p.sameOrigin(r) {
		return false
	}
	c, err := r.Cookie(p.csrfName)
	if err != nil {
		return false
	}
	secret, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(secret) != csrfSecretBytes {
		return false
	}
	got := r.PostForm.Get("csrf")
	want := p.csrfFor(secret)
	return len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
