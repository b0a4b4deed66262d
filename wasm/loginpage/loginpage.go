// Package loginpage is Latch's hosted login page: a small server-rendered
// page, beside the API, where a browser signs in by email link, email code
// or password (reset by email), through a social login provider, or with
// a passkey, with a second step by authenticator app when the user has
// one, and signs out. Every step is an engine endpoint called in process;
// the page owns the cookies (stytch_session, stytch_session_jwt), CSRF and
// redirects, which the API owns none of. It needs no JavaScript: its one
// script, pinned by hash, is the passkey button's, and every other way in
// works without it. See API.md, "Hosted login page".
package loginpage

import (
	"github.com/latchauth/latch/wasm/internal/ratelimit"

	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Paths under the page's URL.
const (
	pathStyle    = "/style.css"
	pathEmail    = "/email"
	pathCode     = "/code"
	pathPassword = "/password"
	pathMagic    = "/magic"
	pathTOTP     = "/totp"
	pathLogout   = "/logout"
	pathReset    = "/reset"
	pathStart    = "/reset/start"
	// pathOAuthStart sends the browser to a provider, and pathOAuth is
	// where it comes back.
	pathOAuthStart = "/oauth/start"
	pathOAuth      = "/oauth"
	// The passkey sign-in's script, its start step (the options) and
	// the step that checks the assertion.
	pathPasskeyJS    = "/passkey.js"
	pathPasskeyStart = "/passkey/start"
	pathPasskey      = "/passkey"
)

// Cookie names: the session's (those Stytch's SDKs and the verifier's
// middleware read), the intermediate session's of a sign-in waiting for
// its second factor, the PKCE verifier's of the sign-in links this
// browser asked for, and that of the social logins it started.
const (
	tokenCookie         = "stytch_session"
	jwtCookie           = "stytch_session_jwt"
	pendingCookie       = "latch_pending"
	verifierCookie      = "latch_link_verifier"
	oauthVerifierCookie = "latch_oauth_verifier"
)

// maxFormBytes bounds a posted form.
const maxFormBytes = 8 << 10

// page serves the login page.
type page struct {
	*settings
	posts *ratelimit.Limiter // forms posted, per client
	mails *ratelimit.Limiter // mails asked for, per client
	mux   *http.ServeMux
}

// New checks cfg and returns a handler serving the page under cfg.URL's
// path and passing every other request to cfg.API.
func New(cfg Config) (http.Handler, error) {
	s, err := cfg.check()
	if err != nil {
		return nil, err
	}
	p := &page{settings: s, mux: http.NewServeMux(),
		posts: ratelimit.New(limitPosts, limitWindow, limitClients),
		mails: ratelimit.New(limitMails, limitMailWindow, limitClients)}
	p.mux.HandleFunc("GET "+s.path+"/{$}", p.showLogin)
	if s.path != "" {
		p.mux.HandleFunc("GET "+s.path, p.showLogin)
	}
	p.mux.HandleFunc("GET "+s.path+pathStyle, p.showStyle)
	p.mux.HandleFunc("POST "+s.path+pathEmail, p.posted(p.sendEmail))
	p.mux.HandleFunc("POST "+s.path+pathCode, p.posted(p.checkCode))
	p.mux.HandleFunc("POST "+s.path+pathPassword, p.posted(p.checkPassword))
	p.mux.HandleFunc("GET "+s.path+pathMagic, p.showMagic)
	p.mux.HandleFunc("POST "+s.path+pathMagic, p.posted(p.checkMagic))
	p.mux.HandleFunc("POST "+s.path+pathTOTP, p.posted(p.checkTOTP))
	p.mux.HandleFunc("GET "+s.path+pathReset, p.showReset)
	p.mux.HandleFunc("POST "+s.path+pathStart, p.posted(p.startReset))
	p.mux.HandleFunc("POST "+s.path+pathReset, p.posted(p.reset))
	p.mux.HandleFunc("GET "+s.path+pathLogout, p.showLogout)
	p.mux.HandleFunc("POST "+s.path+pathLogout, p.posted(p.logout))
	if len(s.OAuthProviders) > 0 {
		p.mux.HandleFunc("GET "+s.path+pathOAuthStart, p.startOAuth)
		p.mux.HandleFunc("GET "+s.path+pathOAuth, p.finishOAuth)
	}
	if s.rpID != "" {
		p.mux.HandleFunc("GET "+s.path+pathPasskeyJS, p.showPasskeyScript)
		p.mux.HandleFunc("POST "+s.path+pathPasskeyStart, p.posted(p.startPasskey))
		p.mux.HandleFunc("POST "+s.path+pathPasskey, p.posted(p.checkPasskey))
	}
	own := map[string]bool{s.path + "/": true}
	if s.path != "" {
		own[s.path] = true
	}
	for _, sub := range []string{pathStyle, pathEmail, pathCode, pathPassword, pathMagic, pathTOTP, pathReset, pathStart, pathLogout} {
		own[s.path+sub] = true
	}
	if len(s.OAuthProviders) > 0 {
		own[s.path+pathOAuthStart], own[s.path+pathOAuth] = true, true
	}
	if s.rpID != "" {
		own[s.path+pathPasskeyJS], own[s.path+pathPasskeyStart], own[s.path+pathPasskey] = true, true, true
	}
	// Only the page's own paths reach its mux: every other request goes to
	// the API as it came, so that the API's answers (its 404 for a path
	// not in canonical form, rather than ServeMux's redirect) stay its own.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if own[r.URL.Path] {
			p.mux.ServeHTTP(w, r)
			return
		}
		s.API.ServeHTTP(w, r)
	}), nil
}

// step is a POST handler, run once the form is read, the rate limit
// passed and CSRF checked; returnTo is the form's return_to, allowed.
type step func(w http.ResponseWriter, r *http.Request, csrf, returnTo string)

// posted wraps a step with what every POST needs.
func (p *page) posted(next step) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p.overLimit(w, r) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			p.write(w, http.StatusBadRequest, view{title: "Sign in", alert: msgBadForm,
				body: []string{link("start-over", p.loginURL(""), "Start over")}})
			return
		}
		returnTo, ok := p.returnTo(r.PostForm.Get("return_to"))
		if !ok {
			p.badReturn(w)
			return
		}
		csrf, err := p.csrfToken(w, r)
		if err != nil {
			p.unavailable(w, err)
			return
		}
		if !p.csrfOK(r) {
			// A fresh cookie is set above when the request had none: the
			// form shown again works.
			p.showLoginWith(w, r, http.StatusForbidden, csrf, returnTo, view{alert: msgExpiredForm})
			return
		}
		next(w, r, csrf, returnTo)
	}
}

// home is the page's own path.
func (p *page) home() string {
	if p.path == "" {
		return "/"
	}
	return p.path
}

// loginURL is the page's address with returnTo (when not empty).
func (p *page) loginURL(returnTo string) string {
	u := p.home()
	if returnTo != "" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	return u
}

func (p *page) showStyle(w http.ResponseWriter, r *http.Request) {
	p.headers(w)
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(p.stylesheet()))
}

// showLogin answers GET: the sign-in forms. It is also where "Cancel"
// on the second step leads: a sign-in waiting for its second factor ends
// (the pending cookie is SameSite=Strict, so no other site's link can end
// one).
func (p *page) showLogin(w http.ResponseWriter, r *http.Request) {
	csrf, returnTo, ok := p.begin(w, r)
	if !ok {
		return
	}
	p.cancelPending(w, r)
	v := view{}
	if who := p.signedInAs(r); who != "" {
		v.status = "You are signed in as " + who + "."
		v.body = []string{link("continue", returnTo, "Continue as "+who), `<p class="or">or sign in as someone else</p>`}
	}
	p.showLoginWith(w, r, http.StatusOK, csrf, returnTo, v)
}

// signedInAs is the email of the live session the browser's cookie names,
// or "" when there is none (or the API cannot say).
func (p *page) signedInAs(r *http.Request) string {
	c, err := r.Cookie(tokenCookie)
	if err != nil || c.Value == "" || len(c.Value) > maxToken {
		return ""
	}
	var res struct {
		User struct {
			Emails []struct {
				Email string `json:"email"`
			} `json:"emails"`
		} `json:"user"`
	}
	if err := p.call(r.Context(), http.MethodPost, "/v1/sessions/authenticate", map[string]any{"session_token": c.Value}, &res); err != nil ||
		len(res.User.Emails) == 0 {
		return ""
	}
	return clean(res.User.Emails[0].Email, maxEmail)
}

// begin starts a GET that shows a form: the query's return_to, allowed,
// and the form's CSRF token. It has answered when ok is false.
func (p *page) begin(w http.ResponseWriter, r *http.Request) (csrf, returnTo string, ok bool) {
	if returnTo, ok = p.returnTo(r.URL.Query().Get("return_to")); !ok {
		p.badReturn(w)
		return "", "", false
	}
	csrf, err := p.csrfToken(w, r)
	if err != nil {
		p.unavailable(w, err)
		return "", "", false
	}
	return csrf, returnTo, true
}

// showLoginWith renders the sign-in forms with v's alert or notice and
// email (the address typed before, shown again).
func (p *page) showLoginWith(w http.ResponseWriter, r *http.Request, status int, csrf, returnTo string, v view) {
	email := ""
	if r.PostForm != nil {
		email = clean(r.PostForm.Get("email"), maxEmail)
	}
	v.title = "Sign in"
	emailForm := form{action: p.path + pathEmail, csrf: csrf, returnTo: returnTo,
		fields: []field{{id: "email", name: "email", label: "Email", kind: "email", value: email,
			autocomplete: "email", maxlength: maxEmail}},
		buttons: [][3]string{{"send-code", "code", "Email me a code"}, {"send-link", "link", "Email me a sign-in link"}}}
	pwForm := form{action: p.path + pathPassword, csrf: csrf, returnTo: returnTo,
		fields: []field{
			{id: "password-email", name: "email", label: "Email", kind: "email", value: email, autocomplete: "username", maxlength: maxEmail},
			{id: "password", name: "password", label: "Password", kind: "password", autocomplete: "current-password", maxlength: maxPassword},
		},
		buttons: [][3]string{{"password-submit", "", "Sign in with password"}}}
	// One autofocus per page: the field in error, else the first form's
	// first field.
	if strings.HasPrefix(v.invalid, "password") {
		emailForm.noFocus = true
	} else {
		pwForm.noFocus = true
	}
	if p.rpID != "" {
		v.body = append(v.body, p.passkeyForm(csrf, returnTo))
	}
	if len(p.OAuthProviders) > 0 {
		v.body = append(v.body, p.oauthLinks(returnTo), `<p class="or">or</p>`)
	}
	v.body = append(v.body, emailForm.html(v.invalid), `<p class="or">or</p>`, pwForm.html(v.invalid),
		link("forgot", p.path+pathReset+"?return_to="+url.QueryEscape(returnTo), "Forgot your password?"))
	if p.rpID != "" {
		v.body = append(v.body, p.passkeyScriptTag())
	}
	p.write(w, status, v)
}

// badReturn answers a return_to off the allow-list: no redirect, and no
// link to it.
func (p *page) badReturn(w http.ResponseWriter) {
	p.write(w, http.StatusBadRequest, view{title: "Sign in", alert: msgBadReturn,
		body: []string{link("start-over", p.loginURL(""), "Sign in")}})
}

// unavailable answers a failure of the page or the API itself.
func (p *page) unavailable(w http.ResponseWriter, err error) {
	p.Logger.Error("loginpage: step failed", "err", err)
	p.write(w, http.StatusServiceUnavailable, view{title: "Sign in", alert: msgUnavailable,
		body: []string{link("start-over", p.loginURL(""), "Try again")}})
}

// signedIn finishes a first factor as the API decided: a user with an
// authenticator app got an intermediate session, kept in the pending
// cookie for the second step; any other got a session, whose cookies are
// set before the browser is sent on.
func (p *page) signedIn(w http.ResponseWriter, r *http.Request, csrf, returnTo string, l *login) {
	switch {
	case l.IntermediateSessionToken != "":
		if old := p.pending(r); old != "" && old != l.IntermediateSessionToken {
			p.revoke(r.Context(), "intermediate_session_token", old)
		}
		http.SetCookie(w, p.cookie(pendingCookie, l.IntermediateSessionToken, p.Now().Add(pendingMinutes*time.Minute)))
		p.showTOTP(w, http.StatusOK, csrf, returnTo, "")
	case l.SessionToken != "":
		p.cancelPending(w, r)
		p.finish(w, r, returnTo, l)
	default:
		p.unavailable(w, errors.New("loginpage: a login answered neither a session nor an intermediate session"))
	}
}

// finish sets the session cookies of l and sends the browser to returnTo.
// A session the browser held before is revoked: one browser, one session.
func (p *page) finish(w http.ResponseWriter, r *http.Request, returnTo string, l *login) {
	if old, err := r.Cookie(tokenCookie); err == nil && old.Value != "" && old.Value != l.SessionToken {
		p.revoke(r.Context(), "session_token", old.Value)
	}
	http.SetCookie(w, p.cookie(tokenCookie, l.SessionToken, l.Session.ExpiresAt))
	http.SetCookie(w, p.cookie(jwtCookie, l.SessionJWT, l.Session.ExpiresAt))
	p.redirect(w, returnTo)
}

// pending is the intermediate session token of the pending cookie, or ""
// when there is none.
func (p *page) pending(r *http.Request) string {
	c, err := r.Cookie(pendingCookie)
	if err != nil || len(c.Value) > maxToken {
		return ""
	}
	return c.Value
}

// cancelPending ends the intermediate session of the pending cookie, when
// there is one, and clears the cookie.
func (p *page) cancelPending(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(pendingCookie); err != nil {
		return
	}
	if tok := p.pending(r); tok != "" {
		p.revoke(r.Context(), "intermediate_session_token", tok)
	}
	http.SetCookie(w, p.cookie(pendingCookie, "", time.Time{}))
}

// redirect sends the browser to an allowed URL.
func (p *page) redirect(w http.ResponseWriter, to string) {
	p.headers(w)
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusSeeOther)
}

// revoke ends the session or intermediate session that value (its
// session_token, session_jwt or intermediate_session_token, as field says)
// names, when it is alive; a failure is only logged (the cookies are
// cleared either way), and not even that when there was nothing to end
// (unknown, or not even of a token's form).
func (p *page) revoke(ctx context.Context, field, value string) {
	err := p.call(ctx, http.MethodPost, "/v1/sessions/revoke", map[string]any{field: value}, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && (ae.Status == http.StatusNotFound ||
		ae.Status == http.StatusBadRequest && strings.HasPrefix(ae.Type, "invalid_"))) {
		p.Logger.Warn("loginpage: revoke failed", "err", err)
	}
}

// cookie is one of the page's cookies; an empty value deletes it.
// HttpOnly and Secure except on a loopback page over plain HTTP. The
// session cookies are for Path=/ and Config.CookieDomain, SameSite=Lax
// (sent when the browser follows a link to the app); the pending and
// verifier cookies are host-only, for the page's path (Path=/login is sent
// to /login and everything under it, so GET /login sees the pending cookie
// it cancels), SameSite=Strict but for the OAuth verifier's, Lax.
func (p *page) cookie(name, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Domain: p.CookieDomain, HttpOnly: true,
		Secure: !p.insecure, SameSite: http.SameSiteLaxMode}
	switch name {
	case pendingCookie, verifierCookie:
		c.Path, c.Domain, c.SameSite = p.home(), "", http.SameSiteStrictMode
	case oauthVerifierCookie:
		// Lax: the browser comes back to the return step from the
		// provider, a cross-site redirect, which carries no Strict
		// cookie. What keeps another site out is that it cannot know
		// the verifier.
		c.Path, c.Domain = p.home(), ""
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}
