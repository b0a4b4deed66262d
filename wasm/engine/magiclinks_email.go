package engine

import (
	"context"
	"errors"
)

// emailLinkArgs are the fields of magic_links/email/login_or_create and
// magic_links/email/send.
type emailLinkArgs struct {
	Email                   string      `json:"email"`
	LoginMagicLinkURL       string      `json:"login_magic_link_url"`
	SignupMagicLinkURL      string      `json:"signup_magic_link_url"`
	LoginExpirationMinutes  int         `json:"login_expiration_minutes"`
	SignupExpirationMinutes int         `json:"signup_expiration_minutes"`
	Attributes              *attributes `json:"attributes"`
	CreateUserAsPending     bool        `json:"create_user_as_pending"`
	SessionToken            string      `json:"session_token"`
	SessionJWT              string      `json:"session_jwt"`
	// CodeChallenge binds the link to whoever holds its PKCE verifier:
	// magic_links/authenticate then needs the code_verifier.
	CodeChallenge string `json:"code_challenge"`
}

// check validates the fields before anything is read or written, and
// fills in the defaults.
func (e *Engine) checkLinkArgs(a *emailLinkArgs) (string, error) {
	addr, err := normalEmail(a.Email)
	if err != nil {
		return "", err
	}
	for _, m := range []*int{&a.LoginExpirationMinutes, &a.SignupExpirationMinutes} {
		if *m == 0 {
			*m = defaultMagicLinkMinutes
		}
		if *m < minMagicLinkMinutes || *m > maxMagicLinkMinutes {
			return "", errExpirationMinutes
		}
	}
	for _, u := range []*string{&a.LoginMagicLinkURL, &a.SignupMagicLinkURL} {
		if *u, err = e.redirectURL(*u); err != nil {
			return "", err
		}
	}
	if a.SessionToken != "" && a.SessionJWT != "" {
		return "", errTooManySessionArgs
	}
	if err := checkChallenge(a.CodeChallenge); err != nil {
		return "", err
	}
	return addr, e.mailReady()
}

// POST /v1/magic_links/email/login_or_create — mails a login link to an
// existing user, or a signup link to a user it creates.
func (e *Engine) loginOrCreateEmailLink(c *call) error {
	var a emailLinkArgs
	if err := c.decode(&a); err != nil {
		return err
	}
	if a.SessionToken != "" || a.SessionJWT != "" {
		return badRequest("login_or_create takes no session; use magic_links/email/send.")
	}
	addr, err := e.checkLinkArgs(&a)
	if err != nil {
		return err
	}
	return e.loginOrCreate(c, addr, a.CreateUserAsPending, func(ctx context.Context, u *user, created bool) error {
		return e.mailLink(ctx, u, created, &a)
	})
}

// loginOrCreate finishes a login_or_create endpoint once its fields are
// checked: the send is counted, the user found or created, the mail sent
// (send is told whether the user was created just now).
func (e *Engine) loginOrCreate(c *call, addr string, pending bool, send func(ctx context.Context, u *user, created bool) error) error {
	ctx := c.r.Context()
	u, err := e.claimSend(ctx, addr, e.now())
	if err != nil {
		return err
	}
	created := false
	if u == nil {
		if u, created, err = e.createUserForEmail(ctx, addr, pending); err != nil {
			return err
		}
	}
	if err := send(ctx, u, created); err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "email_id": u.EmailID, "user_created": created})
	return nil
}

// sendToUser finishes a send endpoint once its fields are checked: a
// session given must be a live session of the user with addr (Latch
// users have one email each, so a session cannot add another); then the
// send is counted; then the user must exist; then the mail is sent.
// Counting before the lookup means an address with no account reaches
// the limit as one with an account does, so the limit's answer tells
// nobody which addresses have accounts.
func (e *Engine) sendToUser(c *call, addr, token, jwt string, send func(context.Context, *user) error) error {
	ctx := c.r.Context()
	if token != "" || jwt != "" {
		_, owner, err := e.liveSession(ctx, token, jwt)
		if err != nil {
			return err
		}
		if owner.Email != addr {
			return errSessionUserMismatch
		}
	}
	u, err := e.claimSend(ctx, addr, e.now())
	if err != nil {
		return err
	}
	if u == nil {
		return errEmailNotFound
	}
	if err := send(ctx, u); err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "email_id": u.EmailID})
	return nil
}

// POST /v1/magic_links/email/send — mails a login link to an existing user.
func (e *Engine) sendEmailLink(c *call) error {
	var a emailLinkArgs
	if err := c.decode(&a); err != nil {
		return err
	}
	addr, err := e.checkLinkArgs(&a)
	if err != nil {
		return err
	}
	return e.sendToUser(c, addr, a.SessionToken, a.SessionJWT, func(ctx context.Context, u *user) error { return e.mailLink(ctx, u, false, &a) })
}

// mailLink stores a new magic link for u and mails it: the signup link
// and expiry to a user who never logged in (created just now, or
// pending), the login ones to others. A link whose mail failed is deleted
// again.
func (e *Engine) mailLink(ctx context.Context, u *user, created bool, a *emailLinkArgs) error {
	kind, redirect, minutes := MailMagicLinkLogin, a.LoginMagicLinkURL, a.LoginExpirationMinutes
	if created || u.Status == statusPending {
		kind, redirect, minutes = MailMagicLinkSignup, a.SignupMagicLinkURL, a.SignupExpirationMinutes
	}
	token, err := e.newMagicLinkToken()
	if err != nil {
		return err
	}
	now := e.now()
	hash := hashToken(token)
	if err := e.insertMagicLink(ctx, hash, u.ID, deliveryEmail, a.CodeChallenge, now, now+int64(minutes)*60); err != nil {
		return err
	}
	err = e.sendMail(ctx, kind, &MailData{Email: u.Email, Link: mailedLink(redirect, "magic_links", token), ExpiresInMinutes: minutes})
	if err != nil {
		e.dropUnsent(ctx, `DELETE FROM magic_links WHERE token_hash = ?`, hash)
	}
	return err
}

// dropUnsent deletes what a failed mail would have made usable. It runs
// even if the caller has gone: the mail was not delivered either way.
func (e *Engine) dropUnsent(ctx context.Context, query string, args ...any) {
	if _, err := e.cfg.DB.ExecContext(context.WithoutCancel(ctx), query, args...); err != nil {
		e.cfg.Logger.Error("engine: drop unsent", "err", err)
	}
}

// userForEmail returns the user with addr, creating one (pending when
// asked) if there is none, and whether it did.
func (e *Engine) userForEmail(ctx context.Context, addr string, pending bool) (*user, bool, error) {
	u, err := e.userByEmail(ctx, addr)
	if err == nil || !errors.Is(err, errNoRows) {
		return u, false, err
	}
	return e.createUserForEmail(ctx, addr, pending)
}

// createUserForEmail is userForEmail once the lookup found no user.
func (e *Engine) createUserForEmail(ctx context.Context, addr string, pending bool) (*user, bool, error) {
	u, err := e.newUser(addr, nameArgs{}, nil, nil)
	if err != nil {
		return nil, false, err
	}
	if pending {
		u.Status = statusPending
	}
	err = e.insertUser(ctx, u)
	if errors.Is(err, errDuplicateEmail) {
		// Created concurrently: that user is the one.
		u, err = e.userByEmail(ctx, addr)
		return u, false, err
	}
	return u, err == nil, err
}
