package conformance

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/latchauth/latch/testharness/apitest"
)

// The WebAuthn cases' browser and authenticator: virtualwebauthn makes the
// credentials navigator.credentials.create and get would answer, as
// credential.toJSON() renders them (binary members base64url).

// webauthnDomain is the relying party ID of WebAuthnOrigin.
const webauthnDomain = "localhost"

// webauthnRP is the relying party as the browser on WebAuthnOrigin sees it.
var webauthnRP = virtualwebauthn.RelyingParty{Name: "Latch conformance", ID: webauthnDomain, Origin: WebAuthnOrigin}

// authenticator is a virtual authenticator holding one credential (an
// ES256 key) and the browser that talks to it. By default it is the
// passkey of a careful user: present and verified (UP and UV flags), sign
// counter 0 (an authenticator without a counter, as synced passkeys are).
type authenticator struct {
	t    *testing.T
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newAuthenticator(t *testing.T) *authenticator {
	t.Helper()
	return &authenticator{t: t, rp: webauthnRP, auth: virtualwebauthn.NewAuthenticator(), cred: apitest.WebAuthnCredential(t)}
}

// at returns the same authenticator and credential used by a browser on
// another relying party: another origin (the page that asks), or another
// RP ID (the rpIdHash the authenticator signs).
func (a *authenticator) at(rp virtualwebauthn.RelyingParty) *authenticator {
	b := *a
	b.rp = rp
	return &b
}

// verifying sets whether the authenticator verifies its user (the UV flag).
func (a *authenticator) verifying(uv bool) *authenticator {
	a.auth.Options.UserNotVerified = !uv
	return a
}

// credentialID is the credential's id, base64url as a browser names it.
func (a *authenticator) credentialID() string {
	return base64.RawURLEncoding.EncodeToString(a.cred.ID)
}

// publicKey is the credential's COSE public key, base64url.
func (a *authenticator) publicKey() string {
	return base64.RawURLEncoding.EncodeToString(a.cred.Key.AttestationData())
}

// create answers creation options (navigator.credentials.create) with a
// new credential for the user they name: the authenticator keeps the user
// handle, as a passkey does, and gives it back when it signs in.
func (a *authenticator) create(options string) string {
	a.t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(base64URLOptions(a.t, options))
	if err != nil {
		a.t.Fatalf("creation options %.300q: %v", options, err)
	}
	a.auth.Options.UserHandle = []byte(o.UserID)
	return virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.cred, *o)
}

// get answers request options (navigator.credentials.get) with an
// assertion by the credential, whether or not the options allow it (as a
// browser would not: the cases check allowCredentials themselves).
func (a *authenticator) get(options string) string {
	a.t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(base64URLOptions(a.t, options))
	if err != nil {
		a.t.Fatalf("request options %.300q: %v", options, err)
	}
	return virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.cred, *o)
}

// decodeOptions parses options (a JSON string in the answer) into an object.
func decodeOptions(t *testing.T, options string) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal([]byte(options), &o); err != nil {
		t.Fatalf("options are not a JSON object: %v: %.300q", err, options)
	}
	return o
}

// optionBytes decodes a binary member of the options as the encoding the
// call asked for: unpadded base64url, as JSON serializations of WebAuthn
// options carry it, or Stytch's standard, padded base64.
func optionBytes(t *testing.T, v any, base64url bool) []byte {
	t.Helper()
	s, _ := v.(string)
	enc := base64.StdEncoding
	if base64url {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if s == "" || err != nil {
		t.Fatalf("%q is not %s: %v", s, map[bool]string{true: "unpadded base64url", false: "standard base64"}[base64url], err)
	}
	return b
}

// base64URLOptions rewrites options whose binary members are standard
// base64 into base64url, which is all virtualwebauthn reads (a page using
// standard base64 options converts them so before calling the browser).
// Options already base64url are returned as they are.
func base64URLOptions(t *testing.T, options string) string {
	t.Helper()
	o := decodeOptions(t, options)
	conv := func(v any) any {
		s, ok := v.(string)
		if !ok {
			return v
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(s); err == nil {
			return s
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("options member %q is neither base64url nor base64", s)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	o["challenge"] = conv(o["challenge"])
	if u, ok := o["user"].(obj); ok {
		u["id"] = conv(u["id"])
	}
	for _, list := range []string{"excludeCredentials", "allowCredentials"} {
		items, _ := o[list].([]any)
		for _, it := range items {
			if d, ok := it.(obj); ok {
				d["id"] = conv(d["id"])
			}
		}
	}
	out, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// requireWebAuthn skips a case on a host that does not allow
// WebAuthnOrigin.
func (c *client) requireWebAuthn() {
	c.t.Helper()
	if !c.tg.WebAuthn {
		c.t.Skip("host has no WebAuthn origins configured")
	}
}

// startRegistration begins registering a passkey for userID and returns
// its creation options (base64url).
func (c *client) startRegistration(userID string) string {
	c.t.Helper()
	got := c.ok(c.post("/v1/webauthn/register/start", obj{"user_id": userID, "domain": webauthnDomain,
		"return_passkey_credential_options": true, "use_base64_url_encoding": true}))
	return str(c.t, got, "public_key_credential_creation_options")
}

// registerPasskey registers a's credential as a passkey of userID; more
// are the session fields of the call. It returns the answer.
func (c *client) registerPasskey(a *authenticator, userID string, more obj) obj {
	c.t.Helper()
	body := obj{"user_id": userID, "public_key_credential": a.create(c.startRegistration(userID))}
	for k, v := range more {
		body[k] = v
	}
	got := c.ok(c.post("/v1/webauthn/register", body))
	str(c.t, got, "webauthn_registration_id")
	return got
}

// startSignIn begins a sign-in on localhost — for userID, or with a
// discoverable passkey when userID is empty — and returns its request
// options (base64url).
func (c *client) startSignIn(userID string) string {
	c.t.Helper()
	body := obj{"domain": webauthnDomain, "use_base64_url_encoding": true}
	if userID != "" {
		body["user_id"] = userID
	}
	return str(c.t, c.ok(c.post("/v1/webauthn/authenticate/start", body)), "public_key_credential_request_options")
}

// signIn signs in with a's credential in a new ceremony (see startSignIn)
// and returns the answer, whatever it is; more are the session fields.
func (c *client) signIn(a *authenticator, userID string, more obj) response {
	c.t.Helper()
	body := obj{"public_key_credential": a.get(c.startSignIn(userID))}
	for k, v := range more {
		body[k] = v
	}
	return c.post("/v1/webauthn/authenticate", body)
}

// webauthnFactor returns the session's webauthn factor, failing unless
// there is exactly one and it names registration regID on localhost.
func webauthnFactor(t *testing.T, s obj, regID string) obj {
	t.Helper()
	var found []obj
	for _, f := range s["authentication_factors"].([]any) {
		if m := f.(obj); m["type"] == "webauthn" {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("session factors %v, want one webauthn factor", s["authentication_factors"])
	}
	f := found[0]
	if f["delivery_method"] != "webauthn_registration" || field(f, "webauthn_factor", "webauthn_registration_id") != regID ||
		field(f, "webauthn_factor", "domain") != webauthnDomain {
		t.Fatalf("webauthn factor %v, want delivery_method webauthn_registration and webauthn_factor {%s, localhost}", f, regID)
	}
	return f
}

// webauthnRegistrations returns the user object's webauthn_registrations.
func webauthnRegistrations(t *testing.T, user any) []any {
	t.Helper()
	u, _ := user.(obj)
	list, ok := u["webauthn_registrations"].([]any)
	if !ok {
		t.Fatalf("user has no webauthn_registrations list: %v", user)
	}
	return list
}
