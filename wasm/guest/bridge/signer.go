package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// Signer is an engine.Signer that asks the host to sign. The guest knows
// only the signing key's kid and the public keys; the private key never
// enters the guest's memory (see RATIONALE.md, "Why is the signer a host
// capability?").
type Signer struct {
	call   Call
	kid    string
	public []engine.PublicKey
}

var _ engine.Signer = (*Signer)(nil)

// NewSigner returns a signer that signs with the host key named kid and
// publishes public, which must include kid.
func NewSigner(call Call, kid string, public []engine.PublicKey) (*Signer, error) {
	for _, k := range public {
		if k.KID == kid {
			return &Signer{call: call, kid: kid, public: public}, nil
		}
	}
	return nil, fmt.Errorf("bridge: signing key %q is not among the public keys", kid)
}

// KeyID returns the kid of the host's signing key.
func (s *Signer) KeyID() string { return s.kid }

// PublicKeys returns the published keys, as configured.
func (s *Signer) PublicKeys() []engine.PublicKey { return s.public }

// Sign asks the host for the RS256 signature of input with the key KeyID
// names. The host refuses a kid it no longer holds.
func (s *Signer) Sign(ctx context.Context, input []byte) ([]byte, error) {
	answer, err := s.call(ctx, wire.AppendSign(nil, s.kid, input))
	if err != nil {
		return nil, fmt.Errorf("bridge: sign: %w", err)
	}
	sig, err := wire.ParseSignature(answer)
	if err != nil {
		return nil, fmt.Errorf("bridge: sign: %w", err)
	}
	return sig, nil
}
