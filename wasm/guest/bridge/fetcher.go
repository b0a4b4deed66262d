package bridge

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/wasm/guest/wire"
	"github.com/latchauth/latch/wasm/oauth"
)

// fetcher asks the host to make outbound requests.
type fetcher struct {
	call Call
}

// NewFetcher returns an oauth.Fetcher that hands every request to the
// host, which makes it with its own Fetcher and keeps the rules
// oauth.Fetcher states (no redirect followed, oauth.Timeout, at most
// oauth.MaxResponseBody of body, http and https only). A request the host
// got no answer to comes back as the host's *wire.RemoteError; one over
// the frame's bounds is refused before it is sent (see RATIONALE.md, "Why
// is outbound HTTP a host capability?").
func NewFetcher(call Call) oauth.Fetcher { return &fetcher{call: call} }

func (f *fetcher) Fetch(ctx context.Context, req *oauth.Request) (*oauth.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bridge: fetch: %w", err)
	}
	frame, err := wire.AppendFetch(nil, &wire.Fetch{Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body})
	if err != nil {
		return nil, fmt.Errorf("bridge: fetch: %w", err)
	}
	answer, err := f.call(ctx, frame)
	if err != nil {
		return nil, fmt.Errorf("bridge: fetch: %w", err)
	}
	got, err := wire.ParseFetched(answer)
	if err != nil {
		return nil, fmt.Errorf("bridge: fetch: %w", err)
	}
	return &oauth.Response{Status: got.Status, Header: got.Header, Body: got.Body}, nil
}
