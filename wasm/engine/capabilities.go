package engine

import (
	"context"
	"io"

	"github.com/latchauth/latch/wasm/internal/password"
)

// The capabilities a host gives the engine through Config, each an
// interface: the engine never reaches for a platform. Every host wires
// each one once (see ARCHITECTURE.md, "Adding a capability").

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

// Mailer delivers the engine's mail: magic links, one-time codes and
// password reset links. It is a host capability like the Signer: the
// Worker sends through Cloudflare's send_email binding or a signed
// webhook, the Go hosts through SMTP or the same webhook. The engine
// builds the message (its templates live here); the transport only
// carries it. See RATIONALE.md, "Why is mail a host capability?".
type Mailer interface {
	// Send delivers m, or reports why it could not. The engine answers
	// the request with an error when it fails, and leaves nothing behind
	// that the mail would have made usable.
	Send(ctx context.Context, m *Message) error
}

// Message is one mail, ready to send.
type Message struct {
	// From is the sender, an address or "Name <address>".
	From string
	// To is the recipient's address.
	To string
	// Subject, Text and HTML are the message; Text and HTML say the
	// same, for clients that show one or the other.
	Subject string
	Text    string
	HTML    string
	// Kind names what the message is for, for transports that route or
	// log by it: one of the Mail… constants.
	Kind string
}

// The kinds of Message the engine sends.
const (
	MailMagicLinkLogin  = "magic_link_login"
	MailMagicLinkSignup = "magic_link_signup"
	MailOTP             = "otp"
	MailPasswordReset   = "password_reset"
)

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

// PasswordHasher hashes passwords and checks them against stored hashes.
// The encoded form carries its algorithm and parameters so they can be
// raised later; Verify reports when a stored hash should be redone.
type PasswordHasher interface {
	Hash(random io.Reader, plain string) (encoded string, err error)
	Verify(plain, encoded string) (ok, rehash bool, err error)
	// Equalize spends what a Verify costs, for logins that have no hash to
	// check, so that response times do not tell which emails exist.
	Equalize(plain string)
}

// DefaultPasswordHasher returns the production hasher (see RATIONALE.md,
// "Why these password hash parameters?"), the one New uses when
// Config.PasswordHasher is nil. It is exported for hosts that wrap it, for
// example to count or time hashes.
func DefaultPasswordHasher() PasswordHasher { return password.NewHasher(password.DefaultParams()) }
