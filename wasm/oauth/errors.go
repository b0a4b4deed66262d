package oauth

import "errors"

// ErrConfig is wrapped by every error about the providers configuration.
var ErrConfig = errors.New("oauth: invalid provider configuration")

// Errors of a login through a provider, each wrapped with what went wrong
// (never a token or a secret).
var (
	// ErrParam: a pass-through parameter tried to set what Latch sets.
	ErrParam = errors.New("oauth: parameter not allowed")
	// ErrRefused: the provider refused the code (used, expired, or issued
	// to another client) or the login.
	ErrRefused = errors.New("oauth: the provider refused")
	// ErrIDToken: the ID token failed a check — signature, algorithm,
	// issuer, audience, nonce, expiry.
	ErrIDToken = errors.New("oauth: invalid ID token")
	// ErrProvider: the provider could not be reached, or answered what
	// no provider should.
	ErrProvider = errors.New("oauth: provider unavailable")
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
