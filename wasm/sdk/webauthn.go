package sdk

import (
	"net/http"
	"net/url"
	"time"
)

// Passkeys and security keys through the SDK (stytch.webauthn.register,
// .authenticate, .update). A passkey outlives every other credential
// change (a password reset ends sessions, not passkeys), and so do an
// authenticator app and a linked provider identity; adding any of them
// asks more of the caller's session than other calls do (freshCaller): a
// sign-in within addFreshness, and, for a user with an authenticator app,
// a session that has passed it. Otherwise a stolen session could plant a
// way back in that skips the app. See RATIONALE.md, "Passkeys".

// addFreshness is how recent the caller's last factor must be for the
// caller to add a passkey, an authenticator app or a provider identity.
const addFreshness = 10 * time.Minute

// webauthnStart is what the SDK sends to begin a ceremony.
type webauthnStart struct {
	Domain                         string `json:"domain"`
	AuthenticatorType              string `json:"authenticator_type"`
	ReturnPasskeyCredentialOptions bool   `json:"return_passkey_credential_options"`
	OverrideID                     string `json:"override_id"`
	OverrideName                   string `json:"override_name"`
	OverrideDisplayName            string `json:"override_display_name"`
	UserAgent                      string `json:"user_agent"`
	UseBase64URLEncoding           bool   `json:"use_base64_url_encoding"`
}

// webauthnFinish is what the SDK sends to finish one.
type webauthnFinish struct {
	PublicKeyCredential string `json:"public_key_credential"`
	sessionBody
}

// POST /sdk/v1/webauthn/register/start: a passkey for the caller's own
// user.
func (s *surface) webauthnRegisterStart(c *call) (*answer, error) {
	var b webauthnStart
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, id, err := s.freshCaller(c, "a passkey")
	if err != nil || a != nil {
		return a, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/webauthn/register/start", map[string]any{
		"user_id": id, "domain": b.Domain, "authenticator_type": b.AuthenticatorType,
		"return_passkey_credential_options": b.ReturnPasskeyCredentialOptions, "override_id": b.OverrideID,
		"override_name": b.OverrideName, "override_display_name": b.OverrideDisplayName,
		"user_agent": b.UserAgent, "use_base64_url_encoding": b.UseBase64URLEncoding,
	})
}

// POST /sdk/v1/webauthn/register: the new credential, added to the
// caller's own session as a factor.
func (s *surface) webauthnRegister(c *call) (*answer, error) {
	var b webauthnFinish
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, id, err := s.freshCaller(c, "a passkey")
	if err != nil || a != nil {
		return a, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/webauthn/register",
		c.withSession(b.into(map[string]any{"user_id": id, "public_key_credential": b.PublicKeyCredential}))))
}

// POST /sdk/v1/webauthn/authenticate/start/primary: a sign-in with a
// discoverable passkey, which names its user.
func (s *surface) webauthnStartPrimary(c *call) (*answer, error) {
	var b webauthnStart
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/webauthn/authenticate/start", map[string]any{
		"domain": b.Domain, "return_passkey_credential_options": b.ReturnPasskeyCredentialOptions,
		"use_base64_url_encoding": b.UseBase64URLEncoding,
	})
}

// POST /sdk/v1/webauthn/authenticate/start/secondary: the caller's own
// credentials, as a second factor of its session.
func (s *surface) webauthnStartSecondary(c *call) (*answer, error) {
	var b webauthnStart
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, id, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	return s.api(c.r.Context(), http.MethodPost, "/v1/webauthn/authenticate/start", map[string]any{
		"user_id": id, "domain": b.Domain, "return_passkey_credential_options": b.ReturnPasskeyCredentialOptions,
		"use_base64_url_encoding": b.UseBase64URLEncoding,
	})
}

// POST /sdk/v1/webauthn/authenticate: a sign-in, or a factor added to the
// caller's own session.
func (s *surface) webauthnAuthenticate(c *call) (*answer, error) {
	var b webauthnFinish
	if err := c.read(&b); err != nil {
		return nil, err
	}
	return loginAnswer(s.api(c.r.Context(), http.MethodPost, "/v1/webauthn/authenticate",
		c.withSession(b.into(map[string]any{"public_key_credential": b.PublicKeyCredential}))))
}

// PUT /sdk/v1/webauthn/update/{webauthn_registration_id}: names one of the
// caller's own registrations; another user's is not found.
func (s *surface) webauthnUpdate(c *call) (*answer, error) {
	var b struct {
		Name string `json:"name"`
	}
	if err := c.read(&b); err != nil {
		return nil, err
	}
	a, _, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, err
	}
	id := c.r.PathValue("webauthn_registration_id")
	u, _ := a.data["user"].(map[string]any)
	regs, _ := u["webauthn_registrations"].([]any)
	owned := false
	for _, r := range regs {
		if m, _ := r.(map[string]any); m["webauthn_registration_id"] == id {
			owned = true
		}
	}
	if !owned {
		return s.refusal(http.StatusNotFound, "webauthn_registration_not_found", "The WebAuthn registration could not be found."), nil
	}
	return s.api(c.r.Context(), http.MethodPut, "/v1/webauthn/"+url.PathEscape(id), map[string]any{"name": b.Name})
}

// freshCaller returns the caller's user id when its session may add a
// way in that outlives a password reset (what: "a passkey", …; see the top
// of this file); otherwise the answer to relay.
func (s *surface) freshCaller(c *call, what string) (*answer, string, error) {
	a, id, err := s.callerUser(c)
	if err != nil || a.status != http.StatusOK {
		return a, "", err
	}
	if !recentFactor(a.data["session"], s.Now().Add(-addFreshness)) {
		return s.refusal(http.StatusForbidden, "unauthorized_action",
			"Adding "+what+" needs a sign-in within the last 10 minutes; sign in again first."), "", nil
	}
	u, _ := a.data["user"].(map[string]any)
	if totps, _ := u["totps"].([]any); len(totps) > 0 && !hasSecondFactor(a.data["session"]) {
		return s.refusal(http.StatusForbidden, "unauthorized_action",
			"Adding "+what+" needs a session that has passed the authenticator app."), "", nil
	}
	return nil, id, nil
}

// recentFactor reports whether a session view lists a factor
// authenticated after since.
func recentFactor(session any, since time.Time) bool {
	sv, _ := session.(map[string]any)
	factors, _ := sv["authentication_factors"].([]any)
	for _, f := range factors {
		m, _ := f.(map[string]any)
		at, _ := m["last_authenticated_at"].(string)
		if t, err := time.Parse(time.RFC3339, at); err == nil && t.After(since) {
			return true
		}
	}
	return false
}
