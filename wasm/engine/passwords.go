package engine

import (
	"context"
	"encoding/json"
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
		Email             string          `json:"email"`
		Password          string          `json:"password"`
		Name              nameArgs        `json:"name"`
		TrustedMetadata   json.RawMessage `json:"trusted_metadata"`
		UntrustedMetadata json.RawMessage `json:"untrusted_metadata"`
		sessionArgs
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	u, err := e.newUser(a.Email, a.Name, a.TrustedMetadata, a.UntrustedMetadata)
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
	return e.finishFactorLogin(c, &a.sessionArgs, ending{}, u, passwordFactor(u), map[string]any{"email_id": u.EmailID})
}

// passwordAuthenticate is the body of passwords/authenticate.
type passwordAuthenticate struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	loginArgs
	addr string // Email, normalized by validate
}

func (a *passwordAuthenticate) validate(*Engine) error {
	addr, err := normalEmail(a.Email)
	if err != nil {
		return err
	}
	a.addr = addr
	return a.check()
}

// POST /v1/passwords/authenticate
func (e *Engine) authenticatePassword(c *call) error {
	var a passwordAuthenticate
	if err := e.read(c, &a); err != nil {
		return err
	}
	ctx := c.r.Context()
	u, stepUp, err := e.checkPassword(ctx, a.addr, a.Password, &a.sessionArgs, true)
	if err != nil {
		return err
	}
	return e.finishFactorLogin(c, &a.sessionArgs, ending{stepUp: stepUp, requireMFA: a.RequireMFA}, u, passwordFactor(u), nil)
}

// checkPassword checks plain as the password of the user with addr, as a
// login does: the step-up session and the claims are checked first, and
// the attempt is counted before the hash is compared (see RATIONALE.md,
// "Why is a password attempt counted before it is checked?"), with the
// user and the hash read by the same statement (claimAttempt); a refused
// step-up spends nothing, and an unknown email spends a hash too
// (Equalize). On success the failures are cleared, the user made active
// and, when rehash is true and the stored hash's parameters are old, the
// hash replaced.
func (e *Engine) checkPassword(ctx context.Context, addr, plain string, a *sessionArgs, rehash bool) (*user, *session, error) {
	if plain == "" || len(plain) > maxPasswordBytes {
		return nil, nil, errWrongPassword
	}
	stepUp, err := e.liveStepUp(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	now := e.now()
	u, hash, err := e.claimAttempt(ctx, addr, stepUp, now)
	if errors.Is(err, errEmailNotFound) || errors.Is(err, errWrongPassword) {
		e.hasher.Equalize(plain)
	}
	if err != nil {
		return nil, nil, err
	}
	ok, old, err := e.hasher.Verify(plain, hash)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, errWrongPassword
	}
	newHash := ""
	if old && rehash {
		if newHash, err = e.hasher.Hash(e.cfg.Rand, plain); err != nil {
			return nil, nil, err
		}
	}
	// No answer waits for the count to be cleared (or the rehash stored):
	// they go after it where the host can (Config.Later). Lost, they
	// leave the count higher, never lower, and the old hash in place.
	e.later(ctx, func(ctx context.Context) {
		if err := e.passwordSucceeded(ctx, u.ID, hash, newHash, now); err != nil {
			e.cfg.Logger.Error("engine: password login", "err", err)
		}
	})
	return u, stepUp, e.activate(ctx, u)
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
