package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// SecretBox is an engine.SecretBox that asks the host to seal and open.
// The key stays in the host; the guest sends plaintext to be sealed and
// sealed values to be opened, and holds nothing that opens a value by
// itself (see RATIONALE.md, "Why are TOTP secrets sealed by the host?").
type SecretBox struct {
	call Call
}

var _ engine.SecretBox = (*SecretBox)(nil)

// NewSecretBox returns a box that seals and opens with the host's key.
func NewSecretBox(call Call) *SecretBox { return &SecretBox{call: call} }

// Seal asks the host to seal plaintext, at most wire.MaxPlaintext bytes.
func (b *SecretBox) Seal(ctx context.Context, plaintext []byte) ([]byte, error) {
	if len(plaintext) > wire.MaxPlaintext {
		return nil, fmt.Errorf("bridge: seal: %w: %d bytes of plaintext, at most %d", wire.ErrTooLarge, len(plaintext), wire.MaxPlaintext)
	}
	answer, err := b.call(ctx, wire.AppendSeal(nil, plaintext))
	if err != nil {
		return nil, fmt.Errorf("bridge: seal: %w", err)
	}
	sealed, err := wire.ParseSealed(answer)
	if err != nil {
		return nil, fmt.Errorf("bridge: seal: %w", err)
	}
	return sealed, nil
}

// Open asks the host to open sealed. A value the host's key did not seal
// comes back as the host's *wire.RemoteError.
func (b *SecretBox) Open(ctx context.Context, sealed []byte) ([]byte, error) {
	if len(sealed) > wire.MaxSealed {
		return nil, fmt.Errorf("bridge: open: %w: %d bytes sealed, at most %d", wire.ErrTooLarge, len(sealed), wire.MaxSealed)
	}
	answer, err := b.call(ctx, wire.AppendOpen(nil, sealed))
	if err != nil {
		return nil, fmt.Errorf("bridge: open: %w", err)
	}
	plaintext, err := wire.ParseOpened(answer)
	if err != nil {
		return nil, fmt.Errorf("bridge: open: %w", err)
	}
	return plaintext, nil
}
