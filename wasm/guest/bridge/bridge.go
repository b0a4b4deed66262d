// Package bridge gives the wasip1 engine its host capabilities as standard
// interfaces: a database/sql connector whose statements run in the host's
// SQLite, an engine.Signer whose private key stays in the host, an
// engine.Mailer whose transport stays in the host, an engine.SecretBox
// whose key stays in the host, an oauth.Fetcher whose requests the host
// makes, and the engine's Revoked hook, which wakes the feed reads the
// host holds. All six speak wasm/guest/wire frames through a Call, so
// they run and are tested natively as well as inside wazero.
//
// Bridge is Latch's implementation, not API, and may change in any
// release. The guest is its one user in production. It is not under
// internal/ because the host's tests (in testharness) drive it natively
// against the host's real store, signer, mail transport, secret box and
// fetcher: the guest's side of every frame, checked without a Wasm build.
package bridge

import (
	"context"
	"errors"
)

// Call hands one frame to the host and returns the host's answer frame.
// Inside the guest it is the imported "latch" "call" function; in native
// tests it may be the host's dispatcher itself.
type Call func(ctx context.Context, frame []byte) ([]byte, error)

// ErrNoTx is returned by Begin: the host store has no transactions, like
// D1, and the engine never opens one.
var ErrNoTx = errors.New("bridge: transactions are not supported")

// ErrNamedArgs is returned for a named SQL argument; use positional ones.
var ErrNamedArgs = errors.New("bridge: named arguments are not supported")
