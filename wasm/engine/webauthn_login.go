package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Signing in with a passkey or security key: authenticate/start answers
// the options for navigator.credentials.get (the user's credentials on the
// domain, or none: a discoverable passkey names its user itself), and
// authenticate checks the browser's assertion against the ceremony and
// the registration's public key, sign counter and backup flags.

var errNoWebAuthnRegistrations = newError(http.StatusNotFound, "webauthn_registration_not_found", "The user has no WebAuthn registration on this domain.")

// authenticateStart is the body of webauthn/authenticate/start.
type authenticateStart struct {
	UserID                         string `json:"user_id"`
	Domain                         string `json:"domain"`
	ReturnPasskeyCredentialOptions bool   `json:"return_passkey_credential_options"`
	UseBase64URLEncoding           bool   `json:"use_base64_url_encoding"`
}

func (a *authenticateStart) validate(e *Engine) error {
	switch {
	case a.UserID != "" && !e.validID("user", a.UserID):
		return errInvalidUserID
	case len(a.Domain) > maxDomainLen:
		return errWebAuthnDomain
	}
	return nil
}

// POST /v1/webauthn/authenticate/start — without user_id, a sign-in with
// a discoverable passkey, which must verify its user.
func (e *Engine) startWebAuthnAuthentication(c *call) error {
	var a authenticateStart
	if err := e.read(c, &a); err != nil {
		return err
	}
	rp, err := e.relyingParty(a.Domain)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	challenge, err := e.randomBytes(32)
	if err != nil {
		return err
	}
	uv := protocol.VerificationPreferred
	if a.ReturnPasskeyCredentialOptions || a.UserID == "" {
		uv = protocol.VerificationRequired
	}
	opts := []webauthn.LoginOption{webauthn.WithChallenge(challenge), webauthn.WithUserVerification(uv)}
	var assertion *protocol.CredentialAssertion
	var sd *webauthn.SessionData
	if a.UserID == "" {
		assertion, sd, err = rp.BeginDiscoverableLogin(opts...)
	} else {
		var u *user
		if u, err = e.userByID(ctx, a.UserID); err != nil {
			return err
		}
		var regs []*webauthnRegistration
		if regs, err = e.webauthnRegistrations(ctx, u.ID, rp.Config.RPID); err != nil {
			return err
		}
		if len(regs) == 0 {
			return errNoWebAuthnRegistrations
		}
		assertion, sd, err = rp.BeginLogin(webauthnUserOf(regs), opts...)
	}
	if err != nil {
		return fmt.Errorf("engine: webauthn request options: %w", err)
	}
	if err := e.storeCeremony(ctx, "authenticate", a.UserID, rp.Config.RPID, sd, "", ""); err != nil {
		return err
	}
	options, err := optionsJSON(assertion.Response, a.UseBase64URLEncoding)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": a.UserID, "public_key_credential_request_options": options})
	return nil
}

// authenticateFinish is the body of webauthn/authenticate.
type authenticateFinish struct {
	PublicKeyCredential string `json:"public_key_credential"`
	loginArgs
}

func (a *authenticateFinish) validate(*Engine) error {
	if a.PublicKeyCredential == "" || len(a.PublicKeyCredential) > maxCredentialJSON {
		return errInvalidCredential
	}
	return a.check()
}

// POST /v1/webauthn/authenticate — the ceremony is spent before the
// assertion is checked. An assertion whose authenticator verified its
// user is two factors in one (something held, and a PIN or biometric), so
// require_mfa asks for the authenticator app only when it did not.
func (e *Engine) authenticateWebAuthn(c *call) error {
	var a authenticateFinish
	if err := e.read(c, &a); err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(a.PublicKeyCredential))
	if err != nil {
		return errInvalidCredential
	}
	ctx := c.r.Context()
	cer, err := e.findCeremony(ctx, "authenticate", parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	// A credential this ceremony cannot accept (unknown, deleted, of
	// another domain or another user) spends it, as a failed check does.
	reg, err := e.webauthnRegistrationByCredential(ctx, parsed.RawID)
	if err == nil && (reg.Domain != cer.domain || (cer.userID != "" && cer.userID != reg.UserID)) {
		err = errWebAuthnAuth
	}
	if err != nil {
		if spendErr := e.spendCeremony(ctx, cer); spendErr != nil && !errors.Is(spendErr, errWebAuthnCeremony) {
			return spendErr
		}
		return err
	}
	u, stepUp, rp, err := e.claimCeremony(ctx, cer, reg.UserID, &a.sessionArgs)
	if err != nil {
		return err
	}
	var cred *webauthn.Credential
	if cer.userID == "" {
		owner := webauthnUserOf([]*webauthnRegistration{reg})
		cred, err = rp.ValidateDiscoverableLogin(func([]byte, []byte) (webauthn.User, error) { return owner, nil }, cer.session, parsed)
	} else {
		var owner *webauthnUser
		if owner, err = e.ceremonyOwner(ctx, reg, &cer.session); err != nil {
			return err
		}
		cred, err = rp.ValidateLogin(owner, cer.session, parsed)
	}
	if err != nil {
		e.cfg.Logger.Info("engine: webauthn assertion refused", "request_id", c.requestID, "err", webauthnDetail(err))
		return errWebAuthnAuth
	}
	if cred.Authenticator.CloneWarning {
		e.cfg.Logger.Warn("engine: webauthn sign counter went backwards; refused", "request_id", c.requestID, "webauthn_registration_id", reg.ID)
		return errWebAuthnAuth
	}
	if err := e.recordWebAuthnUse(ctx, reg, cred); err != nil {
		return err
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	verified := parsed.Response.AuthenticatorData.Flags.HasUserVerified()
	how := ending{stepUp: stepUp, requireMFA: a.RequireMFA && !verified}
	return e.finishFactorLogin(c, &a.sessionArgs, how, u, reg.factor(), map[string]any{"webauthn_registration_id": reg.ID})
}

// ceremonyOwner is the user a sign-in begun for them finishes as, for
// go-webauthn: every credential of theirs the ceremony allowed (the
// library checks the allowed ones are the user's), under the user handle
// of the credential that signed, which a registration keeps as its own
// (override_id), and which the ceremony's record is then checked
// against. The ceremony's user was checked to be the registration's.
func (e *Engine) ceremonyOwner(ctx context.Context, reg *webauthnRegistration, sd *webauthn.SessionData) (*webauthnUser, error) {
	regs, err := e.webauthnRegistrations(ctx, reg.UserID, reg.Domain)
	if err != nil {
		return nil, err
	}
	owner := webauthnUserOf(regs)
	owner.handle, _ = b64url.DecodeString(reg.UserHandle)
	sd.UserID = owner.handle
	return owner, nil
}

// ceremony is a stored, unfinished WebAuthn ceremony.
type ceremony struct {
	hash              string
	userID            string
	domain            string
	authenticatorType string
	userAgent         string
	session           webauthn.SessionData
}

// storeCeremony keeps sd (without its challenge, which is the row's key
// as a hash) until webauthnCeremonyTTL, and drops expired ones.
func (e *Engine) storeCeremony(ctx context.Context, kind, userID, domain string, sd *webauthn.SessionData, authType, userAgent string) error {
	hash := hashToken(sd.Challenge)
	kept := *sd
	kept.Challenge, kept.Expires = "", time.Time{}
	raw, err := json.Marshal(kept)
	if err != nil {
		return fmt.Errorf("engine: webauthn ceremony: %w", err)
	}
	now := e.now()
	if _, err := e.cfg.DB.ExecContext(ctx, `DELETE FROM webauthn_challenges WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("engine: webauthn ceremonies: %w", err)
	}
	_, err = e.cfg.DB.ExecContext(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, domain, ceremony,
		authenticator_type, user_agent, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		hash, kind, userID, domain, string(raw), authType, clipTo(userAgent, maxUserAgentLen), now+webauthnCeremonyTTL)
	if err != nil {
		return fmt.Errorf("engine: store webauthn ceremony: %w", err)
	}
	return nil
}

// findCeremony returns the live ceremony of kind whose challenge the
// browser signed (base64url, as clientDataJSON carries it).
func (e *Engine) findCeremony(ctx context.Context, kind, challenge string) (*ceremony, error) {
	if challenge == "" || len(challenge) > 512 {
		return nil, errWebAuthnCeremony
	}
	if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(challenge, "=")); err != nil {
		return nil, errWebAuthnCeremony
	}
	cer := &ceremony{hash: hashToken(challenge)}
	var raw string
	err := e.cfg.DB.QueryRowContext(ctx, `SELECT user_id, domain, ceremony, authenticator_type, user_agent
		FROM webauthn_challenges WHERE challenge_hash = ? AND kind = ? AND expires_at > ?`, cer.hash, kind, e.now()).
		Scan(&cer.userID, &cer.domain, &raw, &cer.authenticatorType, &cer.userAgent)
	if errors.Is(err, errNoRows) {
		return nil, errWebAuthnCeremony
	}
	if err != nil {
		return nil, fmt.Errorf("engine: load webauthn ceremony: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &cer.session); err != nil {
		return nil, fmt.Errorf("engine: webauthn ceremony: %w", err)
	}
	// The engine's clock, not the library's, decides expiry (the query
	// above); the challenge is the one the row was found by.
	cer.session.Challenge, cer.session.Expires = challenge, time.Time{}
	return cer, nil
}

// claimCeremony runs what could still refuse a ceremony's finish without
// its credential (the user, the step-up session and its claims, the
// relying party), then spends the ceremony: a refusal before that point
// costs the caller nothing, a credential that fails after it cannot be
// tried again with the same challenge.
func (e *Engine) claimCeremony(ctx context.Context, cer *ceremony, userID string, a *sessionArgs) (*user, *session, *webauthn.WebAuthn, error) {
	u, err := e.userByID(ctx, userID)
	if err != nil {
		return nil, nil, nil, err
	}
	stepUp, err := e.stepUpSession(ctx, a, u.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	rp, err := e.relyingParty(cer.domain)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := e.spendCeremony(ctx, cer); err != nil {
		return nil, nil, nil, err
	}
	return u, stepUp, rp, nil
}

// spendCeremony deletes the ceremony; of callers racing with the same
// challenge, exactly one finds the row to delete.
func (e *Engine) spendCeremony(ctx context.Context, cer *ceremony) error {
	var one int
	err := e.cfg.DB.QueryRowContext(ctx, `DELETE FROM webauthn_challenges WHERE challenge_hash = ? RETURNING 1`, cer.hash).Scan(&one)
	if errors.Is(err, errNoRows) {
		return errWebAuthnCeremony
	}
	if err != nil {
		return fmt.Errorf("engine: spend webauthn ceremony: %w", err)
	}
	return nil
}
