//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"syscall/js"
)

// bridge is the request handler the glue calls:
//
//	binding.handle(method, url, headers, body, done)
//
// headers is the string form of wire.go, body a Uint8Array (or null), and
// done(status, headers, body) is called once with the response. handle
// returns at once; the engine runs on its own goroutine, since a js.Func
// callback must not block while the engine awaits D1 or WebCrypto.
type bridge struct {
	h      http.Handler
	env    string // "test" or "live", for the request ids of errors made here
	logger *slog.Logger
	fn     js.Func
}

func newBridge(h http.Handler, env string, logger *slog.Logger) *bridge {
	b := &bridge{h: h, env: env, logger: logger}
	b.fn = js.FuncOf(b.handle)
	return b
}

func (b *bridge) handle(_ js.Value, args []js.Value) any {
	if len(args) != 5 || args[4].Type() != js.TypeFunction {
		return js.Global().Get("Error").New("edge: handle wants (method, url, headers, body, done)")
	}
	method, url, headers, done := args[0].String(), args[1].String(), args[2].String(), args[4]
	var body []byte
	if b := args[3]; b.Type() == js.TypeObject {
		body = make([]byte, b.Length())
		js.CopyBytesToGo(body, b)
	}
	go b.serve(method, url, headers, body, done)
	return nil
}

func (b *bridge) serve(method, url, headers string, body []byte, done js.Value) {
	rec := newRecorder()
	defer func() {
		if v := recover(); v != nil {
			b.logger.Error("edge: panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rec = newRecorder()
			writeInternalError(rec, b.env, "An unexpected error occurred.")
		}
		status, out := rec.result()
		jsBody := js.Global().Get("Uint8Array").New(len(out))
		js.CopyBytesToJS(jsBody, out)
		done.Invoke(status, formatHeaders(rec.header), jsBody)
	}()
	r, err := newRequest(context.Background(), method, url, headers, body)
	if err != nil {
		b.logger.Error("edge: bad request from glue", "err", err)
		writeInternalError(rec, b.env, "The Worker could not read the request.")
		return
	}
	b.h.ServeHTTP(rec, r)
}
