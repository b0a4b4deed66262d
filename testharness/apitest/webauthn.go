package apitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// WebAuthnCredential is virtualwebauthn.NewCredential(KeyTypeEC2), a
// software authenticator's ES256 key, with both coordinates a full 32
// bytes: virtualwebauthn writes them into the COSE key without their
// leading zero bytes (big.Int.Bytes), and a relying party rightly refuses
// a P-256 coordinate that is not 32 bytes, which would fail one
// credential in 128 at random.
func WebAuthnCredential(tb testing.TB) virtualwebauthn.Credential {
	tb.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		point, err := k.PublicKey.Bytes() // 0x04 || x || y
		if err != nil {
			tb.Fatal(err)
		}
		if point[1] == 0 || point[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			tb.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
