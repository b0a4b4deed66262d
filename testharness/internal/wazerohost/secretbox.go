package wazerohost

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/keys"
)

// secretBox returns the host's box over cfg.SecretKey, generating a key
// when there is none. Nonces come from crypto/rand, never from
// Config.Rand: a test's deterministic reader would repeat them, and a
// repeated AES-GCM nonce gives the key's authenticity away.
func secretBox(cfg *Config) (*keys.SecretBox, error) {
	if len(cfg.SecretKey) == 0 {
		k, err := keys.NewSecretKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("testharness: %w", err)
		}
		cfg.SecretKey = k
	}
	if len(cfg.SecretKey) != keys.SecretKeySize {
		return nil, fmt.Errorf("%w: SecretKey of %d bytes, want %d", ErrConfig, len(cfg.SecretKey), keys.SecretKeySize)
	}
	box, err := keys.NewSecretBox(cfg.SecretKey, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return box, nil
}

// sealFrame seals the guest's plaintext under the host's key. The
// answer carries the sealed value only.
func (s *Server) sealFrame(ctx context.Context, frame []byte) ([]byte, error) {
	plaintext, err := wire.ParseSeal(frame)
	if err != nil {
		return nil, err
	}
	if s.box == nil {
		return nil, fmt.Errorf("testharness: no secret box")
	}
	sealed, err := s.box.Seal(ctx, plaintext)
	if err != nil {
		return nil, err
	}
	return wire.AppendSealed(nil, sealed), nil
}

// openFrame opens a sealed value for the guest, or fails with
// keys.ErrSealed's message when the host's key did not seal it.
func (s *Server) openFrame(ctx context.Context, frame []byte) ([]byte, error) {
	sealed, err := wire.ParseOpen(frame)
	if err != nil {
		return nil, err
	}
	if s.box == nil {
		return nil, fmt.Errorf("testharness: no secret box")
	}
	plaintext, err := s.box.Open(ctx, sealed)
	if err != nil {
		return nil, err
	}
	return wire.AppendOpened(nil, plaintext), nil
}
