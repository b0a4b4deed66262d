package engine

import "context"

// Signer signs session JWTs. It is a host capability so that a host can keep
// the private key out of the engine's memory: the Worker signs through
// WebCrypto, the wazero host in its own Go process. See RATIONALE.md,
// "Why is the signer a host capability?".
type Signer interface {
	// KeyID returns the kid of the key Sign uses now.
	KeyID() string
	// Sign returns the RS256 signature (RSASSA-PKCS1-v1_5, SHA-256) of the
	// JWT signing input, made with the key named by KeyID.
	Sign(ctx context.Context, signingInput []byte) ([]byte, error)
	// PublicKeys lists every key that may have signed a live JWT, the
	// signing key first. The engine publishes them in the JWKS and uses them
	// to check session JWTs it is given.
	PublicKeys() []PublicKey
}

// PublicKey is the public half of an RSA signing key, as JWK members:
// N and E are unpadded base64url big-endian integers.
type PublicKey struct {
	KID string
	N   string
	E   string
}
