package engine

import "context"

// SecretBox encrypts what the engine must read back but a read of the
// database alone must not yield: TOTP secrets and recovery codes. It is a
// host capability, like the Signer: the key stays with the host (a
// WebCrypto AES-GCM key on the Worker, the host's Go process under
// wazero). See RATIONALE.md, "Why are TOTP secrets sealed by the host?".
type SecretBox interface {
	// Seal encrypts and authenticates plaintext.
	Seal(ctx context.Context, plaintext []byte) ([]byte, error)
	// Open reverses Seal, and fails for anything Seal did not make
	// with this key.
	Open(ctx context.Context, sealed []byte) ([]byte, error)
}
