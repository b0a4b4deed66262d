//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
// done(status, headers, body, after) is called once with the response.
// handle returns at once; the engine runs on another goroutine, since a
// js.Func callback must not block while the engine awaits D1 or WebCrypto.
// after is undefined, or a Promise of the work the engine left for after
// the answer (engine.Config.Later), which the glue hands to the request's
// waitUntil; it settles when that work is done.
//
// A feed read that asks to wait comes first through
//
//	binding.feedWait(url, headers, done)
//
// which calls done(0, "", null) when the read may wait, so the glue hands
// it to the feed's object, and otherwise answers it as handle does (see
// feedGate).
//
// Requests go to a few long-lived worker goroutines when one is idle, and
// to a fresh goroutine otherwise. A worker keeps the stack it grew serving
// earlier requests; a fresh goroutine starts small and pays for copying its
// stack several times as the engine's call depth grows.
type bridge struct {
	h          http.Handler
	feed       feedGate // nil: feed reads are answered by h
	env        string   // "test" or "live", for the request ids of errors made here
	logger     *slog.Logger
	fn, feedFn js.Func
	work       chan job
	uint8Array js.Value
}

// workers is the number of long-lived request goroutines.
const workers = 4

type job struct {
	method, url, headers string
	body                 []byte
	done                 js.Value
	feed                 bool // a feed read that asks to wait: through b.feed
}

func newBridge(h http.Handler, feed feedGate, env string, logger *slog.Logger) *bridge {
	b := &bridge{h: h, feed: feed, env: env, logger: logger, work: make(chan job), uint8Array: js.Global().Get("Uint8Array")}
	b.fn = js.FuncOf(b.handle)
	b.feedFn = js.FuncOf(b.handleFeedWait)
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
	b.dispatch(j)
	return nil
}

func (b *bridge) handleFeedWait(_ js.Value, args []js.Value) any {
	if len(args) != 3 || args[2].Type() != js.TypeFunction {
		return js.Global().Get("Error").New("edge: feedWait wants (url, headers, done)")
	}
	b.dispatch(job{method: http.MethodGet, url: args[0].String(), headers: args[1].String(), done: args[2], feed: true})
	return nil
}

func (b *bridge) dispatch(j job) {
	select {
	case b.work <- j:
	default:
		go b.serve(j)
	}
}

func (b *bridge) serve(j job) {
	rec := memhttp.NewRecorder()
	hold := false
	held := &laterWork{}
	defer func() {
		if v := recover(); v != nil {
			b.logger.Error("edge: panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rec, hold = memhttp.NewRecorder(), false
			engine.WriteError(rec, b.env, http.StatusInternalServerError, "internal_server_error", errorUnexpected)
		}
		if hold {
			j.done.Invoke(0, "", js.Null())
			return
		}
		status, header, out := rec.Result()
		jsBody := b.uint8Array.New(len(out))
		js.CopyBytesToJS(jsBody, out)
		if len(held.work) == 0 {
			j.done.Invoke(status, formatHeaders(header), jsBody)
			return
		}
		after, settle := newPromise()
		j.done.Invoke(status, formatHeaders(header), jsBody, after)
		b.runLater(held, settle)
	}()
	ctx := context.WithValue(context.Background(), laterKey{}, held)
	r, err := newRequest(ctx, j.method, j.url, j.headers, j.body)
	var badURL *url.Error
	if errors.As(err, &badURL) {
		// The runtime passes on what Go's URL parser refuses (a bad
		// percent-escape): the client's request, refused as net/http
		// refuses it on the Go hosts. The URL, which may hold a token
		// in its query, stays out of the log.
		b.logger.Info("edge: request URL refused", "err", badURL.Err)
		engine.WriteError(rec, b.env, http.StatusBadRequest, "bad_request", "The request's URL could not be read.")
		return
	}
	if err != nil {
		b.logger.Error("edge: bad request from glue", "err", err)
		engine.WriteError(rec, b.env, http.StatusInternalServerError, "internal_server_error", errorUnexpected)
		return
	}
	if j.feed && b.feed != nil {
		hold = b.feed(rec, r)
		return
	}
	b.h.ServeHTTP(rec, r)
}

// laterKey is the request context's key of its laterWork.
type laterKey struct{}

// laterWork is the work the engine left for after one request's answer.
// Only the request's own goroutine adds to it, before the answer.
type laterWork struct {
	work []func()
}

// later is the engine's Config.Later on the Worker: work on a request
// through the bridge waits for its answer (serve); any other runs now.
func later(ctx context.Context, work func(context.Context)) {
	held, ok := ctx.Value(laterKey{}).(*laterWork)
	if !ok {
		work(ctx)
		return
	}
	held.work = append(held.work, func() { work(ctx) })
}

// runLater runs the work held for a request once its answer is out, then
// settles the Promise the glue waits on; a panic in it is logged.
func (b *bridge) runLater(held *laterWork, settle func()) {
	defer settle()
	defer func() {
		if v := recover(); v != nil {
			b.logger.Error("edge: panic after an answer", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	for _, work := range held.work {
		work()
	}
}

// newPromise returns a pending JavaScript Promise and the function that
// fulfils it.
func newPromise() (js.Value, func()) {
	var resolve js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve = args[0]
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p, func() { resolve.Invoke() }
}
