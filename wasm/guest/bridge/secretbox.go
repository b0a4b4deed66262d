package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// secretBox asks the host to seal and open.
type secretBox struct {
	call Call
}

// NewSecretBox returns an engine.SecretBox that seals and opens with the
// host's key. The key stays in the host; the guest sends plaintext to be
// sealed (at most wire.MaxPlaintext bytes) and sealed values to be opened,
// and holds nothing that opens a value by itself (see RATIONALE.md, "Why
// are TOTP secrets sealed by the host?"). A value the host's key did not
// seal comes back from Open as the host's *wire.RemoteError.
func NewSecretBox(call Call) engine.SecretBox { return &secretBox{call: call} }

func (b *secretBox) Seal(ctx context.Context, plaintext []byte) ([]byte, error) {
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

func (b *secretBox) Open(ctx context.Context, sealed []byte) ([]byte, error) {
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
