package verifier

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"testing"
)

const m2mVectorsFile = "testdata/m2m-vectors.json"

type m2mVector struct {
	Name   string   `json:"name"`
	Token  string   `json:"token"`
	Scopes []string `json:"required_scopes,omitempty"`
	Want   string   `json:"want"` // VerifyM2M's sentinel's name; "" for a valid token
}

// TestM2MVectors checks the M2M access tokens in testdata/m2m-vectors.json,
// signed by the key in testdata/vectors-key.pem, against VerifyM2M, and
// that Verify refuses every one VerifyM2M accepts. Run with -update to
// regenerate them from the table in makeM2MVectors.
func TestM2MVectors(t *testing.T) {
	if *update {
		out, err := json.MarshalIndent(makeM2MVectors(t, loadVectorKey(t)), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(m2mVectorsFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := loadVectorKey(t)
	var vs []m2mVector
	data, err := os.ReadFile(m2mVectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, testKey{KID: vectorsKID, Private: key})
	v := newTestVerifier(t, srv, &clock{t: vectorTime}, nil)
	names := map[string]error{"ErrNotM2M": ErrNotM2M, "ErrInsufficientScope": ErrInsufficientScope}
	for n, e := range sentinels {
		names[n] = e
	}
	for _, vec := range vs {
		t.Run(vec.Name, func(t *testing.T) {
			want := names[vec.Want]
			if vec.Want != "" && want == nil {
				t.Fatalf("unknown sentinel %q", vec.Want)
			}
			for range 2 { // cold, then through the verified-token cache
				m, err := v.VerifyM2M(t.Context(), vec.Token, vec.Scopes...)
				if want != nil {
					if !errors.Is(err, want) || m != nil {
						t.Fatalf("VerifyM2M = %v, %v; want %s", m, err, vec.Want)
					}
					continue
				}
				if err != nil || m == nil || m.ClientID == "" {
					t.Fatalf("VerifyM2M = %v, %v; want a token", m, err)
				}
				if s, err := v.Verify(t.Context(), vec.Token); !errors.Is(err, ErrMalformed) || s != nil {
					t.Fatalf("Verify = %v, %v; want ErrMalformed", s, err)
				}
			}
		})
	}
}

// makeM2MVectors builds every M2M vector, deterministic as makeVectors'.
func makeM2MVectors(t *testing.T, key *rsa.PrivateKey) []m2mVector {
	enc := base64.RawURLEncoding.EncodeToString
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hdr := js(map[string]any{"alg": "RS256", "typ": "JWT", "kid": vectorsKID})
	signRaw := func(h, payload string) string {
		in := enc([]byte(h)) + "." + enc([]byte(payload))
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + enc(sig)
	}
	claims := func(edit func(c map[string]any)) string {
		c := map[string]any(m2mClaimsAt(vectorTime))
		if edit != nil {
			edit(c)
		}
		return js(c)
	}
	rs := func(edit func(c map[string]any)) string { return signRaw(hdr, claims(edit)) }
	valid := rs(nil)
	hs256 := func() string {
		h := js(map[string]any{"alg": "HS256", "typ": "JWT", "kid": vectorsKID})
		in := enc([]byte(h)) + "." + enc([]byte(claims(nil)))
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(in))
		return in + "." + enc(mac.Sum(nil))
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 'A' ^ 'B'
		return string(b)
	}
	dot1, dot2 := splitToken(valid)
	return []m2mVector{
		{Name: "valid", Token: valid},
		{Name: "valid with required scopes", Token: valid, Scopes: []string{"read:users", "write:books", "audit"}},
		{Name: "valid aud as string", Token: rs(func(c map[string]any) { c["aud"] = testProject })},
		{Name: "wildcard resource", Token: rs(func(c map[string]any) { c["scope"] = "read:*" }), Scopes: []string{"read:users", "read"}},
		{Name: "missing scope", Token: valid, Scopes: []string{"delete:users"}, Want: "ErrInsufficientScope"},
		{Name: "wildcard in another action", Token: rs(func(c map[string]any) { c["scope"] = "read:*" }), Scopes: []string{"write:users"}, Want: "ErrInsufficientScope"},
		{Name: "session JWT", Token: signRaw(hdr, js(claimsAt(vectorTime))), Want: "ErrNotM2M"},
		{Name: "session claim beside scope", Token: rs(func(c map[string]any) { c["https://stytch.com/session"] = map[string]any{"id": "session-test-1"} }), Want: "ErrNotM2M"},
		{Name: "no scope claim", Token: rs(func(c map[string]any) { delete(c, "scope") }), Want: "ErrNotM2M"},
		{Name: "scope repeated", Token: signRaw(hdr, withMembers(claims(func(c map[string]any) { c["scope"] = "audit" }), `"scope":"admin:*"`)), Want: "ErrMalformed"},
		{Name: "sub repeated", Token: signRaw(hdr, withMembers(claims(nil), `"sub":"m2m-client-test-other"`)), Want: "ErrMalformed"},
		{Name: "scope not a string", Token: rs(func(c map[string]any) { c["scope"] = []string{"audit"} }), Want: "ErrMalformed"},
		{Name: "expired", Token: rs(func(c map[string]any) { c["exp"] = vectorTime.Unix() - 1 }), Want: "ErrExpired"},
		{Name: "not yet valid", Token: rs(func(c map[string]any) { c["nbf"] = vectorTime.Unix() + 60 }), Want: "ErrNotYetValid"},
		{Name: "wrong aud", Token: rs(func(c map[string]any) { c["aud"] = []string{"project-test-other"} }), Want: "ErrInvalidAudience"},
		{Name: "wrong iss", Token: rs(func(c map[string]any) { c["iss"] = "stytch.com/project-test-other" }), Want: "ErrInvalidIssuer"},
		{Name: "alg none", Token: enc([]byte(`{"alg":"none","typ":"JWT","kid":"`+vectorsKID+`"}`)) + "." + enc([]byte(claims(nil))) + ".", Want: "ErrUnsupportedAlgorithm"},
		{Name: "HS256 signed with the public key", Token: hs256(), Want: "ErrUnsupportedAlgorithm"},
		{Name: "tampered payload", Token: flip(valid, dot1+20), Want: "ErrInvalidSignature"},
		{Name: "tampered signature", Token: flip(valid, dot2+20), Want: "ErrInvalidSignature"},
	}
}
