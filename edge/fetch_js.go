//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/latchauth/latch/wasm/oauth"
)

// glueFetcher is the engine's oauth.Fetcher on the Worker: it fetches
// through the Workers runtime, by the glue's
//
//	binding.fetchOutbound(method, url, headers, body, timeoutMs, maxBytes, done) → abort
//
// headers in wire.go's string form, body a Uint8Array or null. The glue
// calls fetch with redirect "manual" (a 3xx is answered as it came) and an
// AbortSignal, refuses an answer whose Content-Length or whose stream
// passes maxBytes, gives up after timeoutMs, and calls done once:
// done(status, headers, body, "") with the answer, or done(0, "", null,
// why) when it failed. abort() ends the fetch; Fetch calls it when its
// context ends first. Fetching in JavaScript keeps Go's HTTP client
// (net/http's transport) out of the Worker's build. See RATIONALE.md,
// "Why is outbound HTTP a host capability?".
//
// The timeout is kept on both sides. The glue's timer is set by the
// request that fetches, so it fires while that request waits; a Go timer
// is set by whichever request last ran the Go instance, and on workerd it
// was seen not to fire once that request had ended, while others still
// waited on Go.
type glueFetcher struct {
	fetch      js.Value
	uint8Array js.Value
}

var _ oauth.Fetcher = (*glueFetcher)(nil)

// newGlueFetcher takes the glue's fetchOutbound function.
func newGlueFetcher(fetch js.Value) (*glueFetcher, error) {
	if fetch.Type() != js.TypeFunction {
		return nil, errors.New("the glue has no fetchOutbound function")
	}
	return &glueFetcher{fetch: fetch, uint8Array: js.Global().Get("Uint8Array")}, nil
}

// fetched is what the glue's done was given, read into Go.
type fetched struct {
	res *oauth.Response
	err error
}

// Fetch sends req and reads its answer whole, within oauth.Timeout and
// oauth.MaxResponseBody.
func (f *glueFetcher) Fetch(ctx context.Context, req *oauth.Request) (*oauth.Response, error) {
	method, where, err := checkOutbound(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, oauth.Timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("edge: fetch %s: %w", where, err)
	}
	body := js.Null()
	if len(req.Body) > 0 {
		body = f.uint8Array.New(len(req.Body))
		js.CopyBytesToJS(body, req.Body)
	}
	ch := make(chan fetched, 1)
	// done releases itself: the glue calls it exactly once, also after
	// an abort, when nobody here waits any more.
	var done js.Func
	done = js.FuncOf(func(_ js.Value, args []js.Value) any {
		done.Release()
		ch <- f.read(where, args)
		return nil
	})
	abort, err := invoke(f.fetch, method, req.URL, formatHeaders(req.Header), body,
		oauth.Timeout.Milliseconds(), oauth.MaxResponseBody, done)
	if err != nil {
		done.Release()
		return nil, fmt.Errorf("edge: fetch %s: %w", where, err)
	}
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		if abort.Type() == js.TypeFunction {
			_, _ = invoke(abort)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("edge: fetch %s: no answer within %v: %w", where, oauth.Timeout, ctx.Err())
		}
		return nil, fmt.Errorf("edge: fetch %s: %w", where, ctx.Err())
	}
}

// read turns done's arguments into the answer or the error; where names
// the request.
func (f *glueFetcher) read(where string, args []js.Value) fetched {
	fail := func(format string, a ...any) fetched {
		return fetched{err: fmt.Errorf("edge: fetch %s: "+format, append([]any{where}, a...)...)}
	}
	if len(args) != 4 {
		return fail("the glue answered without (status, headers, body, error)")
	}
	if why := args[3]; why.Type() == js.TypeString && why.String() != "" {
		// The glue's own words, or the runtime's: never a header or a
		// body, which may hold a token.
		return fail("%s", why.String())
	}
	status, head, body := args[0], args[1], args[2]
	if status.Type() != js.TypeNumber || head.Type() != js.TypeString || !body.InstanceOf(f.uint8Array) {
		return fail("the glue answered without (status, headers, body)")
	}
	if n := body.Length(); n > oauth.MaxResponseBody {
		return fail("answer larger than %d bytes", oauth.MaxResponseBody)
	}
	header, err := parseHeaders(head.String())
	if err != nil {
		return fail("%w", err)
	}
	out := make([]byte, body.Length())
	js.CopyBytesToGo(out, body)
	return fetched{res: &oauth.Response{Status: status.Int(), Header: header, Body: out}}
}

// invoke calls fn, turning a JavaScript exception into an error rather
// than a panic.
func invoke(fn js.Value, args ...any) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			var jsErr js.Error
			if e, ok := r.(error); ok && errors.As(e, &jsErr) {
				err = errors.New(describe(jsErr.Value))
				return
			}
			panic(r)
		}
	}()
	return fn.Invoke(args...), nil
}
