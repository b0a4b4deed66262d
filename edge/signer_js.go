//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/latchauth/latch/wasm/engine"
)

// webCryptoSigner signs through the glue: the private keys from
// LATCH_SIGNING_KEYS are imported as non-extractable WebCrypto CryptoKeys in
// JavaScript, and Go only ever sees their public members and a sign
// function returning a Promise of the signature. The private key never
// enters Wasm memory, and signing runs in native code (~1 ms) rather than
// pure-Go RSA in Wasm (~10 ms). See RATIONALE.md, "Why does the signing key
// stay in WebCrypto?".
type webCryptoSigner struct {
	kid        string
	public     []engine.PublicKey
	sign       js.Value
	uint8Array js.Value
}

var _ engine.Signer = (*webCryptoSigner)(nil)

// newWebCryptoSigner reads the glue's signer object:
// {keys: [{kid, n, e, retired_at}, ...], kid, sign(Uint8Array) →
// Promise<Uint8Array>} or {error: "why"} when the key set could not be
// loaded. kid names the key sign uses.
func newWebCryptoSigner(obj js.Value) (*webCryptoSigner, error) {
	if obj.Type() != js.TypeObject {
		return nil, errors.New("LATCH_SIGNING_KEYS could not be loaded")
	}
	if msg := obj.Get("error"); msg.Type() == js.TypeString {
		return nil, errors.New(msg.String())
	}
	keys, sign := obj.Get("keys"), obj.Get("sign")
	if keys.Type() != js.TypeObject || sign.Type() != js.TypeFunction {
		return nil, errors.New("LATCH_SIGNING_KEYS could not be loaded")
	}
	s := &webCryptoSigner{kid: stringMember(obj, "kid"), sign: sign, uint8Array: js.Global().Get("Uint8Array")}
	for i := range keys.Length() {
		k := keys.Index(i)
		pk := engine.PublicKey{KID: stringMember(k, "kid"), N: stringMember(k, "n"), E: stringMember(k, "e")}
		if r := k.Get("retired_at"); r.Type() == js.TypeNumber {
			pk.RetiredAt = int64(r.Float())
		}
		if pk.KID == "" || pk.N == "" || pk.E == "" {
			return nil, fmt.Errorf("LATCH_SIGNING_KEYS key %d lacks kid, n or e", i)
		}
		s.public = append(s.public, pk)
	}
	if len(s.public) == 0 {
		return nil, errors.New("LATCH_SIGNING_KEYS holds no key")
	}
	return s, nil
}

// KeyID returns the kid of the key the glue signs with.
func (s *webCryptoSigner) KeyID() string { return s.kid }

// PublicKeys returns every configured key, retired ones included.
func (s *webCryptoSigner) PublicKeys() []engine.PublicKey { return s.public }

// Sign returns the RS256 signature of input made by WebCrypto.
func (s *webCryptoSigner) Sign(ctx context.Context, input []byte) ([]byte, error) {
	in := s.uint8Array.New(len(input))
	js.CopyBytesToJS(in, input)
	v, err := await(ctx, s.sign.Invoke(in))
	if err != nil {
		return nil, fmt.Errorf("edge: sign: %w", err)
	}
	if !v.InstanceOf(s.uint8Array) {
		return nil, errors.New("edge: sign: glue returned no Uint8Array")
	}
	sig := make([]byte, v.Length())
	js.CopyBytesToGo(sig, v)
	return sig, nil
}

// await blocks the calling goroutine (never a js.Func callback) until p
// settles or ctx is done.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{v: arg0(args)}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- settled{err: fmt.Errorf("edge: promise rejected: %s", describe(arg0(args)))}
		return nil
	})
	p.Call("then", onOK, onErr)
	select {
	case r := <-ch:
		onOK.Release()
		onErr.Release()
		return r.v, r.err
	case <-ctx.Done():
		// The callbacks may still fire; they write into the buffered
		// channel and are left for the instance to drop.
		return js.Value{}, ctx.Err()
	}
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// describe renders a rejection reason. The glue rejects with Errors whose
// messages it wrote itself, never key material.
func describe(v js.Value) string {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	if v.Type() == js.TypeString {
		return v.String()
	}
	return v.Type().String()
}
