//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall/js"

	"github.com/latchauth/latch/wasm/engine"
)

// webCryptoSecretBox seals through the glue: LATCH_SECRET_BOX_KEY is
// imported as a non-extractable AES-GCM CryptoKey in JavaScript, and Go
// only ever sees a seal and an open function, each returning a Promise of
// bytes. The glue writes and reads the layout of keys.SecretBox (version
// byte, 12-byte nonce from crypto.getRandomValues, ciphertext and tag), so
// a value sealed by either opens in the other. The key never enters Wasm
// memory. See RATIONALE.md, "Why does the Worker's secret box key stay in
// WebCrypto?".
type webCryptoSecretBox struct {
	seal, open js.Value
	uint8Array js.Value
}

var _ engine.SecretBox = (*webCryptoSecretBox)(nil)

// newWebCryptoSecretBox reads the glue's secret box object: undefined when
// LATCH_SECRET_BOX_KEY is not set (no box: nil, nil), {error: "why"} when it
// could not be imported, else {seal(Uint8Array) → Promise<Uint8Array>,
// open(Uint8Array) → Promise<Uint8Array>}.
func newWebCryptoSecretBox(obj js.Value) (*webCryptoSecretBox, error) {
	if obj.IsUndefined() {
		return nil, nil
	}
	if obj.Type() != js.TypeObject {
		return nil, errors.New("LATCH_SECRET_BOX_KEY could not be loaded")
	}
	if msg := obj.Get("error"); msg.Type() == js.TypeString {
		return nil, errors.New(msg.String())
	}
	seal, open := obj.Get("seal"), obj.Get("open")
	if seal.Type() != js.TypeFunction || open.Type() != js.TypeFunction {
		return nil, errors.New("LATCH_SECRET_BOX_KEY could not be loaded")
	}
	return &webCryptoSecretBox{seal: seal, open: open, uint8Array: js.Global().Get("Uint8Array")}, nil
}

// secretBoxFromBinding returns the engine's SecretBox: nil (a nil
// interface) when LATCH_SECRET_BOX_KEY is not set, so that the Worker runs
// without TOTP, or an error when the key is malformed. A Worker without
// TOTP is a choice an operator may make; a key that is there but broken is
// a mistake, and the Worker refuses to run on it.
func secretBoxFromBinding(binding js.Value, logger *slog.Logger) (engine.SecretBox, error) {
	box, err := newWebCryptoSecretBox(binding.Get("secretBox"))
	if err != nil {
		return nil, err
	}
	if box == nil {
		logger.Info("edge: " + secretBoxKey + " is not set: the TOTP endpoints answer 503 totp_unavailable")
		return nil, nil
	}
	return box, nil
}

// Seal encrypts plaintext with WebCrypto.
func (b *webCryptoSecretBox) Seal(ctx context.Context, plaintext []byte) ([]byte, error) {
	out, err := b.call(ctx, b.seal, plaintext)
	if err != nil {
		return nil, fmt.Errorf("edge: seal: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal (or keys.SecretBox under the same key) made.
func (b *webCryptoSecretBox) Open(ctx context.Context, sealed []byte) ([]byte, error) {
	out, err := b.call(ctx, b.open, sealed)
	if err != nil {
		return nil, fmt.Errorf("edge: open: %w", err)
	}
	return out, nil
}

// call hands in to the glue function fn and returns the bytes its Promise
// resolves with.
func (b *webCryptoSecretBox) call(ctx context.Context, fn js.Value, in []byte) ([]byte, error) {
	arg := b.uint8Array.New(len(in))
	js.CopyBytesToJS(arg, in)
	v, err := await(ctx, fn.Invoke(arg))
	if err != nil {
		return nil, err
	}
	if !v.InstanceOf(b.uint8Array) {
		return nil, errors.New("glue returned no Uint8Array")
	}
	out := make([]byte, v.Length())
	js.CopyBytesToGo(out, v)
	return out, nil
}
