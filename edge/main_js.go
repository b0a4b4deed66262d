//go:build js && wasm

package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"syscall/js"

	"github.com/latchauth/latch/wasm/engine"
)

// memoryLimit is the Go heap's soft limit: half the isolate's 128 MB, the
// rest left to Wasm linear memory overhead and to V8.
const memoryLimit = 64 << 20

// main wires the engine once for this Go instance, hands the glue its
// request handler and then parks: the instance lives as long as the isolate
// (or until it exits), serving every request the glue passes in.
func main() {
	// The live heap is small (well under 1 MB) and a request allocates
	// tens of kB: letting the heap grow to 5× the live heap (Go's 4 MB
	// minimum goal scales to 16 MB) before collecting, instead of 2×,
	// cuts GC work per request. A password hash holds a 19 MiB matrix,
	// which 5× would take past the isolate's 128 MB, so a soft memory
	// limit makes the collector work harder instead as the heap nears it.
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(memoryLimit)
	glue := js.Global().Get("context")
	binding := glue.Get("binding")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env := glue.Get("env")
	h, feed := handlerFromEnv(env, binding, logger)
	if m, ok := h.(misconfigured); ok {
		// Said once as the Worker starts (with the isolate: worker.mjs,
		// startEarly), and again with every request it refuses.
		logger.Error("edge: worker misconfigured", "reason", m.reason)
	}
	serve := newBridge(h, feed, engine.EnvOf(stringMember(env, varProjectID)), logger)
	binding.Set("handle", serve.fn)
	binding.Set("feedWait", serve.feedFn)
	binding.Call("ready")
	select {}
}
