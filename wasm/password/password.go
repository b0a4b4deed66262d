// Package password hashes passwords with a memory-hard KDF and scores their
// strength. Placeholder: replaced by the real implementation.
package password

import (
	"errors"
	"io"
)

// Params are the KDF parameters stored with each hash.
type Params struct{}

// DefaultParams are the production parameters.
var DefaultParams = Params{}

// Hasher hashes and verifies with fixed parameters.
type Hasher struct{ p Params }

// NewHasher returns a Hasher for p.
func NewHasher(p Params) *Hasher { return &Hasher{p: p} }

// Hash is not implemented yet.
func (h *Hasher) Hash(io.Reader, string) (string, error) { return "", errors.New("password: not implemented") }

// Verify is not implemented yet.
func (h *Hasher) Verify(string, string) (bool, bool, error) {
	return false, false, errors.New("password: not implemented")
}
