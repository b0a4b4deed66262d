package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSetRoundTripAndSign(t *testing.T) {
	a, err := Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(rand.Reader, "live")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.KID, "jwk-test-") || !strings.HasPrefix(b.KID, "jwk-live-") || len(a.KID) != len("jwk-test-")+36 {
		t.Fatalf("kids %q %q", a.KID, b.KID)
	}
	set, err := MarshalSet([]Key{a, b})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSet(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].KID != a.KID || !back[0].Private.Equal(a.Private) || !back[1].Private.Equal(b.Private) {
		t.Fatal("set did not round-trip")
	}
	s, err := NewSigner(back)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != a.KID || len(s.PublicKeys()) != 2 || s.PublicKeys()[1].KID != b.KID {
		t.Fatalf("signer keys %v", s.PublicKeys())
	}
	input := []byte("header.payload")
	sig, err := s.Sign(context.Background(), input)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(input)
	if err := rsa.VerifyPKCS1v15(&a.Private.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify with the first key: %v", err)
	}
	if pub := Public(a); pub.E != "AQAB" || pub.N == "" || pub.KID != a.KID {
		t.Fatalf("public %+v", pub)
	}
}

func TestParseSetRejects(t *testing.T) {
	k, err := Generate(rand.Reader, "test")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := MarshalSet([]Key{k})
	mutate := func(f func(m map[string]any)) []byte {
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(good, &set); err != nil {
			t.Fatal(err)
		}
		f(set.Keys[0])
		out, _ := json.Marshal(set)
		return out
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{name: "empty set", data: []byte(`{"keys":[]}`), wantErr: ErrNoKeys},
		{name: "not json", data: []byte(`nope`)},
		{name: "public only", data: mutate(func(m map[string]any) { delete(m, "d") })},
		{name: "not rsa", data: mutate(func(m map[string]any) { m["kty"] = "EC" })},
		{name: "no kid", data: mutate(func(m map[string]any) { m["kid"] = "" })},
		{name: "wrong prime", data: mutate(func(m map[string]any) { m["p"] = m["q"] })},
		{name: "bad base64", data: mutate(func(m map[string]any) { m["n"] = "***" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSet(tc.data)
			if err == nil {
				t.Fatal("want an error, got none")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), k.Private.D.String()) {
				t.Fatal("error leaks the private exponent")
			}
		})
	}
	if _, err := NewSigner(nil); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("NewSigner(nil): %v", err)
	}
}
