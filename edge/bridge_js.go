//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"syscall/js"

	"github.com/latchauth/latch/wasm/engine"
	"github.com/latchauth/latch/wasm/memhttp"
)

// bridge is the request handler the glue calls:
//
//	binding.handle(method, url, headers, body, done)
//
// headers is the string form of wire.go, body a Uint8Array (or null), and
// done(status, headers, body) is called once with the response. handle
// returns at once; the engine runs on another goroutine, since a js.Func
// callback must not block while the engine awaits D1 or WebCrypto.
//
// Requests go to a few long-lived worker goroutines when one is idle, and
// to a fresh goroutine otherwise. A worker keeps the stack it grew serving
// earlier requests; a fresh goroutine starts small and pays for copying its
// stack several times as the engine's call depth grows.
type bridge struct {
	h          http.Handler
	env        string // "test" or "live", for the request ids of errors made here
	logger     *slog.Logger
	fn         js.Func
	work       chan job
	uint8Array js.Value
}

// workers is the number of long-lived request goroutines.
const workers = 4

type job struct {
	method, url, headers string
	body                 []byte
	done                 js.Value
}

func newBridge(h http.Handler, env string, logger *slog.Logger) *bridge {
	b := &bridge{h: h, env: env, logger: logger, work: make(chan job), uint8Array: js.Global().Get("Uint8Array")}
	b.fn = js.FuncOf(b.handle)
	for range workers {
		go func() {
			for j := range b.work {
				b.serve(j)
			}
		}()
	}
	return b
}

func (b *bridge) handle(_ js.Value, args []js.Value) any {
	if len(args) != 5 || args[4].Type() != js.TypeFunction {
		return js.Global().Get("Error").New("edge: handle wants (method, url, headers, body, done)")
	}
	j := job{method: args[0].String(), url: args[1].String(), headers: args[2].String(), done: args[4]}
	if body := args[3]; body.Type() == js.TypeObject {
		j.body = make([]byte, body.Length())
		js.CopyBytesToGo(j.body, body)
	}
	select {
	case b.work <- j:
	default:
		go b.serve(j)
	}
	return nil
}

func (b *bridge) serve(j job) {
	rec := memhttp.NewRecorder()
	defer func() {
		if v := recover(); v != nil {
			b.logger.Error("edge: panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rec = memhttp.NewRecorder()
			engine.WriteError(rec, b.env, http.StatusInternalServerError, "internal_server_error", errorUnexpected)
		}
		status, header, out := rec.Result()
		jsBody := b.uint8Array.New(len(out))
		js.CopyBytesToJS(jsBody, out)
		j.done.Invoke(status, formatHeaders(header), jsBody)
	}()
	r, err := newRequest(context.Background(), j.method, j.url, j.headers, j.body)
	if err != nil {
		b.logger.Error("edge: bad request from glue", "err", err)
		engine.WriteError(rec, b.env, http.StatusInternalServerError, "internal_server_error", errorUnexpected)
		return
	}
	b.h.ServeHTTP(rec, r)
}
