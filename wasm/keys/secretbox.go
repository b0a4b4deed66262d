package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/latchauth/latch/wasm/engine"
)

// SecretKeySize is the size of a SecretBox key: AES-256.
const SecretKeySize = 32

// sealVersion starts every sealed value, so the format can change.
const sealVersion = 1

// SecretBox is the pure-Go engine.SecretBox: AES-256-GCM with a random
// 96-bit nonce, sealed values laid out as version (1 byte), nonce (12) and
// ciphertext with its tag — the layout the Worker's WebCrypto box writes
// too, so either can open the other's.
type SecretBox struct {
	aead   cipher.AEAD
	random io.Reader
}

var _ engine.SecretBox = (*SecretBox)(nil)

// ErrSealed is returned by Open for a value that is not sealed by this key.
var ErrSealed = errors.New("keys: sealed value does not open with this key")

// NewSecretBox returns a box over key (SecretKeySize bytes); nonces come
// from random.
func NewSecretBox(key []byte, random io.Reader) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("keys: secret key of %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &SecretBox{aead: aead, random: random}, nil
}

// NewSecretKey returns a new SecretBox key from random.
func NewSecretKey(random io.Reader) ([]byte, error) {
	k := make([]byte, SecretKeySize)
	if _, err := io.ReadFull(random, k); err != nil {
		return nil, fmt.Errorf("keys: secret key: %w", err)
	}
	return k, nil
}

// Seal encrypts plaintext.
func (b *SecretBox) Seal(_ context.Context, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(b.random, out[1:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, nil), nil
}

// Open decrypts what Seal made.
func (b *SecretBox) Open(_ context.Context, sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	out, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], nil)
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}
