package loginpage

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Password reset by email: the sign-in page links to a form asking for the
// address; the mail's link leads back here to a form for the new password,
// which then signs in like any first factor (the second step included).

const (
	msgResetSent  = "If that address has an account with a password, we sent it a link to choose a new one. Open it in this browser."
	msgBadReset   = "This reset link has expired or was already used. Ask for a new one."
	msgWeak       = "That password is too easy to guess. Use a longer one: a few unrelated words work well."
	msgNoPassword = "Enter a new password."
)

// GET reset: without a token, the form asking for the address; with the
// mailed link's token, the form for the new password.
func (p *page) showReset(w http.ResponseWriter, r *http.Request) {
	csrf, returnTo, ok := p.begin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if q.Has("token") {
		token := q.Get("token")
		if token == "" || len(token) > maxToken || q.Get("stytch_token_type") != "reset_password" {
			p.resetFailed(w, http.StatusBadRequest, returnTo, msgBadReset)
			return
		}
		p.showNewPassword(w, http.StatusOK, csrf, returnTo, token, "")
		return
	}
	p.showResetStart(w, http.StatusOK, csrf, returnTo, "", view{})
}

// showResetStart renders the form asking for the address, with v's alert
// (and the field it is about).
func (p *page) showResetStart(w http.ResponseWriter, status int, csrf, returnTo, email string, v view) {
	f := form{action: p.path + pathStart, csrf: csrf, returnTo: returnTo,
		fields: []field{{id: "reset-email", name: "email", label: "Email", kind: "email", value: email,
			autocomplete: "email", maxlength: maxEmail}},
		buttons: [][3]string{{"reset-submit", "", "Email me a reset link"}}}
	p.write(w, status, view{title: "Reset your password", alert: v.alert, invalid: v.invalid,
		body: []string{f.html(v.invalid), link("start-over", p.loginURL(returnTo), "Back to sign in")}})
}

func (p *page) showNewPassword(w http.ResponseWriter, status int, csrf, returnTo, token, alert string) {
	f := form{action: p.path + pathReset, csrf: csrf, returnTo: returnTo, hidden: [][2]string{{"token", token}},
		fields: []field{{id: "new-password", name: "password", label: "New password", kind: "password",
			autocomplete: "new-password", maxlength: maxPassword,
			hint: "At least 8 characters; a few unrelated words make a strong one."}},
		buttons: [][3]string{{"new-password-submit", "", "Set password and sign in"}}}
	invalid := ""
	if alert != "" {
		invalid = "new-password"
	}
	p.write(w, status, view{title: "Choose a new password", alert: alert, invalid: invalid, body: []string{f.html(invalid)}})
}

// resetFailed answers a reset link that cannot be used, with a link to
// ask for a new one.
func (p *page) resetFailed(w http.ResponseWriter, status int, returnTo, msg string) {
	p.write(w, status, view{title: "Reset your password", alert: msg,
		body: []string{link("start-over", p.path+pathReset+"?return_to="+url.QueryEscape(returnTo), "Ask for a new link")}})
}

// POST reset/start: mails a reset link. The answer is the same whether or
// not the address has an account: "check your email" when the API sent
// the mail, knows no such account (email_not_found) or has sent that
// account one a moment ago (too_many_requests, which an address without
// an account may never get).
func (p *page) startReset(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if email == "" || len(email) > maxEmail {
		p.showResetStart(w, http.StatusBadRequest, csrf, returnTo, "", view{alert: msgBadEmail, invalid: "reset-email"})
		return
	}
	if !p.mailAllowed(w, r) {
		p.showResetStart(w, http.StatusTooManyRequests, csrf, returnTo, clean(email, maxEmail), view{alert: msgMailLimit})
		return
	}
	// The link is bound to this browser as sign-in links are (link.go).
	verifier, err := p.linkVerifier(r)
	if err != nil {
		p.unavailable(w, err)
		return
	}
	err = p.call(r.Context(), http.MethodPost, "/v1/passwords/email/reset/start", map[string]any{
		"email": email, "reset_password_redirect_url": p.resetURL + "?return_to=" + url.QueryEscape(returnTo),
		"code_challenge": challengeOf(verifier)}, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && (ae.Type == "email_not_found" || ae.Type == "too_many_requests")) {
		msg, status, down := failure(err, msgBadEmail)
		if down {
			p.unavailable(w, err)
			return
		}
		p.showResetStart(w, status, csrf, returnTo, clean(email, maxEmail), view{alert: msg, invalid: "reset-email"})
		return
	}
	// The verifier cookie goes with every "check your email", mailed or
	// not, so that it does not tell which addresses have an account.
	http.SetCookie(w, p.cookie(verifierCookie, verifier, p.Now().Add(linkMinutes*time.Minute)))
	p.write(w, http.StatusOK, view{title: "Check your email", status: msgResetSent,
		body: []string{link("start-over", p.loginURL(returnTo), "Back to sign in")}})
}

// POST reset: sets the new password with the mailed token, and signs in,
// only in the browser that asked for the link (its verifier; see
// spendVerifier). Opened elsewhere the link is refused unspent.
func (p *page) reset(w http.ResponseWriter, r *http.Request, csrf, returnTo string) {
	token := r.PostForm.Get("token")
	password := r.PostForm.Get("password")
	if token == "" || len(token) > maxToken {
		p.resetFailed(w, http.StatusBadRequest, returnTo, msgBadReset)
		return
	}
	if password == "" || len(password) > maxPassword {
		p.showNewPassword(w, http.StatusBadRequest, csrf, returnTo, token, msgNoPassword)
		return
	}
	verifier, held, err := p.spendVerifier(r)
	if err != nil {
		p.unavailable(w, err)
		return
	}
	args := p.firstFactor(r, map[string]any{"token": token, "password": password})
	if verifier != "" {
		args["code_verifier"] = verifier
	}
	var l login
	err = p.call(r.Context(), http.MethodPost, "/v1/passwords/email/reset", args, &l)
	if isAPIError(err, "pkce_mismatch") && held && p.InsecureUnboundLinks {
		// A link sent without a challenge (by the app, through the API)
		// takes no verifier.
		delete(args, "code_verifier")
		held = false
		err = p.call(r.Context(), http.MethodPost, "/v1/passwords/email/reset", args, &l)
	}
	var ae *apiError
	switch {
	case err == nil:
		if held {
			http.SetCookie(w, p.cookie(verifierCookie, "", time.Time{}))
		}
		p.signedIn(w, r, csrf, returnTo, &l)
	case isAPIError(err, "pkce_mismatch"):
		p.resetFailed(w, http.StatusBadRequest, returnTo, msgOtherBrowser)
	case errors.As(err, &ae) && ae.Type == "weak_password":
		p.showNewPassword(w, http.StatusBadRequest, csrf, returnTo, token, msgWeak)
	default:
		msg, status, down := failure(err, msgBadReset)
		if down {
			p.unavailable(w, err)
			return
		}
		p.resetFailed(w, status, returnTo, msg)
	}
}
