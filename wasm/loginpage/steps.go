package loginpage

import (
	"github.com/latchauth/latch/wasm/internal/ratelimit"

	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds of what the forms accept (the API checks the rest).
const (
	maxEmail    = 254
	maxPassword = 256
	maxCode     = 64
	maxToken    = 256
	maxJWT      = 16 << 10 // the engine mints none larger
	maxMethodID = 128
)

// What the page says. The API's own messages are never shown: they are
// written for developers, and the page says no more about an account
// than the API's answers do (a wrong password and an unknown email read
// alike).
const (
	msgTooMany     = "Too many attempts. Try again later."
	msgBadForm     = "That form could not be read. Start over."
	msgExpiredForm = "This form expired. Try again."
	msgBadReturn   = "The page that sent you here is not one this sign-in can return to."
	msgUnavailable = "Signing in is unavailable right now. Try again in a moment."
	msgBadEmail    = "Enter an email address, like name@example.com."
	// A password lockout reads as a wrong password (the API refuses an
	// unknown email with a different error than a locked account), so the
	// one answer says what still works.
	msgBadPassword  = "The email or password is not right. After several wrong tries, signing in with a password pauses for a while; you can still sign in with an email code or link."
	msgBadCode      = "That code is not right, or it has expired. Check the latest email, or send a new code."
	msgBadMagic     = "This sign-in link has expired or was already used. Send a new one."
	msgBadTOTP      = "That code is not right. Enter the 6-digit code your authenticator app shows now, or a recovery code."
	msgPendingGone  = "Your sign-in took too long, or was cancelled. Start again."
	msgOtherBrowser = "Open this link in the browser where you asked for it, or ask for a new link here."
	msgMailTooMany  = "An email was sent a moment ago. Wait a minute before asking for another."
	msgMailLimit    = "Too many emails were asked for from here. Wait a few minutes, then try again."
)

// retryAfter is the Retry-After value, in whole seconds rounded up, for
// a wait.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(int(wait/time.Second) + 1)
}

// mailAllowed counts one mail the client of r asks for in the page's mail
// limit, before the API is asked, so that the count never depends on the
// address; when the client is over it, it sets Retry-After and returns
// false. See RATIONALE.md, "What rate limits does the login page add?".
func (p *page) mailAllowed(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := p.mails.Allow(ratelimit.ClientKey(p.ClientIP(r)), p.Now())
	if !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
	}
	return ok
}

// failure maps an API error to the page's message; unavailable is true
// for errors the user cannot fix (the caller answers 503).
func failure(err error, fallback string) (msg string, status int, unavailable bool) {
	var ae *apiError
	if !errors.As(err, &ae) {
		return msgUnavailable, http.StatusServiceUnavailable, true
	}
	switch {
	case ae.Type == "too_many_requests": // the API's limit on mail to one address
		return msgMailTooMany, ae.Status, false
	case ae.Status == http.StatusTooManyRequests:
		return msgTooMany, ae.Status, false
	case ae.Status >= 500:
		return msgUnavailable, http.StatusServiceUnavailable, true
	case ae.Type == "invalid_email":
		return msgBadEmail, http.StatusBadRequest, false
	}
	return fallback, http.StatusUnauthorized, false
}

// POST email: method=code mails a one-time code and shows its form;
// method=link mails a sign-in link that leads back to the page.
func (p *page) sendEmail(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if email == "" || len(email) > maxEmail {
		p.showLoginWith(w, r, http.StatusBadRequest, csrf, returnTo, view{alert: msgBadEmail, invalid: "email"})
		return
	}
	method := r.PostForm.Get("method")
	if method != "link" && method != "code" {
		p.showLoginWith(w, r, http.StatusBadRequest, csrf, returnTo, view{alert: msgBadForm})
		return
	}
	if !p.mailAllowed(w, r) {
		p.showLoginWith(w, r, http.StatusTooManyRequests, csrf, returnTo, view{alert: msgMailLimit})
		return
	}
	var out login
	var err error
	if method == "link" {
		err = p.sendLink(w, r, email, returnTo)
	} else {
		err = p.call(r.Context(), http.MethodPost, "/v1/otps/email/login_or_create", map[string]any{"email": email}, &out)
	}
	if err != nil {
		msg, status, down := failure(err, msgBadEmail)
		if down {
			p.unavailable(w, err)
			return
		}
		p.showLoginWith(w, r, status, csrf, returnTo, view{alert: msg, invalid: "email"})
		return
	}
	if method == "link" {
		p.write(w, http.StatusOK, view{title: "Check your email",
			status: "We sent a sign-in link to " + email + ". Open it in this browser to continue.",
			body:   []string{link("start-over", p.loginURL(returnTo), "Use another way to sign in")}})
		return
	}
	p.showCode(w, http.StatusOK, csrf, returnTo, email, out.EmailID, "")
}

// showCode renders the one-time code form.
func (p *page) showCode(w http.ResponseWriter, status int, csrf, returnTo, email, methodID, alert string) {
	f := form{action: p.path + pathCode, csrf: csrf, returnTo: returnTo,
		hidden: [][2]string{{"method_id", methodID}, {"email", email}},
		fields: []field{{id: "code", name: "code", label: "Code", kind: "text", autocomplete: "one-time-code",
			inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, hint: "The 6-digit code we emailed to " + email + "."}},
		buttons: [][3]string{{"code-submit", "", "Sign in"}}}
	v := view{title: "Enter your code", alert: alert, body: []string{f.html(""),
		link("start-over", p.loginURL(returnTo), "Send a new code, or sign in another way")}}
	if alert != "" {
		v.invalid = "code"
		v.body[0] = f.html("code")
	} else {
		v.status = "We emailed a code to " + email + "."
	}
	p.write(w, status, v)
}

// isSixDigits reports whether code is a one-time code's shape.
func isSixDigits(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// POST code: checks the one-time code.
func (p *page) checkCode(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	methodID := r.PostForm.Get("method_id")
	email := clean(r.PostForm.Get("email"), maxEmail)
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if methodID == "" || len(methodID) > maxMethodID {
		p.showLoginWith(w, r, http.StatusBadRequest, csrf, returnTo, view{alert: msgBadForm})
		return
	}
	if !isSixDigits(code) {
		p.showCode(w, http.StatusBadRequest, csrf, returnTo, email, methodID, msgBadCode)
		return
	}
	var l login
	err := p.call(r.Context(), http.MethodPost, "/v1/otps/authenticate",
		p.firstFactor(r, map[string]any{"method_id": methodID, "code": code}), &l)
	if err != nil {
		msg, status, down := failure(err, msgBadCode)
		if down {
			p.unavailable(w, err)
			return
		}
		p.showCode(w, status, csrf, returnTo, email, methodID, msg)
		return
	}
	p.signedIn(w, r, csrf, returnTo, &l)
}

// POST password: checks email and password.
func (p *page) checkPassword(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	if email == "" || len(email) > maxEmail {
		p.showLoginWith(w, r, http.StatusBadRequest, csrf, returnTo, view{alert: msgBadEmail, invalid: "password-email"})
		return
	}
	if password == "" || len(password) > maxPassword {
		p.showLoginWith(w, r, http.StatusUnauthorized, csrf, returnTo, view{alert: msgBadPassword, invalid: "password"})
		return
	}
	var l login
	err := p.call(r.Context(), http.MethodPost, "/v1/passwords/authenticate",
		p.firstFactor(r, map[string]any{"email": email, "password": password}), &l)
	if err != nil {
		msg, status, down := failure(err, msgBadPassword)
		if down {
			p.unavailable(w, err)
			return
		}
		if isAPIError(err, "user_lock_limit_reached") {
			// Locked out reads as a wrong password: an unknown email can
			// never be locked.
			msg, status = msgBadPassword, http.StatusUnauthorized
		}
		field := "password"
		if msg == msgBadEmail {
			field = "password-email"
		}
		p.showLoginWith(w, r, status, csrf, returnTo, view{alert: msg, invalid: field})
		return
	}
	p.signedIn(w, r, csrf, returnTo, &l)
}

// GET magic: the page a mailed link opens asks for one click before the
// link is spent, so that a mail scanner fetching the link spends nothing.
func (p *page) showMagic(w http.ResponseWriter, r *http.Request) {
	csrf, returnTo, ok := p.begin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	token := q.Get("token")
	if token == "" || len(token) > maxToken || q.Get("stytch_token_type") != "magic_links" {
		p.linkFailed(w, http.StatusBadRequest, returnTo, msgBadMagic)
		return
	}
	f := form{action: p.path + pathMagic, csrf: csrf, returnTo: returnTo, hidden: [][2]string{{"token", token}},
		buttons: [][3]string{{"magic-submit", "", "Continue"}}}
	p.write(w, http.StatusOK, view{title: "Continue signing in", body: []string{f.html("")}})
}

// linkFailed answers a sign-in link that cannot be used.
func (p *page) linkFailed(w http.ResponseWriter, status int, returnTo, msg string) {
	p.write(w, status, view{title: "Sign in", alert: msg,
		body: []string{link("start-over", p.loginURL(returnTo), "Sign in")}})
}

// POST magic: spends the mailed link's token, with the PKCE verifier of
// this browser (see link.go). A link this page sent in another browser
// answers pkce_mismatch and stays unspent; a link sent without a
// challenge is refused unspent too, unless InsecureUnboundLinks.
func (p *page) checkMagic(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	token := r.PostForm.Get("token")
	if token == "" || len(token) > maxToken {
		p.linkFailed(w, http.StatusBadRequest, returnTo, msgBadMagic)
		return
	}
	verifier, held, err := p.spendVerifier(r)
	if err != nil {
		p.unavailable(w, err)
		return
	}
	args := p.firstFactor(r, map[string]any{"token": token})
	if verifier != "" {
		args["code_verifier"] = verifier
	}
	var l login
	err = p.call(r.Context(), http.MethodPost, "/v1/magic_links/authenticate", args, &l)
	if isAPIError(err, "pkce_mismatch") && held && p.InsecureUnboundLinks {
		// A link sent without a challenge (by the app, through the API)
		// takes no verifier.
		delete(args, "code_verifier")
		held = false
		err = p.call(r.Context(), http.MethodPost, "/v1/magic_links/authenticate", args, &l)
	}
	if isAPIError(err, "pkce_mismatch") {
		p.otherBrowser(w, returnTo)
		return
	}
	if err != nil {
		msg, status, down := failure(err, msgBadMagic)
		if down {
			p.unavailable(w, err)
			return
		}
		p.linkFailed(w, status, returnTo, msg)
		return
	}
	if held {
		http.SetCookie(w, p.cookie(verifierCookie, "", time.Time{}))
	}
	p.signedIn(w, r, csrf, returnTo, &l)
}

// otherBrowser answers a link this browser may not spend.
func (p *page) otherBrowser(w http.ResponseWriter, returnTo string) {
	p.write(w, http.StatusBadRequest, view{title: "Sign in", alert: msgOtherBrowser,
		body: []string{link("start-over", p.loginURL(returnTo), "Ask for a new link")}})
}

// showTOTP renders the second-factor form.
func (p *page) showTOTP(w http.ResponseWriter, status int, csrf, returnTo, alert string) {
	f := form{action: p.path + pathTOTP, csrf: csrf, returnTo: returnTo,
		fields: []field{{id: "totp", name: "code", label: "Authentication code", kind: "text",
			autocomplete: "one-time-code", maxlength: maxCode,
			hint: "The 6-digit code your authenticator app shows, or one of your recovery codes."}},
		buttons: [][3]string{{"totp-submit", "", "Verify"}}}
	invalid := ""
	if alert != "" {
		invalid = "totp"
	}
	p.write(w, status, view{title: "Two-step verification", alert: alert, invalid: invalid,
		body: []string{f.html(invalid), link("start-over", p.loginURL(returnTo), "Cancel")}})
}

// POST totp: checks the authenticator app's code (or a recovery code)
// against the intermediate session of the pending cookie, which the API
// exchanges for a new session with both factors. A wrong code leaves the
// intermediate session usable (the app's lockout bounds the guesses).
func (p *page) checkTOTP(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	pending := p.pending(r)
	if pending == "" {
		p.showLoginWith(w, r, http.StatusUnauthorized, csrf, returnTo, view{alert: msgPendingGone})
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" || len(code) > maxCode {
		p.showTOTP(w, http.StatusBadRequest, csrf, returnTo, msgBadTOTP)
		return
	}
	args := map[string]any{"intermediate_session_token": pending,
		"session_duration_minutes": p.SessionDurationMinutes, "attributes": p.attributesOf(r)}
	path := "/v1/totps/authenticate"
	if isSixDigits(code) {
		args["totp_code"] = code
	} else {
		path = "/v1/totps/recover"
		args["recovery_code"] = code
	}
	var l login
	err := p.call(r.Context(), http.MethodPost, path, args, &l)
	switch {
	case isAPIError(err, "intermediate_session_not_found") || isAPIError(err, "invalid_intermediate_session_token"):
		// Expired, spent, cancelled, or ended by a password change.
		http.SetCookie(w, p.cookie(pendingCookie, "", time.Time{}))
		p.showLoginWith(w, r, http.StatusUnauthorized, csrf, returnTo, view{alert: msgPendingGone})
	case err != nil:
		msg, status, down := failure(err, msgBadTOTP)
		if down {
			p.unavailable(w, err)
			return
		}
		p.showTOTP(w, status, csrf, returnTo, msg)
	case l.SessionToken == "":
		p.unavailable(w, fmt.Errorf("loginpage: %s answered no session", path))
	default:
		http.SetCookie(w, p.cookie(pendingCookie, "", time.Time{}))
		p.finish(w, r, returnTo, &l)
	}
}

// GET logout: asks for one click, so that a link or an image elsewhere
// cannot sign the browser out.
func (p *page) showLogout(w http.ResponseWriter, r *http.Request) {
	csrf, returnTo, ok := p.begin(w, r)
	if !ok {
		return
	}
	f := form{action: p.path + pathLogout, csrf: csrf, returnTo: returnTo,
		buttons: [][3]string{{"logout-submit", "", "Sign out"}}}
	p.write(w, http.StatusOK, view{title: "Sign out", status: "Sign out of " + p.Name + " in this browser?",
		body: []string{f.html("")}})
}

// POST logout: revokes the browser's session and a sign-in waiting for
// its second factor, clears the cookies and sends it on.
func (p *page) logout(w http.ResponseWriter, r *http.Request, _, returnTo string) {
	if c, err := r.Cookie(tokenCookie); err == nil && c.Value != "" && len(c.Value) <= maxToken {
		p.revoke(r.Context(), "session_token", c.Value)
	} else if c, err := r.Cookie(jwtCookie); err == nil && c.Value != "" && len(c.Value) <= maxJWT {
		p.revoke(r.Context(), "session_jwt", c.Value)
	}
	p.cancelPending(w, r)
	for _, name := range []string{tokenCookie, jwtCookie, verifierCookie, oauthVerifierCookie} {
		http.SetCookie(w, p.cookie(name, "", time.Time{}))
	}
	p.redirect(w, returnTo)
}
