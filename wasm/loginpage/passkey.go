package loginpage

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Sign in with a passkey: the page's one script (passkey.js, served from
// the page and pinned in its CSP by hash) shows the passkey form, asks the
// start step for the options of a sign-in (webauthn/authenticate/start on
// the page's host name, with no user: a discoverable passkey names its
// user), has the browser sign them, and posts the assertion in the form,
// which the page checks with webauthn/authenticate as a first factor like
// any other. Without the script the form stays hidden and every other way
// in works as before. See RATIONALE.md, "How does the page sign in with a
// passkey, and why is that its only script?".

//go:embed passkey.js
var passkeyScript string

// maxCredential bounds a posted assertion (the form's limit, maxFormBytes,
// bounds the whole form).
const maxCredential = 6 << 10

const msgBadPasskey = "That passkey could not sign you in. Try again, or sign in another way."

// passkeySettings fills in s's passkey settings when the page's own origin
// is one of the engine's WebAuthn origins: the relying party ID is the
// page's host name, which must then be a domain name.
func (s *settings) passkeySettings(origins []string) error {
	on := false
	for _, raw := range origins {
		u, err := url.Parse(raw)
		if err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, s.origin) {
			on = true
		}
	}
	if !on {
		return nil
	}
	host := strings.ToLower(s.page.Hostname())
	if !isRelyingPartyID(host) {
		return fmt.Errorf("%w: the page's host %q is no relying party ID for passkeys (an IP address is not one): serve the page under a domain name, or leave its origin out of WebAuthnOrigins", ErrConfig, host)
	}
	sum := sha256.Sum256([]byte(passkeyScript))
	s.rpID = host
	s.scriptHash = "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	// The query changes with the script, so that a browser never pairs a
	// page with a cached script whose hash it does not pin.
	s.scriptURL = s.path + pathPasskeyJS + "?v=" + hex.EncodeToString(sum[:8])
	return nil
}

// isRelyingPartyID reports whether host is a domain name a browser takes
// as a WebAuthn relying party ID: dot-separated labels of letters, digits
// and hyphens, not an IP address.
func isRelyingPartyID(host string) bool {
	if host == "" || len(host) > 253 || net.ParseIP(host) != nil {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// passkeyForm renders the passkey form, hidden until the script shows it,
// and the script.
func (p *page) passkeyForm(csrf, returnTo string) string {
	f := form{action: p.path + pathPasskey, csrf: csrf, returnTo: returnTo, hidden: [][2]string{{"credential", ""}},
		buttons: [][3]string{{"passkey-submit", "", "Sign in with a passkey"}}}
	return `<div id="passkey" hidden data-start="` + esc(p.path+pathPasskeyStart) + `" data-error="` + esc(msgBadPasskey) + `">` +
		f.html("") + `<p class="or">or</p></div>`
}

// passkeyScriptTag is the script element, pinned by hash.
func (p *page) passkeyScriptTag() string {
	return `<script src="` + esc(p.scriptURL) + `" integrity="` + esc(p.scriptHash) + `"></script>`
}

// GET passkey.js: the script.
func (p *page) showPasskeyScript(w http.ResponseWriter, r *http.Request) {
	p.headers(w)
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(passkeyScript))
}

// POST passkey/start: the options of a sign-in with a discoverable
// passkey on the page's host name, as JSON (binary members base64url, as
// PublicKeyCredential.parseRequestOptionsFromJSON reads them).
func (p *page) startPasskey(w http.ResponseWriter, r *http.Request, _, _ string) {
	var res struct {
		Options string `json:"public_key_credential_request_options"`
	}
	err := p.call(r.Context(), http.MethodPost, "/v1/webauthn/authenticate/start",
		map[string]any{"domain": p.rpID, "use_base64_url_encoding": true}, &res)
	if err == nil && !json.Valid([]byte(res.Options)) {
		err = errors.New("loginpage: webauthn/authenticate/start answered options that are not JSON")
	}
	if err != nil {
		p.unavailable(w, err)
		return
	}
	p.headers(w)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(res.Options))
}

// POST passkey (credential): checks the assertion, a first factor: a user
// whose passkey verified them (a PIN, a biometric) has two factors in one
// and is signed in; one whose authenticator did not, and who has an
// authenticator app, gets the second step.
func (p *page) checkPasskey(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	cred := r.PostForm.Get("credential")
	if cred == "" || len(cred) > maxCredential {
		p.showLoginWith(w, r, http.StatusBadRequest, csrf, returnTo, view{alert: msgBadPasskey})
		return
	}
	var l login
	err := p.call(r.Context(), http.MethodPost, "/v1/webauthn/authenticate",
		p.firstFactor(r, map[string]any{"public_key_credential": cred}), &l)
	if err != nil {
		msg, status, down := failure(err, msgBadPasskey)
		if down {
			p.unavailable(w, err)
			return
		}
		p.showLoginWith(w, r, status, csrf, returnTo, view{alert: msg})
		return
	}
	p.signedIn(w, r, csrf, returnTo, &l)
}
