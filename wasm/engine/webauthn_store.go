package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// WebAuthn registrations: the rows, the user object's list, and the
// endpoints that name, list and delete them.

var (
	errWebAuthnNotFound    = newError(http.StatusNotFound, "webauthn_registration_not_found", "The WebAuthn registration could not be found.")
	errInvalidWebAuthnID   = newError(http.StatusBadRequest, "invalid_webauthn_registration_id", "webauthn_registration_id is malformed.")
	errRegistrationNameLen = badRequest("name must be 1 to %d bytes.", maxRegistrationName)
)

// webauthnRegistration is a row of webauthn_registrations, read as
// webauthnObject; binary columns are base64url.
type webauthnRegistration struct {
	ID                string `json:"registration_id"`
	UserID            string `json:"user_id"`
	Domain            string `json:"domain"`
	CredentialID      string `json:"credential_id"`
	PublicKey         string `json:"public_key"`
	UserHandle        string `json:"user_handle"`
	AttestationType   string `json:"attestation_type"`
	AAGUID            string `json:"aaguid"`
	Transports        string `json:"transports"` // comma-separated
	AuthenticatorType string `json:"authenticator_type"`
	Name              string `json:"name"`
	UserAgent         string `json:"user_agent"`
	SignCount         uint32 `json:"sign_count"`
	UserVerified      bool   `json:"user_verified"`
	BackupEligible    bool   `json:"backup_eligible"`
	BackupState       bool   `json:"backup_state"`
}

// webauthnObject is a webauthn_registrations row as one JSON object (see
// userObject). Its columns are named bare, so that it serves as a SELECT
// list and as a RETURNING clause alike.
const webauthnObject = `json_object('registration_id', registration_id, 'user_id', user_id, 'domain', domain,
	'credential_id', credential_id, 'public_key', public_key, 'user_handle', user_handle,
	'attestation_type', attestation_type, 'aaguid', aaguid, 'transports', transports,
	'authenticator_type', authenticator_type, 'name', name, 'user_agent', user_agent, 'sign_count', sign_count,
	'user_verified', json(iif(user_verified, 'true', 'false')),
	'backup_eligible', json(iif(backup_eligible, 'true', 'false')),
	'backup_state', json(iif(backup_state, 'true', 'false')))`

// registrationsOn is, as one JSON array oldest first, the registrations of
// the user whose id is the SQL expression userID on the domain that the
// SQL expression domain names.
func registrationsOn(userID, domain string) string {
	return `json((SELECT json_group_array(` + webauthnObject + `) FROM (SELECT * FROM webauthn_registrations
		WHERE user_id = ` + userID + ` AND domain = ` + domain + ` ORDER BY created_at, registration_id)))`
}

// webauthnView is one entry of the user object's webauthn_registrations.
type webauthnView struct {
	AuthenticatorType string `json:"authenticator_type"`
	Domain            string `json:"domain"`
	Name              string `json:"name"`
	UserAgent         string `json:"user_agent"`
	Verified          bool   `json:"verified"`
	ID                string `json:"webauthn_registration_id"`
}

// webauthnFactor is a session's record of a WebAuthn login.
type webauthnFactor struct {
	ID        string `json:"webauthn_registration_id"`
	Domain    string `json:"domain"`
	UserAgent string `json:"user_agent"`
}

var b64url = base64.RawURLEncoding

// maxWebAuthnRegistrations bounds a user's passkeys and security keys:
// every read of the user carries them all.
const maxWebAuthnRegistrations = 20

// knownTransports are the transports a registration keeps of those its
// client lists (WebAuthn Level 3); the client's list is its own to make
// up, so anything else, and any repeat, is dropped rather than stored and
// sent back with every ceremony.
var knownTransports = map[protocol.AuthenticatorTransport]bool{
	protocol.USB: true, protocol.NFC: true, protocol.BLE: true, protocol.SmartCard: true,
	protocol.Hybrid: true, protocol.Internal: true,
}

// fromCredential takes what a registration keeps from the credential
// go-webauthn verified.
func (r *webauthnRegistration) fromCredential(c *webauthn.Credential) {
	r.CredentialID = b64url.EncodeToString(c.ID)
	r.PublicKey = b64url.EncodeToString(c.PublicKey)
	r.AttestationType = c.AttestationType
	r.AAGUID = b64url.EncodeToString(c.Authenticator.AAGUID)
	var ts []string
	for _, t := range c.Transport {
		if knownTransports[t] && !slices.Contains(ts, string(t)) {
			ts = append(ts, string(t))
		}
	}
	r.Transports = strings.Join(ts, ",")
	r.SignCount = c.Authenticator.SignCount
	r.UserVerified = c.Flags.UserVerified
	r.BackupEligible = c.Flags.BackupEligible
	r.BackupState = c.Flags.BackupState
}

// credential is the registration as go-webauthn checks an assertion
// against it. Columns were written by fromCredential.
func (r *webauthnRegistration) credential() webauthn.Credential {
	id, _ := b64url.DecodeString(r.CredentialID)
	key, _ := b64url.DecodeString(r.PublicKey)
	aaguid, _ := b64url.DecodeString(r.AAGUID)
	var transports []protocol.AuthenticatorTransport
	for _, t := range strings.Split(r.Transports, ",") {
		if t != "" {
			transports = append(transports, protocol.AuthenticatorTransport(t))
		}
	}
	return webauthn.Credential{
		ID: id, PublicKey: key, AttestationType: r.AttestationType, Transport: transports,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: r.UserVerified, BackupEligible: r.BackupEligible, BackupState: r.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: aaguid, SignCount: r.SignCount},
	}
}

func (r *webauthnRegistration) factor() factor {
	return factor{Type: "webauthn", DeliveryMethod: "webauthn_registration",
		WebAuthn: &webauthnFactor{ID: r.ID, Domain: r.Domain, UserAgent: r.UserAgent}}
}

func (r *webauthnRegistration) view() webauthnView {
	return webauthnView{AuthenticatorType: r.AuthenticatorType, Domain: r.Domain, Name: r.Name,
		UserAgent: r.UserAgent, Verified: true, ID: r.ID}
}

// webauthnUserOf is the owner of regs (all one user's) as go-webauthn
// sees it.
func webauthnUserOf(regs []*webauthnRegistration) *webauthnUser {
	u := &webauthnUser{}
	for _, r := range regs {
		u.handle, _ = b64url.DecodeString(r.UserHandle)
		u.credentials = append(u.credentials, r.credential())
	}
	return u
}

// webauthnColumns are the columns a registration is written with, besides
// its times.
const webauthnColumns = `registration_id, user_id, domain, credential_id, public_key, user_handle, attestation_type,
	aaguid, transports, authenticator_type, name, user_agent, sign_count, user_verified, backup_eligible, backup_state`

// userWithWebAuthn loads a user, or answers user_not_found, and in the
// same statement the user's registrations on domain, oldest first.
func (e *Engine) userWithWebAuthn(ctx context.Context, userID, domain string) (*user, []*webauthnRegistration, error) {
	u, rawRegs, err := e.userAnd(ctx, userID, registrationsOn("u.user_id", "?"), domain)
	if err != nil {
		return nil, nil, err
	}
	var regs []*webauthnRegistration
	if err := json.Unmarshal(rawRegs, &regs); err != nil {
		return nil, nil, fmt.Errorf("engine: webauthn registrations: %w", err)
	}
	return u, regs, nil
}

// insertWebAuthnRegistration stores r while its user exists and has
// fewer than maxWebAuthnRegistrations: a registration finished while its
// user was being deleted is not left behind.
func (e *Engine) insertWebAuthnRegistration(ctx context.Context, r *webauthnRegistration) error {
	now := e.now()
	res, err := e.cfg.DB.ExecContext(ctx, `INSERT INTO webauthn_registrations (`+webauthnColumns+`, created_at, last_used_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM users WHERE user_id = ?)
		AND (SELECT count(*) FROM webauthn_registrations WHERE user_id = ?) < ?`,
		r.ID, r.UserID, r.Domain, r.CredentialID, r.PublicKey, r.UserHandle, r.AttestationType, r.AAGUID,
		r.Transports, r.AuthenticatorType, r.Name, r.UserAgent, r.SignCount, r.UserVerified, r.BackupEligible,
		r.BackupState, now, now, r.UserID, r.UserID, maxWebAuthnRegistrations)
	if isUniqueViolation(err) {
		return errWebAuthnDuplicate
	}
	if err != nil {
		return fmt.Errorf("engine: insert webauthn registration: %w", err)
	}
	if err := oneRow(res, errWebAuthnLimit); !errors.Is(err, errWebAuthnLimit) {
		return err
	}
	if _, err := e.userByID(ctx, r.UserID); err != nil {
		return err
	}
	return errWebAuthnLimit
}

// recordWebAuthnUse stores the counter and backup state of an assertion,
// only if the registration is still as it was read: a deleted
// registration, or a concurrent login that moved the counter, fails this
// one.
func (e *Engine) recordWebAuthnUse(ctx context.Context, r *webauthnRegistration, c *webauthn.Credential) error {
	var one int
	err := e.cfg.DB.QueryRowContext(ctx, `UPDATE webauthn_registrations SET sign_count = ?, backup_state = ?,
		user_verified = ?, last_used_at = ? WHERE registration_id = ? AND sign_count = ? RETURNING 1`,
		c.Authenticator.SignCount, c.Flags.BackupState, c.Flags.UserVerified || r.UserVerified, e.now(), r.ID, r.SignCount).Scan(&one)
	if errors.Is(err, errNoRows) {
		return errWebAuthnAuth
	}
	if err != nil {
		return fmt.Errorf("engine: record webauthn use: %w", err)
	}
	return nil
}

// pathWebAuthnID reads the registration id of the path.
func (e *Engine) pathWebAuthnID(c *call) (string, error) {
	id := c.r.PathValue("webauthn_registration_id")
	if !e.validID("webauthn-registration", id) {
		return "", errInvalidWebAuthnID
	}
	return id, nil
}

// PUT /v1/webauthn/{webauthn_registration_id} — names a registration.
func (e *Engine) updateWebAuthnRegistration(c *call) error {
	id, err := e.pathWebAuthnID(c)
	if err != nil {
		return err
	}
	var a struct {
		Name string `json:"name"`
	}
	if err := c.decode(&a); err != nil {
		return err
	}
	if a.Name == "" || len(a.Name) > maxRegistrationName {
		return errRegistrationNameLen
	}
	ctx := c.r.Context()
	r := &webauthnRegistration{}
	err = scanJSON(e.cfg.DB.QueryRowContext(ctx, `UPDATE webauthn_registrations SET name = ?
		WHERE registration_id = ? RETURNING `+webauthnObject, a.Name, id), r)
	if errors.Is(err, errNoRows) {
		return errWebAuthnNotFound
	}
	if err != nil {
		return fmt.Errorf("engine: name webauthn registration: %w", err)
	}
	c.reply(map[string]any{"webauthn_registration": r.view()})
	return nil
}

// GET /v1/webauthn/credentials/{user_id}/{domain} — the user's
// credentials on domain, with their public keys.
func (e *Engine) listWebAuthnCredentials(c *call) error {
	userID, domain := c.r.PathValue("user_id"), strings.ToLower(c.r.PathValue("domain"))
	if !e.validID("user", userID) {
		return errInvalidUserID
	}
	if len(domain) > maxDomainLen {
		return errWebAuthnDomain
	}
	_, regs, err := e.userWithWebAuthn(c.r.Context(), userID, domain)
	if err != nil {
		return err
	}
	creds := make([]map[string]any, len(regs))
	for i, r := range regs {
		creds[i] = map[string]any{"credential_id": r.CredentialID, "webauthn_registration_id": r.ID,
			"type": r.AuthenticatorType, "public_key": r.PublicKey}
	}
	c.reply(map[string]any{"credentials": creds})
	return nil
}

// DELETE /v1/users/webauthn_registrations/{webauthn_registration_id} —
// the credential stops signing anyone in at once: every login looks its
// registration up.
func (e *Engine) deleteWebAuthnRegistration(c *call) error {
	id, err := e.pathWebAuthnID(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	var userID string
	err = e.cfg.DB.QueryRowContext(ctx, `DELETE FROM webauthn_registrations WHERE registration_id = ? RETURNING user_id`, id).Scan(&userID)
	if errors.Is(err, errNoRows) {
		return errWebAuthnNotFound
	}
	if err != nil {
		return fmt.Errorf("engine: delete webauthn registration: %w", err)
	}
	u, err := e.userByID(ctx, userID)
	if err != nil {
		return err
	}
	c.reply(map[string]any{"user_id": u.ID, "user": u.view()})
	return nil
}
