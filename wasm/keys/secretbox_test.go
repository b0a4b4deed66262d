package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
)

func TestSecretBox(t *testing.T) {
	key, err := NewSecretKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	box, err := NewSecretBox(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSecretBox(bytes.Repeat([]byte{7}, SecretKeySize), rand.Reader)
	ctx := context.Background()
	sealed, err := box.Seal(ctx, []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := box.Seal(ctx, []byte("JBSWY3DPEHPK3PXP"))
	if bytes.Equal(sealed, again) || bytes.Contains(sealed, []byte("JBSWY3DP")) {
		t.Fatal("sealing is deterministic or shows the plaintext")
	}
	if got, err := box.Open(ctx, sealed); err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open: %q, %v", got, err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, v := range map[string][]byte{"tampered": tampered, "short": sealed[:10], "empty": nil, "version": append([]byte{9}, sealed[1:]...)} {
		if _, err := box.Open(ctx, v); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: err = %v, want ErrSealed", name, err)
		}
	}
	if _, err := other.Open(ctx, sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("another key opened it: %v", err)
	}
	if _, err := NewSecretBox(key[:16], rand.Reader); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
