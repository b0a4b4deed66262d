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
	// PublicKeys lists every key that may have signed a JWT of a live
	// session, retired keys included. The engine checks the session JWTs
	// it is given against all of them, and publishes in the JWKS the keys
	// that still sign and those retired too recently for every JWT they
	// signed to have expired. See RATIONALE.md, "How do signing keys
	// rotate?".
	PublicKeys() []PublicKey
}

// PublicKey is the public half of an RSA signing key, as JWK members:
// N and E are unpadded base64url big-endian integers. RetiredAt is when
// the key stopped signing, in Unix seconds; 0 for a key that signs.
type PublicKey struct {
	KID       string
	N         string
	E         string
	RetiredAt int64
}

// jwksGrace is how long past its last JWT's expiry a retired key stays
// in the JWKS: the largest clock leeway a verifier may allow.
const jwksGrace = 300

// published reports whether k belongs in the JWKS at now: it signs, or
// a JWT it signed may still be unexpired to a verifier.
func (k *PublicKey) published(now int64) bool {
	return k.RetiredAt == 0 || now < k.RetiredAt+jwtLifetime+jwksGrace
}
