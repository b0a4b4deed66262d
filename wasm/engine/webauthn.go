package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Registering a passkey or security key: register/start answers the
// options for navigator.credentials.create and stores the ceremony;
// register checks the browser's credential against it (go-webauthn does
// the CBOR, COSE and attestation) and stores the registration.

const (
	maxCredentialJSON   = 64 << 10
	maxUserAgentLen     = 512
	maxOverrideLen      = 256
	maxRegistrationName = 200
)

var (
	errInvalidCredential = newError(http.StatusBadRequest, "invalid_public_key_credential", "public_key_credential is not a WebAuthn credential of the kind this call takes.")
	errWebAuthnCeremony  = newError(http.StatusBadRequest, "webauthn_challenge_not_found", "The credential answers no WebAuthn ceremony begun here, or the ceremony expired or was already finished.")
	errWebAuthnAuth      = newError(http.StatusUnauthorized, "unable_to_auth_webauthn", "The WebAuthn credential did not verify.")
	errWebAuthnDuplicate = newError(http.StatusBadRequest, "duplicate_webauthn_registration", "This credential is already registered.")
	errWebAuthnLimit     = newError(http.StatusBadRequest, "too_many_webauthn_registrations",
		"The user has %d passkeys or security keys, the most a user may have; delete one first.", maxWebAuthnRegistrations)
	errAuthenticatorType = badRequest("authenticator_type must be platform or cross-platform.")
)

// webauthnUser is a user as go-webauthn sees it: the user handle, names
// for the authenticator's account list, and the credentials a ceremony
// may use.
type webauthnUser struct {
	handle      []byte
	name        string
	displayName string
	credentials []webauthn.Credential
}

func (u *webauthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *webauthnUser) WebAuthnName() string                       { return u.name }
func (u *webauthnUser) WebAuthnDisplayName() string                { return u.displayName }
func (u *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.credentials }

// registerStart is the body of webauthn/register/start.
type registerStart struct {
	UserID                         string `json:"user_id"`
	Domain                         string `json:"domain"`
	UserAgent                      string `json:"user_agent"`
	AuthenticatorType              string `json:"authenticator_type"`
	ReturnPasskeyCredentialOptions bool   `json:"return_passkey_credential_options"`
	OverrideID                     string `json:"override_id"`
	OverrideName                   string `json:"override_name"`
	OverrideDisplayName            string `json:"override_display_name"`
	UseBase64URLEncoding           bool   `json:"use_base64_url_encoding"`
}

func (a *registerStart) validate(e *Engine) error {
	switch {
	case !e.validID("user", a.UserID):
		return errInvalidUserID
	case a.AuthenticatorType != "" && a.AuthenticatorType != "platform" && a.AuthenticatorType != "cross-platform":
		return errAuthenticatorType
	case len(a.OverrideID) > 64:
		return badRequest("override_id must be at most 64 bytes.")
	case len(a.OverrideName) > maxOverrideLen || len(a.OverrideDisplayName) > maxOverrideLen:
		return badRequest("override_name and override_display_name must be at most %d bytes.", maxOverrideLen)
	case len(a.Domain) > maxDomainLen:
		return errWebAuthnDomain
	}
	return nil
}

// selection is what register/start asks of the authenticator: a passkey
// is discoverable and verifies its user; a security key (the default, as
// Stytch's) need not.
func (a *registerStart) selection() protocol.AuthenticatorSelection {
	s := protocol.AuthenticatorSelection{
		AuthenticatorAttachment: protocol.AuthenticatorAttachment(a.AuthenticatorType),
		ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
		UserVerification:        protocol.VerificationPreferred,
	}
	if a.ReturnPasskeyCredentialOptions {
		s.ResidentKey = protocol.ResidentKeyRequirementRequired
		s.RequireResidentKey = protocol.ResidentKeyRequired()
		s.UserVerification = protocol.VerificationRequired
	}
	return s
}

// POST /v1/webauthn/register/start
func (e *Engine) startWebAuthnRegistration(c *call) error {
	var a registerStart
	if err := e.read(c, &a); err != nil {
		return err
	}
	rp, err := e.relyingParty(a.Domain)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	u, regs, err := e.userWithWebAuthn(ctx, a.UserID, rp.Config.RPID)
	if err != nil {
		return err
	}
	if len(u.WebAuthn) >= maxWebAuthnRegistrations {
		return errWebAuthnLimit
	}
	wu := &webauthnUser{handle: []byte(u.ID), name: firstOf(a.OverrideName, u.Email, u.ID), displayName: firstOf(a.OverrideDisplayName, u.fullName(), u.Email, u.ID)}
	if a.OverrideID != "" {
		wu.handle = []byte(a.OverrideID)
	}
	challenge, err := e.randomBytes(32)
	if err != nil {
		return err
	}
	exclude := make([]protocol.CredentialDescriptor, len(regs))
	for i, r := range regs {
		cred := r.credential()
		exclude[i] = cred.Descriptor()
	}
	creation, sd, err := rp.BeginRegistration(wu,
		webauthn.WithAuthenticatorSelection(a.selection()),
		webauthn.WithExclusions(exclude),
		func(o *protocol.PublicKeyCredentialCreationOptions) error { o.Challenge = challenge; return nil })
	if err != nil {
		return fmt.Errorf("engine: webauthn registration options: %w", err)
	}
	if err := e.storeCeremony(ctx, "register", u.ID, rp.Config.RPID, sd, a.AuthenticatorType, a.UserAgent); err != nil {
		return err
	}
	options, err := optionsJSON(creation.Response, a.UseBase64URLEncoding)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "public_key_credential_creation_options": options})
	return nil
}

// registerFinish is the body of webauthn/register.
type registerFinish struct {
	UserID               string `json:"user_id"`
	PublicKeyCredential  string `json:"public_key_credential"`
	UseBase64URLEncoding bool   `json:"use_base64_url_encoding"`
	sessionArgs
}

func (a *registerFinish) validate(e *Engine) error {
	switch {
	case !e.validID("user", a.UserID):
		return errInvalidUserID
	case a.PublicKeyCredential == "" || len(a.PublicKeyCredential) > maxCredentialJSON:
		return errInvalidCredential
	}
	return a.check()
}

// POST /v1/webauthn/register — the ceremony is spent before the
// credential is checked, so a credential that fails cannot be tried again
// against the same challenge.
func (e *Engine) finishWebAuthnRegistration(c *call) error {
	var a registerFinish
	if err := e.read(c, &a); err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(a.PublicKeyCredential))
	if err != nil {
		return errInvalidCredential
	}
	ctx := c.r.Context()
	cer, u, err := e.findRegistration(ctx, parsed.Response.CollectedClientData.Challenge, a.UserID)
	if err != nil {
		return err
	}
	if cer.userID != a.UserID {
		return errWebAuthnCeremony
	}
	if u == nil {
		return errUserNotFound
	}
	stepUp, rp, err := e.claimCeremony(ctx, cer, u, &a.sessionArgs)
	if err != nil {
		return err
	}
	cred, err := rp.CreateCredential(&webauthnUser{handle: cer.session.UserID}, cer.session, parsed)
	if err != nil {
		e.cfg.Logger.Info("engine: webauthn registration refused", "request_id", c.requestID, "err", webauthnDetail(err))
		return errWebAuthnAuth
	}
	reg := &webauthnRegistration{
		ID: e.newID("webauthn-registration"), UserID: u.ID, Domain: cer.domain,
		AuthenticatorType: firstOf(string(parsed.AuthenticatorAttachment), cer.authenticatorType),
		UserAgent:         cer.userAgent, UserHandle: b64url.EncodeToString(cer.session.UserID),
	}
	reg.fromCredential(cred)
	if err := e.insertWebAuthnRegistration(ctx, reg); err != nil {
		return err
	}
	if err := e.activate(ctx, u); err != nil {
		return err
	}
	if u, err = e.userByID(ctx, u.ID); err != nil {
		return err
	}
	return e.finishFactorLogin(c, &a.sessionArgs, ending{stepUp: stepUp}, u, reg.factor(), map[string]any{"webauthn_registration_id": reg.ID})
}

// optionsJSON renders creation or request options as the JSON string
// Stytch answers: binary members base64url, as
// PublicKeyCredential.parse*OptionsFromJSON reads them, or standard
// base64 when the caller did not ask for base64url.
func optionsJSON(options any, base64url bool) (string, error) {
	raw, err := json.Marshal(options)
	if err != nil {
		return "", fmt.Errorf("engine: webauthn options: %w", err)
	}
	if base64url {
		return string(raw), nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("engine: webauthn options: %w", err)
	}
	toStd := func(v any) any {
		s, ok := v.(string)
		if !ok {
			return v
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return v
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	m["challenge"] = toStd(m["challenge"])
	if user, ok := m["user"].(map[string]any); ok {
		user["id"] = toStd(user["id"])
	}
	for _, list := range []string{"excludeCredentials", "allowCredentials"} {
		items, _ := m[list].([]any)
		for _, it := range items {
			if d, ok := it.(map[string]any); ok {
				d["id"] = toStd(d["id"])
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("engine: webauthn options: %w", err)
	}
	return string(out), nil
}

// webauthnDetail is what the log says of a refused credential: the
// library's reason, never the credential.
func webauthnDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return clip(pe.Type + ": " + pe.Details)
	}
	return clip(err.Error())
}

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
