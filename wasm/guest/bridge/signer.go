package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/guest/wire"
)

// signer asks the host to sign.
type signer struct {
	call   Call
	kid    string
	public []engine.PublicKey
}

// NewSigner returns an engine.Signer that asks the host to sign with the
// host key named kid and publishes public, which must include kid. The
// guest knows only the signing key's kid and the public keys; the private
// key never enters the guest's memory (see RATIONALE.md, "Why is the
// signer a host capability?"). The host refuses a kid it no longer holds.
func NewSigner(call Call, kid string, public []engine.PublicKey) (engine.Signer, error) {
	for _, k := range public {
		if k.KID == kid {
			return &signer{call: call, kid: kid, public: public}, nil
		}
	}
	return nil, fmt.Errorf("bridge: signing key %q is not among the public keys", kid)
}

func (s *signer) KeyID() string { return s.kid }

func (s *signer) PublicKeys() []engine.PublicKey { return s.public }

func (s *signer) Sign(ctx context.Context, input []byte) ([]byte, error) {
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
