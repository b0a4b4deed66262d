package engine

import (
	"context"
	"database/sql"
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
		var regs []*webauthnRegistration
		if _, regs, err = e.userWithWebAuthn(ctx, a.UserID, rp.Config.RPID); err != nil {
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
	as, err := e.findAssertion(ctx, parsed.Response.CollectedClientData.Challenge, parsed.RawID)
	if err != nil {
		return err
	}
	cer, reg := as.ceremony, as.registration
	// A credential this ceremony cannot accept (unknown, deleted, of
	// another domain or another user) spends it, as a failed check does.
	if reg == nil || reg.Domain != cer.domain || (cer.userID != "" && cer.userID != reg.UserID) {
		if err := e.spendCeremony(ctx, cer); err != nil && !errors.Is(err, errWebAuthnCeremony) {
			return err
		}
		return errWebAuthnAuth
	}
	if as.user == nil {
		return errUserNotFound
	}
	u := as.user
	stepUp, rp, err := e.claimCeremony(ctx, cer, u, &a.sessionArgs)
	if err != nil {
		return err
	}
	var cred *webauthn.Credential
	if cer.userID == "" {
		owner := webauthnUserOf([]*webauthnRegistration{reg})
		cred, err = rp.ValidateDiscoverableLogin(func([]byte, []byte) (webauthn.User, error) { return owner, nil }, cer.session, parsed)
	} else {
		cred, err = rp.ValidateLogin(ceremonyOwner(reg, as.owned, &cer.session), cer.session, parsed)
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
// go-webauthn: every credential of theirs the ceremony allowed (owned; the
// library checks the allowed ones are the user's), under the user handle
// of the credential that signed (reg), which a registration keeps as its
// own (override_id), and which the ceremony's record is then checked
// against. The ceremony's user was checked to be the registration's.
func ceremonyOwner(reg *webauthnRegistration, owned []*webauthnRegistration, sd *webauthn.SessionData) *webauthnUser {
	owner := webauthnUserOf(owned)
	owner.handle, _ = b64url.DecodeString(reg.UserHandle)
	sd.UserID = owner.handle
	return owner
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
// as a hash) until webauthnCeremonyTTL; expired ones go with the insert
// (migration 0011's trigger).
func (e *Engine) storeCeremony(ctx context.Context, kind, userID, domain string, sd *webauthn.SessionData, authType, userAgent string) error {
	hash := hashToken(sd.Challenge)
	kept := *sd
	kept.Challenge, kept.Expires = "", time.Time{}
	raw, err := json.Marshal(kept)
	if err != nil {
		return fmt.Errorf("engine: webauthn ceremony: %w", err)
	}
	now := e.now()
	_, err = e.cfg.DB.ExecContext(ctx, `INSERT INTO webauthn_challenges (challenge_hash, kind, user_id, domain, ceremony,
		authenticator_type, user_agent, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		hash, kind, userID, domain, string(raw), authType, clipTo(userAgent, maxUserAgentLen), now, now+webauthnCeremonyTTL)
	if err != nil {
		return fmt.Errorf("engine: store webauthn ceremony: %w", err)
	}
	return nil
}

// ceremonyColumns are a webauthn_challenges row (alias c) as a ceremony
// reads it, with scan.
const ceremonyColumns = `c.user_id, c.domain, c.ceremony, c.authenticator_type, c.user_agent`

// challengeHash checks the challenge the browser signed (base64url, as
// clientDataJSON carries it) and returns the hash its ceremony is kept
// under.
func challengeHash(challenge string) (string, error) {
	if challenge == "" || len(challenge) > 512 {
		return "", errWebAuthnCeremony
	}
	if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(challenge, "=")); err != nil {
		return "", errWebAuthnCeremony
	}
	return hashToken(challenge), nil
}

// scan reads ceremonyColumns, and after them more, from a row of a
// statement that found the ceremony of challenge (its hash, cer.hash).
func (cer *ceremony) scan(row *sql.Row, challenge string, more ...any) error {
	var raw string
	err := row.Scan(append([]any{&cer.userID, &cer.domain, &raw, &cer.authenticatorType, &cer.userAgent}, more...)...)
	if errors.Is(err, errNoRows) {
		return errWebAuthnCeremony
	}
	if err != nil {
		return fmt.Errorf("engine: load webauthn ceremony: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &cer.session); err != nil {
		return fmt.Errorf("engine: webauthn ceremony: %w", err)
	}
	// The engine's clock, not the library's, decides expiry (the
	// statement's condition); the challenge is the one the row was found
	// by.
	cer.session.Challenge, cer.session.Expires = challenge, time.Time{}
	return nil
}

// findRegistration returns the live registration ceremony whose
// challenge the browser signed and, read in the same statement, the user
// userID (nil when there is none); the caller checks the ceremony was
// begun for that user.
func (e *Engine) findRegistration(ctx context.Context, challenge, userID string) (*ceremony, *user, error) {
	hash, err := challengeHash(challenge)
	if err != nil {
		return nil, nil, err
	}
	cer := &ceremony{hash: hash}
	var raw []byte
	err = cer.scan(e.cfg.DB.QueryRowContext(ctx, `SELECT `+ceremonyColumns+`, `+userWhere("u.user_id = ?")+`
		FROM webauthn_challenges c WHERE c.challenge_hash = ? AND c.kind = 'register' AND c.expires_at > ?`,
		userID, hash, e.now()), challenge, &raw)
	if err != nil {
		return nil, nil, err
	}
	u, err := optionalJSON[user](raw)
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load user: %w", err)
	}
	return cer, u, nil
}

// assertion is what a sign-in reads before it spends anything.
type assertion struct {
	ceremony     *ceremony
	registration *webauthnRegistration // of the credential that signed; nil when there is none
	user         *user                 // the registration's; nil when there is none
	// owned are, for a ceremony begun for a user, that user's
	// registrations on the ceremony's domain.
	owned []*webauthnRegistration
}

// findAssertion reads, in one statement, the live sign-in ceremony whose
// challenge the browser signed, the registration of the credential rawID
// and its user, and for a ceremony begun for a user, that user's
// registrations on its domain; the caller checks that they belong
// together.
func (e *Engine) findAssertion(ctx context.Context, challenge string, rawID []byte) (*assertion, error) {
	hash, err := challengeHash(challenge)
	if err != nil {
		return nil, err
	}
	credentialID := b64url.EncodeToString(rawID)
	as := &assertion{ceremony: &ceremony{hash: hash}}
	var rawReg, rawUser, rawOwned []byte
	err = as.ceremony.scan(e.cfg.DB.QueryRowContext(ctx, `SELECT `+ceremonyColumns+`,
		(SELECT `+webauthnObject+` FROM webauthn_registrations WHERE credential_id = ?),
		`+userWhere("u.user_id = (SELECT user_id FROM webauthn_registrations WHERE credential_id = ?)")+`,
		CASE WHEN c.user_id != '' THEN `+registrationsOn("c.user_id", "c.domain")+` END
		FROM webauthn_challenges c WHERE c.challenge_hash = ? AND c.kind = 'authenticate' AND c.expires_at > ?`,
		credentialID, credentialID, hash, e.now()), challenge, &rawReg, &rawUser, &rawOwned)
	if err != nil {
		return nil, err
	}
	if as.registration, err = optionalJSON[webauthnRegistration](rawReg); err != nil {
		return nil, fmt.Errorf("engine: webauthn registration: %w", err)
	}
	if as.user, err = optionalJSON[user](rawUser); err != nil {
		return nil, fmt.Errorf("engine: load user: %w", err)
	}
	if rawOwned != nil {
		if err := json.Unmarshal(rawOwned, &as.owned); err != nil {
			return nil, fmt.Errorf("engine: webauthn registrations: %w", err)
		}
	}
	return as, nil
}

// claimCeremony runs what could still refuse a ceremony's finish by u
// without its credential (the step-up session and its claims, the
// relying party), then spends the ceremony: a refusal before that point
// costs the caller nothing, a credential that fails after it cannot be
// tried again with the same challenge.
func (e *Engine) claimCeremony(ctx context.Context, cer *ceremony, u *user, a *sessionArgs) (*session, *webauthn.WebAuthn, error) {
	stepUp, err := e.stepUpSession(ctx, a, u.ID)
	if err != nil {
		return nil, nil, err
	}
	rp, err := e.relyingParty(cer.domain)
	if err != nil {
		return nil, nil, err
	}
	if err := e.spendCeremony(ctx, cer); err != nil {
		return nil, nil, err
	}
	return stepUp, rp, nil
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
