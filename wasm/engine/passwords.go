package engine

import (
	"errors"

	"github.com/latchauth/latch/wasm/internal/password"
)

const maxPasswordBytes = 256

func passwordFactor(u *user) factor {
	return factor{Type: "password", DeliveryMethod: "knowledge",
		EmailFactor: &emailFactor{EmailID: u.EmailID, EmailAddress: u.Email}}
}

// strong rejects a password the strength check does not pass.
func strong(plain, email string) error {
	if plain == "" {
		return badRequest("password is required.")
	}
	if len(plain) > maxPasswordBytes {
		return weakPassword("Passwords may be at most 256 bytes long.")
	}
	st := password.Check(plain, email)
	if st.Valid {
		return nil
	}
	msg := st.Warning
	if msg == "" {
		msg = "This password is too weak."
	}
	return weakPassword(msg)
}

// POST /v1/passwords — creates a user with a password, and a session when
// session_duration_minutes is given.
func (e *Engine) createPassword(c *call) error {
	var a struct {
		Email    string   `json:"email"`
		Password string   `json:"password"`
		Name     nameArgs `json:"name"`
		sessionArgs
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	u, err := e.newUser(a.Email, a.Name, nil, nil)
	if err != nil {
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	if a.SessionToken != "" || a.SessionJWT != "" {
		return badRequest("A new user cannot step up an existing session.")
	}
	if err := a.claimsFit(nil); err != nil {
		return err
	}
	if err := strong(a.Password, u.Email); err != nil {
		return err
	}
	hash, err := e.hasher.Hash(e.cfg.Rand, a.Password)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	u.PasswordID = e.newID("password")
	if err := e.insertUserWithPassword(ctx, u, hash); err != nil {
		return err
	}
	res, err := e.login(ctx, &a.sessionArgs, nil, u, passwordFactor(u))
	if err != nil {
		return err
	}
	fields := res.fields()
	fields["user_id"] = u.ID
	fields["email_id"] = u.EmailID
	fields["user"] = u.view()
	c.reply(fields)
	return nil
}

// POST /v1/passwords/authenticate
func (e *Engine) authenticatePassword(c *call) error {
	var a struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		sessionArgs
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	addr, err := normalEmail(a.Email)
	if err != nil {
		return err
	}
	if a.Password == "" || len(a.Password) > maxPasswordBytes {
		return errWrongPassword
	}
	if err := a.check(); err != nil {
		return err
	}
	ctx := c.r.Context()
	u, hash, err := e.userWithPassword(ctx, addr)
	if errors.Is(err, errNoRows) {
		e.hasher.Equalize(a.Password)
		return errEmailNotFound
	}
	if err != nil {
		return err
	}
	if hash == "" {
		e.hasher.Equalize(a.Password)
		return errWrongPassword
	}
	// The step-up session and the claims are checked before an attempt is
	// counted, so a refused step-up spends nothing.
	stepUp, err := e.stepUpSession(ctx, &a.sessionArgs, u.ID)
	if err != nil {
		return err
	}
	now := e.now()
	if err := e.claimAttempt(ctx, u.ID, now); err != nil {
		return err
	}
	ok, rehash, err := e.hasher.Verify(a.Password, hash)
	if err != nil {
		return err
	}
	if !ok {
		return errWrongPassword
	}
	newHash := ""
	if rehash {
		if newHash, err = e.hasher.Hash(e.cfg.Rand, a.Password); err != nil {
			return err
		}
	}
	if err := e.passwordSucceeded(ctx, u.ID, newHash, now); err != nil {
		return err
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	res, err := e.login(ctx, &a.sessionArgs, stepUp, u, passwordFactor(u))
	if err != nil {
		return err
	}
	fields := res.fields()
	fields["user_id"] = u.ID
	fields["user"] = u.view()
	c.reply(fields)
	return nil
}

// POST /v1/passwords/strength_check
func (e *Engine) strengthCheck(c *call) error {
	var a struct {
		Password string `json:"password"`
		Email    string `json:"email"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if a.Password == "" {
		return badRequest("password is required.")
	}
	if len(a.Password) > maxPasswordBytes {
		return weakPassword("Passwords may be at most 256 bytes long.")
	}
	st := password.Check(a.Password, a.Email)
	suggestions := st.Suggestions
	if suggestions == nil {
		suggestions = []string{}
	}
	c.reply(map[string]any{
		"valid_password":    st.Valid,
		"score":             st.Score,
		"breached_password": st.Breached,
		"strength_policy":   "zxcvbn",
		"feedback": map[string]any{
			"warning":     st.Warning,
			"suggestions": suggestions,
		},
	})
	return nil
}
