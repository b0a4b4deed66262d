package engine

import (
	"io"

	"github.com/latchauth/latch/wasm/internal/password"
)

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
