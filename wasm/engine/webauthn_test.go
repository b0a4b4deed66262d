package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

func TestRelyingParty(t *testing.T) {
	e := &Engine{cfg: Config{ProjectName: "Latch", WebAuthnOrigins: []string{
		"https://app.example.com", "https://auth.example.com:8443", "http://localhost:3000", "https://other.test"}}}
	for _, tc := range []struct {
		name    string
		domain  string
		origins []string
		wantErr error
	}{
		{name: "an origin's host", domain: "app.example.com", origins: []string{"https://app.example.com"}},
		{name: "a parent domain takes every origin under it", domain: "example.com", origins: []string{"https://app.example.com", "https://auth.example.com:8443"}},
		{name: "case", domain: "APP.example.com", origins: []string{"https://app.example.com"}},
		{name: "localhost", domain: "localhost", origins: []string{"http://localhost:3000"}},
		{name: "a suffix that is not a parent domain", domain: "ample.com", wantErr: errWebAuthnDomain},
		{name: "a child of an origin's host", domain: "x.app.example.com", wantErr: errWebAuthnDomain},
		{name: "no origin under it", domain: "example.org", wantErr: errWebAuthnDomain},
		{name: "empty", domain: "", wantErr: errWebAuthnDomain},
		{name: "an origin, not a domain", domain: "https://app.example.com", wantErr: errWebAuthnDomain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp, err := e.relyingParty(tc.domain)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("relyingParty(%q) error = %v, want %v", tc.domain, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(rp.Config.RPOrigins, tc.origins) {
				t.Fatalf("origins = %q, want %q", rp.Config.RPOrigins, tc.origins)
			}
		})
	}
	off := &Engine{}
	if _, err := off.relyingParty("localhost"); !errors.Is(err, errWebAuthnUnavailable) {
		t.Fatalf("no origins configured: error = %v, want %v", err, errWebAuthnUnavailable)
	}
}

func TestOptionsJSONEncodings(t *testing.T) {
	challenge, handle, cred := []byte{0xfb, 0xff, 0x01}, []byte("user-test-1"), []byte{0xff, 0xfe}
	opts := map[string]any{
		"challenge":          base64.RawURLEncoding.EncodeToString(challenge),
		"user":               map[string]any{"id": base64.RawURLEncoding.EncodeToString(handle), "name": "a"},
		"excludeCredentials": []any{map[string]any{"type": "public-key", "id": base64.RawURLEncoding.EncodeToString(cred)}},
		"rp":                 map[string]any{"id": "localhost"},
	}
	url, err := optionsJSON(opts, true)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(url), &got); err != nil || got["challenge"] != "-_8B" {
		t.Fatalf("base64url options: challenge %v (%v), want -_8B", got["challenge"], err)
	}
	std, err := optionsJSON(opts, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(std), &got); err != nil {
		t.Fatal(err)
	}
	user, _ := got["user"].(map[string]any)
	excl, _ := got["excludeCredentials"].([]any)
	first, _ := excl[0].(map[string]any)
	for what, pair := range map[string][2]any{
		"challenge":              {got["challenge"], base64.StdEncoding.EncodeToString(challenge)},
		"user.id":                {user["id"], base64.StdEncoding.EncodeToString(handle)},
		"excludeCredentials.id":  {first["id"], base64.StdEncoding.EncodeToString(cred)},
		"user.name (not binary)": {user["name"], "a"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("standard base64 options: %s = %v, want %v", what, pair[0], pair[1])
		}
	}
}

// TestRegistrationKeepsKnownTransports: the transports a client lists are
// stored only when WebAuthn knows them, each once.
func TestRegistrationKeepsKnownTransports(t *testing.T) {
	var r webauthnRegistration
	listed := []protocol.AuthenticatorTransport{"usb", "hybrid", "usb", "x-made-up", "", "internal", "smart-card"}
	for range 1000 {
		listed = append(listed, "nfc", "padding")
	}
	r.fromCredential(&webauthn.Credential{Transport: listed})
	if want := "usb,hybrid,internal,smart-card,nfc"; r.Transports != want {
		t.Errorf("transports stored as %q, want %q", r.Transports, want)
	}
}
