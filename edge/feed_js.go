//go:build js && wasm

package main

import "syscall/js"

// bindingRevocations is the Durable Object binding of the revocation feed
// (wrangler.toml).
const bindingRevocations = "REVOCATIONS"

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
