//go:build js && wasm

package main

import (
	"net/http"
	"syscall/js"
)

// bindingRevocations is the Durable Object binding of the revocation feed
// (wrangler.toml).
const bindingRevocations = "REVOCATIONS"

// feedGate is engine.Engine.ServeFeedWait: it reports whether a feed read
// that asks to wait may be handed to the feed's object, and answers any
// other (no credentials, a refused wait or cursor) itself, at once. The
// glue asks it first (binding.feedWait), so that only the engine decides
// who may wait. See RATIONALE.md, "Why does the Worker's engine see a
// waiting read before the feed's object?".
type feedGate func(w http.ResponseWriter, r *http.Request) (hold bool)

// revokedNotifier returns engine.Config.Revoked for the Worker: the glue's
// notifyRevoked, which sends the feed's object a notify and returns at once
// (a failed notify is logged there; the reads it would have woken answer
// at their deadline, and D1 still holds every event). nil when the Worker
// has no REVOCATIONS binding: the glue then answers feed reads at once,
// without waiting. See RATIONALE.md, "Why does a Durable Object hold the
// feed's waiting reads?".
func revokedNotifier(env, binding js.Value) func() {
	if env.Get(bindingRevocations).Type() != js.TypeObject {
		return nil
	}
	notify := binding.Get("notifyRevoked")
	if notify.Type() != js.TypeFunction {
		return nil
	}
	return func() { notify.Invoke() }
}
