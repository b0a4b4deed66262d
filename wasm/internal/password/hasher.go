package password

import (
	"crypto/subtle"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// MaxLength is the longest password, in bytes, that is hashed or checked.
const MaxLength = 256

// Hasher hashes passwords with argon2id and verifies them against stored
// hashes. It is safe for concurrent use.
type Hasher struct {
	p   Params
	err error // from p.Validate; every method fails closed with it
}

// NewHasher returns a Hasher for p. Parameters outside the bounds of
// Params.Validate make every method fail with an error wrapping
// ErrInvalidParams; call p.Validate first to learn of them at
// configuration time.
func NewHasher(p Params) *Hasher {
	return &Hasher{p: p, err: p.Validate()}
}

// Hash returns the PHC-encoded argon2id hash of plain under a fresh salt
// read from random.
func (h *Hasher) Hash(random io.Reader, plain string) (encoded string, err error) {
	if h.err != nil {
		return "", h.err
	}
	if len(plain) > MaxLength {
		return "", fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(plain), MaxLength)
	}
	if random == nil {
		return "", fmt.Errorf("%w: no random source", ErrRandom)
	}
	salt := make([]byte, h.p.SaltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("%w: %w", ErrRandom, err)
	}
	key := argon2.IDKey([]byte(plain), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	return encode(h.p, salt, key), nil
}

// Verify reports whether plain matches the stored hash encoded, comparing
// in constant time with the parameters read from encoded. When ok, rehash
// reports that encoded was made with parameters other than h's, and the
// caller should store a fresh Hash of plain. A stored hash that does not
// parse, or whose parameters are out of bounds, is an error wrapping
// ErrMalformedHash, ErrUnsupportedHash or ErrInvalidParams; a wrong
// password is ok=false with a nil error.
func (h *Hasher) Verify(plain, encoded string) (ok, rehash bool, err error) {
	if h.err != nil {
		return false, false, h.err
	}
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	if len(plain) > MaxLength {
		return false, false, nil // Hash never stores such a password
	}
	got := argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	return true, p != h.p, nil
}

// Equalize spends the work of a Verify of plain against a hash made with
// h's parameters, and matches nothing. Call it where a login fails before
// any hash was found (an unknown email), so that the response time does
// not tell which emails have accounts.
func (h *Hasher) Equalize(plain string) {
	if h.err != nil || len(plain) > MaxLength {
		return
	}
	salt := make([]byte, h.p.SaltLen)
	got := argon2.IDKey([]byte(plain), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	subtle.ConstantTimeCompare(got, salt)
}
