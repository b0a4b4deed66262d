package bridge

import (
	"context"
	"log/slog"

	"github.com/latchauth/latch/wasm/guest/wire"
)

// NewRevoked returns the engine's Config.Revoked for a guest: it tells the
// host that sessions ended early ('V' frame), so that the host wakes the
// revocation feed reads it holds. The host answers at once, so the engine
// waits only for the round trip. The events are already stored when it is
// called; a host that cannot be told delays its held reads until their
// wait passes, loses nothing, and the failure is logged to log.
func NewRevoked(call Call, log *slog.Logger) func() {
	return func() {
		answer, err := call(context.Background(), wire.AppendRevoked(nil))
		if err == nil {
			err = wire.ParseOK(answer)
		}
		if err != nil {
			log.Warn("bridge: revoked: the host was not told; its held feed reads wake when their wait passes", "error", err)
		}
	}
}
