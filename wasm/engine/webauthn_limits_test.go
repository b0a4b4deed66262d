package engine_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchauth/latch/testharness/apitest"
	"github.com/latchauth/latch/testharness/conformance"
	"github.com/latchauth/latch/wasm/engine"
)

// TestWebAuthnRegistrationsAreBounded: a user holds at most 20 passkeys
// and security keys, since every read of the user carries them all. The
// 21st is refused when its ceremony would begin, and when two ceremonies
// begun at 19 both finish, the second.
func TestWebAuthnRegistrationsAreBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	e, err := engine.New(engine.Config{ProjectID: "project-test-passkeys", Secret: "secret", DB: openDB(t), Signer: testSigner(t),
		Now: clk.Now, WebAuthnOrigins: []string{conformance.WebAuthnOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.Client{Handler: e, ProjectID: "project-test-passkeys", Secret: "secret"}
	rp := virtualwebauthn.RelyingParty{Name: "Latch", ID: "localhost", Origin: conformance.WebAuthnOrigin}
	userID := c.MustPost(t, "/v1/users", map[string]any{"email": "many-keys@example.com"})["user_id"]
	start := func() (int, map[string]any) {
		status, out, err := c.Post("/v1/webauthn/register/start", map[string]any{"user_id": userID, "domain": "localhost",
			"use_base64_url_encoding": true, "return_passkey_credential_options": true})
		if err != nil {
			t.Fatal(err)
		}
		return status, out
	}
	finish := func(begun map[string]any) (int, map[string]any) {
		creation, err := virtualwebauthn.ParseAttestationOptions(begun["public_key_credential_creation_options"].(string))
		if err != nil {
			t.Fatal(err)
		}
		authr := virtualwebauthn.NewAuthenticator()
		authr.Options.UserHandle = []byte(creation.UserID)
		status, out, err := c.Post("/v1/webauthn/register", map[string]any{"user_id": userID,
			"public_key_credential": virtualwebauthn.CreateAttestationResponse(rp, authr, apitest.WebAuthnCredential(t), *creation)})
		if err != nil {
			t.Fatal(err)
		}
		return status, out
	}
	for range 19 {
		_, begun := start()
		if status, out := finish(begun); status != http.StatusOK {
			t.Fatalf("register: %d %v", status, out)
		}
	}
	_, first := start()
	_, second := start()
	if status, out := finish(first); status != http.StatusOK {
		t.Fatalf("the 20th: %d %v", status, out)
	}
	if status, out := finish(second); status != http.StatusBadRequest || out["error_type"] != "too_many_webauthn_registrations" {
		t.Errorf("the 21st, begun before the 20th was stored: %d %v, want 400 too_many_webauthn_registrations", status, out)
	}
	if status, out := start(); status != http.StatusBadRequest || out["error_type"] != "too_many_webauthn_registrations" {
		t.Errorf("a 21st ceremony: %d %v, want 400 too_many_webauthn_registrations", status, out)
	}
	status, u, err := c.Do(t.Context(), http.MethodGet, "/v1/users/"+userID.(string), nil)
	if regs, _ := u["webauthn_registrations"].([]any); err != nil || status != http.StatusOK || len(regs) != 20 {
		t.Errorf("the user lists %d registrations (%d %v), want 20", len(regs), status, err)
	}
}
