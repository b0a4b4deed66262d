//go:build js && wasm

package main

import (
	"log/slog"
	"os"
	"syscall/js"

	"github.com/latchauth/latch/wasm/engine"
)

// main wires the engine once for this Go instance, hands the glue its
// request handler and then parks: the instance lives as long as the isolate
// (or until it exits), serving every request the glue passes in.
func main() {
	glue := js.Global().Get("context")
	binding := glue.Get("binding")
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env := glue.Get("env")
	h := handlerFromEnv(env, binding.Get("signer"), logger)
	serve := newBridge(h, engine.EnvOf(stringMember(env, varProjectID)), logger)
	binding.Set("handle", serve.fn)
	binding.Call("ready")
	select {}
}
